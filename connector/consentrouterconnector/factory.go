// Package consentrouterconnector routes each log record by the consent
// processor's decision: "forward" records to the forward pipelines, every
// other record (quarantine, no decision, a malformed one) to the quarantine
// pipelines. It fails closed: nothing without a valid forward decision can
// reach a forward pipeline.
package consentrouterconnector

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/consentry/consentry/connector/consentrouterconnector/internal/metadata"
)

// NewFactory returns the consent_router connector factory.
func NewFactory() connector.Factory {
	return connector.NewFactory(metadata.Type, createDefaultConfig,
		connector.WithLogsToLogs(createLogsToLogs, metadata.LogsToLogsStability))
}

func createDefaultConfig() component.Config { return &Config{} }

func createLogsToLogs(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Logs) (connector.Logs, error) {
	return newRouter(cfg.(*Config), set, next)
}
