package consentrouterconnector

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/consentry/consentry/connector/consentrouterconnector/internal/metadata"
	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentroute"
)

const (
	// ReasonInvalidDecision is added to consent.reasons of a record that
	// reached the router without a valid consent.decision.
	ReasonInvalidDecision = "router.invalid_decision"
)

type router struct {
	id         component.ID
	ledger     consentledger.ID
	unregister func()
	// unroute withdraws the router's registration with consentroute.
	unroute func()

	forward    consumer.Logs
	quarantine consumer.Logs
	records    metric.Int64Counter
	fwdAttrs   metric.MeasurementOption
	qAttrs     metric.MeasurementOption
	badAttrs   metric.MeasurementOption
}

func newRouter(cfg *Config, set connector.Settings, next consumer.Logs) (*router, error) {
	lr, ok := next.(connector.LogsRouterAndConsumer)
	if !ok {
		return nil, errors.New("consent_router needs its pipelines as a router; is it used as a logs to logs connector?")
	}
	fwd, err := lr.Consumer(cfg.Forward...)
	if err != nil {
		return nil, fmt.Errorf("forward pipelines: %w", err)
	}
	q, err := lr.Consumer(cfg.Quarantine...)
	if err != nil {
		return nil, fmt.Errorf("quarantine pipelines: %w", err)
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	id := attribute.String("connector", set.ID.String())
	return &router{
		id:         set.ID,
		ledger:     cfg.Ledger,
		forward:    fwd,
		quarantine: q,
		records:    tb.ConsentryRouterRecords,
		fwdAttrs:   metric.WithAttributeSet(attribute.NewSet(id, attribute.String("route", ccaas.DecisionForward), attribute.Bool("invalid", false))),
		qAttrs:     metric.WithAttributeSet(attribute.NewSet(id, attribute.String("route", ccaas.DecisionQuarantine), attribute.Bool("invalid", false))),
		badAttrs:   metric.WithAttributeSet(attribute.NewSet(id, attribute.String("route", ccaas.DecisionQuarantine), attribute.Bool("invalid", true))),
	}, nil
}

// Start tells the consent processors of this collector that a router
// follows them (package consentroute), and registers the forward pipelines
// with the ledger extension, if one is configured: released records are
// pushed into them.
func (r *router) Start(_ context.Context, host component.Host) error {
	if r.unroute == nil {
		r.unroute = consentroute.Register(host, r.id)
	}
	if !r.ledger.IsSet() {
		return nil
	}
	ext, err := consentledger.Find(host, r.ledger)
	if err != nil {
		return err
	}
	r.unregister = ext.Releases().RegisterForward(r.id, r.forward)
	return nil
}

// Shutdown removes the registrations.
func (r *router) Shutdown(context.Context) error {
	if r.unroute != nil {
		r.unroute()
		r.unroute = nil
	}
	if r.unregister != nil {
		r.unregister()
		r.unregister = nil
	}
	return nil
}

// Capabilities: records are moved out of the incoming batch when it must be
// split, and invalid decisions are rewritten.
func (r *router) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: true}
}

// verdict classifies one record.
type verdict uint8

const (
	toForward verdict = iota
	toQuarantine
	toQuarantineInvalid
)

func classify(lr plog.LogRecord) verdict {
	switch d, valid := ccaas.Decision(lr.Attributes()); {
	case !valid:
		return toQuarantineInvalid
	case d == ccaas.DecisionForward:
		return toForward
	default:
		return toQuarantine
	}
}

// markInvalid makes the record say why it was quarantined.
func markInvalid(lr plog.LogRecord) {
	attrs := lr.Attributes()
	attrs.PutStr(ccaas.AttrConsentDecision, ccaas.DecisionQuarantine)
	var reasons pcommon.Slice
	if v, ok := attrs.Get(ccaas.AttrConsentReasons); ok && v.Type() == pcommon.ValueTypeSlice {
		reasons = v.Slice()
	} else {
		reasons = attrs.PutEmptySlice(ccaas.AttrConsentReasons)
	}
	reasons.AppendEmpty().SetStr(ReasonInvalidDecision)
}

// ConsumeLogs routes the batch. The common case (a webhook carries one event,
// or every record has the same decision) passes the batch on untouched;
// mixed batches are split by moving records, never copying them. Quarantine
// is delivered first: if it fails, nothing is forwarded, so the vendor's
// retry cannot duplicate forwarded records.
func (r *router) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	nFwd, nQ, nBad := 0, 0, 0
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				switch classify(lr) {
				case toForward:
					nFwd++
				case toQuarantine:
					nQ++
				default:
					markInvalid(lr)
					nBad++
				}
			}
		}
	}
	r.count(ctx, nFwd, nQ, nBad)
	switch {
	case nFwd == 0 && nQ+nBad == 0:
		return nil
	case nFwd == 0:
		return r.quarantine.ConsumeLogs(ctx, ld)
	case nQ+nBad == 0:
		return r.forward.ConsumeLogs(ctx, ld)
	}
	fwd := split(ld)
	if err := r.quarantine.ConsumeLogs(ctx, ld); err != nil {
		return err
	}
	return r.forward.ConsumeLogs(ctx, fwd)
}

// split moves the forward records of ld into a new batch (keeping their
// resource and scope) and leaves only quarantine records in ld.
func split(ld plog.Logs) plog.Logs {
	fwd := plog.NewLogs()
	for _, rl := range ld.ResourceLogs().All() {
		var dstRL plog.ResourceLogs
		for _, sl := range rl.ScopeLogs().All() {
			var dstSL plog.ScopeLogs
			sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				if classify(lr) != toForward {
					return false
				}
				if dstSL == (plog.ScopeLogs{}) {
					if dstRL == (plog.ResourceLogs{}) {
						dstRL = fwd.ResourceLogs().AppendEmpty()
						rl.Resource().CopyTo(dstRL.Resource())
						dstRL.SetSchemaUrl(rl.SchemaUrl())
					}
					dstSL = dstRL.ScopeLogs().AppendEmpty()
					sl.Scope().CopyTo(dstSL.Scope())
					dstSL.SetSchemaUrl(sl.SchemaUrl())
				}
				lr.MoveTo(dstSL.LogRecords().AppendEmpty())
				return true
			})
		}
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool { return sl.LogRecords().Len() == 0 })
	}
	ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool { return rl.ScopeLogs().Len() == 0 })
	return fwd
}

func (r *router) count(ctx context.Context, fwd, q, bad int) {
	if fwd > 0 {
		r.records.Add(ctx, int64(fwd), r.fwdAttrs)
	}
	if q > 0 {
		r.records.Add(ctx, int64(q), r.qAttrs)
	}
	if bad > 0 {
		r.records.Add(ctx, int64(bad), r.badAttrs)
	}
}
