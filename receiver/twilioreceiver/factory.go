// Package twilioreceiver receives Twilio events (Event Streams webhook sinks,
// Programmable Voice status and recording callbacks, TaskRouter event
// callbacks and Conversations webhooks, which together carry Twilio Flex),
// verifies their X-Twilio-Signature and turns each event into one normalised
// log record.
package twilioreceiver

import (
	"context"
	"slices"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/consentry/consentry/internal/tenant"
	"github.com/consentry/consentry/internal/webhook"
	"github.com/consentry/consentry/receiver/twilioreceiver/internal/metadata"
)

// NewFactory returns the twilio receiver factory.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	cfg := &Config{Config: webhook.NewDefaultConfig(defaultEndpoint), Receiver: tenant.Defaults()}
	// Event Streams retries for up to four hours, classic callbacks are
	// retried only through connection overrides: a day covers both with
	// room to spare.
	cfg.Dedup.TTL = defaultDedupTTL
	cfg.Messaging = MessagingConfig{
		ConsentSignal:  "messaging",
		OptOutKeywords: slices.Clone(defaultOptOutKeywords),
		OptInKeywords:  slices.Clone(defaultOptInKeywords),
		HelpKeywords:   slices.Clone(defaultHelpKeywords),
	}
	cfg.Conference = ConferenceConfig{AgentLabels: []string{"worker", "agent"}, CustomerLabels: []string{"customer"}}
	return cfg
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newReceiver(cfg.(*Config), set, next)
}
