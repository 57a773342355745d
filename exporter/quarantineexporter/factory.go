// Package quarantineexporter is the quarantine exporter: it writes every
// log record it receives into the consent ledger (the consent_ledger
// extension), encrypted and hash-chained, and returns only once the record
// is committed. Placed behind the consent_router's quarantine route it makes
// a receiver's 2xx mean "durable".
package quarantineexporter

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"

	"github.com/consentry/consentry/exporter/quarantineexporter/internal/metadata"
)

// NewFactory returns the quarantine exporter factory.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithLogs(createLogs, metadata.LogsStability))
}

func createLogs(_ context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	return newExporter(cfg.(*Config), set)
}
