// Package metadata holds the consent processor's component type and
// stability, written by hand in the shape mdatagen would generate (mdatagen
// newer than v0.159 is not available to this project).
package metadata

import "go.opentelemetry.io/collector/component"

var (
	// Type is the processor's configuration key.
	Type = component.MustNewType("consent")
	// ScopeName is the instrumentation scope of its telemetry.
	ScopeName = "github.com/consentry/consentry/processor/consentprocessor"
)

// LogsStability is the stability of the logs signal.
const LogsStability = component.StabilityLevelAlpha
