// Package metadata holds the segment receiver's component type and
// stability, written by hand in the shape mdatagen would generate (mdatagen
// newer than v0.159 is not available to this project).
package metadata

import "go.opentelemetry.io/collector/component"

var (
	// Type is the receiver's configuration key.
	Type = component.MustNewType("segment")
	// ScopeName is the instrumentation scope of the records it produces.
	ScopeName = "github.com/consentry/consentry/receiver/segmentreceiver"
)

// LogsStability is the stability of the logs signal.
const LogsStability = component.StabilityLevelAlpha
