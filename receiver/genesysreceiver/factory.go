// Package genesysreceiver receives Genesys Cloud events (EventBridge API
// destinations, Process Automation / data action notifications, and Open
// Messaging webhooks), verifies them and turns each into one normalised log
// record.
package genesysreceiver

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/consentry/consentry/internal/tenant"
	"github.com/consentry/consentry/internal/webhook"
	"github.com/consentry/consentry/receiver/genesysreceiver/internal/metadata"
)

// NewFactory returns the genesys receiver factory.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Receiver:     tenant.Defaults(),
		Config:       webhook.NewDefaultConfig(defaultEndpoint),
		APIKeyHeader: "X-API-Key",
	}
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newReceiver(cfg.(*Config), set, next)
}
