// Package segmentreceiver receives Twilio Segment events two ways: as the
// destination of a Segment webhook (Webhooks Classic or Actions, signed with
// X-Signature), and as a first-party Segment HTTP Tracking API
// (/v1/track, /v1/batch, ...) that Segment's own SDKs can point at. It
// authenticates every request and turns each Segment event into one
// normalised log record.
package segmentreceiver

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/consentry/consentry/internal/tenant"
	"github.com/consentry/consentry/internal/webhook"
	"github.com/consentry/consentry/receiver/segmentreceiver/internal/metadata"
)

// NewFactory returns the segment receiver factory.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Receiver:  tenant.Defaults(),
		Config:    webhook.NewDefaultConfig(defaultEndpoint),
		TCFFields: append([]string(nil), defaultTCFFields...),
		GPPFields: append([]string(nil), defaultGPPFields...),
		USPFields: append([]string(nil), defaultUSPFields...),
	}
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newReceiver(cfg.(*Config), set, next)
}
