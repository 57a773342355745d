// Package consentprocessor decides, for every log record, whether the
// person behind it agreed to what is happening to their data, and writes
// the answer on the record (consent.status, consent.decision,
// consent.reasons and the other consent.* attributes); the consent_router
// connector forwards or quarantines on consent.decision. Without a router
// after it, it withholds what it quarantines (unrouted.go). See README.md
// and docs/policy.md.
package consentprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/consentry/consentry/processor/consentprocessor/internal/metadata"
)

// NewFactory returns the consent processor factory.
func NewFactory() processor.Factory {
	return processor.NewFactory(metadata.Type, createDefaultConfig,
		processor.WithLogs(createLogs, metadata.LogsStability))
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	pl, _, err := newLogs(ctx, set, cfg.(*Config), next)
	return pl, err
}

func newLogs(ctx context.Context, set processor.Settings, cfg *Config, next consumer.Logs) (processor.Logs, *consentProcessor, error) {
	p, err := newConsentProcessor(cfg, set)
	if err != nil {
		return nil, nil, err
	}
	pl, err := processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}),
		processorhelper.WithStart(p.start),
		processorhelper.WithShutdown(p.shutdown))
	return pl, p, err
}
