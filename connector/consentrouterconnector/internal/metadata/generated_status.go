// Package metadata holds the consent_router connector's component type and
// stability, written by hand in the shape mdatagen would generate.
package metadata

import "go.opentelemetry.io/collector/component"

var (
	// Type is the connector's configuration key.
	Type = component.MustNewType("consent_router")
	// ScopeName is the instrumentation scope of its telemetry.
	ScopeName = "github.com/consentry/consentry/connector/consentrouterconnector"
)

// LogsToLogsStability is the stability of the logs to logs route.
const LogsToLogsStability = component.StabilityLevelAlpha
