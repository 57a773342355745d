// Package consentledgerextension is the consent_ledger extension: it owns
// Consentry's consent ledger (SQLite by default, PostgreSQL at scale), an
// encrypted, hash-chained store of quarantined records, consent records and
// the auditor access log. The quarantine exporter writes through it; the
// consent processor uses it as its consent store; the consent_router
// registers its forward pipeline with it so that released records can flow
// again.
package consentledgerextension

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/consentry/consentry/extension/consentledgerextension/internal/metadata"
)

// NewFactory returns the consent_ledger extension factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type,
		func() component.Config { return createDefaultConfig() },
		createExtension, metadata.ExtensionStability)
}

func createExtension(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(cfg.(*Config), set), nil
}
