// Package metadata holds the consent_ledger extension's component type and
// stability, written by hand in the shape mdatagen would generate.
package metadata

import "go.opentelemetry.io/collector/component"

var (
	// Type is the extension's configuration key.
	Type = component.MustNewType("consent_ledger")
	// ScopeName is the instrumentation scope of its telemetry.
	ScopeName = "github.com/consentry/consentry/extension/consentledgerextension"
)

// ExtensionStability is the extension's stability.
const ExtensionStability = component.StabilityLevelAlpha
