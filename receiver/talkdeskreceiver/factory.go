// Package talkdeskreceiver receives Talkdesk events (HTTP Notifier
// automations, Webhook Trigger API callbacks and Events API deliveries),
// authenticates them and turns each into a normalised log record.
package talkdeskreceiver

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/consentry/consentry/internal/tenant"
	"github.com/consentry/consentry/internal/webhook"
	"github.com/consentry/consentry/receiver/talkdeskreceiver/internal/metadata"
)

// NewFactory returns the talkdesk receiver factory.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Receiver:    tenant.Defaults(),
		Config:      webhook.NewDefaultConfig(defaultEndpoint),
		TokenHeader: defaultTokenHeader,
		Fields:      defaultFields(),
	}
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newReceiver(cfg.(*Config), set, next)
}
