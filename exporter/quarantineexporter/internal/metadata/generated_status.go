// Package metadata holds the quarantine exporter's component type and
// stability, written by hand in the shape mdatagen would generate.
package metadata

import "go.opentelemetry.io/collector/component"

var (
	// Type is the exporter's configuration key.
	Type = component.MustNewType("quarantine")
	// ScopeName is the instrumentation scope of its telemetry.
	ScopeName = "github.com/consentry/consentry/exporter/quarantineexporter"
)

// LogsStability is the stability of the logs exporter.
const LogsStability = component.StabilityLevelAlpha
