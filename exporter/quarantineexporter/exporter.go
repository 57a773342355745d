package quarantineexporter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/consentry/consentry/exporter/quarantineexporter/internal/metadata"
	"github.com/consentry/consentry/internal/admission"
	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentledger"
)

// Reasons the exporter adds to a record's ledger entry (never to the
// record itself, which is stored as it arrived).
const (
	// ReasonMissingIdentity: the record had no tenant, vendor or event id;
	// the exporter stored it under "unknown" and an id derived from its
	// content rather than drop it.
	ReasonMissingIdentity = "quarantine.missing_identity"
	// ReasonNoReasons: the record reached quarantine without consent.reasons
	// (e.g. it bypassed the consent processor).
	ReasonNoReasons = "quarantine.no_reasons"
)

type quarantineExporter struct {
	cfg    *Config
	set    exporter.Settings
	ledger consentledger.Quarantine

	stored     metric.Int64Counter
	storedNew  metric.MeasurementOption
	storedDups metric.MeasurementOption
	refused    metric.Int64Counter
	idAttr     metric.MeasurementOption
}

func newExporter(cfg *Config, set exporter.Settings) (exporter.Logs, error) {
	q := &quarantineExporter{cfg: cfg, set: set}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	q.stored = tb.ConsentryQuarantineRecords
	id := attribute.String("exporter", set.ID.String())
	q.storedNew = metric.WithAttributeSet(attribute.NewSet(id, attribute.Bool("duplicate", false)))
	q.storedDups = metric.WithAttributeSet(attribute.NewSet(id, attribute.Bool("duplicate", true)))
	q.refused = tb.ConsentryQuarantineRefused
	q.idAttr = metric.WithAttributeSet(attribute.NewSet(id))
	exp, err := exporterhelper.NewLogs(context.Background(), set, cfg, q.push,
		exporterhelper.WithStart(q.start),
		// No queue and no retry in front of the ledger: the receiver's 2xx
		// must mean "committed", and a failed commit must reach the vendor
		// as 503 so that the vendor (which keeps the event) retries.
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: cfg.Timeout}),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
	)
	if err != nil || !cfg.Admission.Enabled {
		return exp, err
	}
	return &admitting{Logs: exp, q: q, ctl: admission.New(cfg.Admission.MaxWait)}, nil
}

// admitting puts admission control in front of the exporter (and so of
// the ledger): a batch whose estimated wait for its commit exceeds
// admission.max_wait is refused at once with a retryable error wrapping
// admission.ErrOverloaded, before anything is encoded or stored; the
// receiver answers 503 with Retry-After. It sits outside exporterhelper so
// that a refusal is not logged as a failed export, record by record, at the
// moment the collector can least afford it: refusals are counted in
// consentry.quarantine.refused instead.
type admitting struct {
	exporter.Logs
	q   *quarantineExporter
	ctl *admission.Controller
}

func (a *admitting) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	n := ld.LogRecordCount()
	if err := a.ctl.Admit(n); err != nil {
		a.q.refused.Add(ctx, int64(n), a.q.idAttr)
		return fmt.Errorf("quarantine: %w", err)
	}
	err := a.Logs.ConsumeLogs(ctx, ld)
	a.ctl.Done(n, err == nil)
	return err
}

func (q *quarantineExporter) start(_ context.Context, host component.Host) error {
	ext, err := consentledger.Find(host, q.cfg.Ledger)
	if err != nil {
		return err
	}
	q.ledger, err = ext.Quarantine(q.set.ID)
	return err
}

// push stores every record and returns once all are committed. A store
// failure is retryable (the receiver answers 503 and the vendor retries;
// records committed before the failure are then recognised as duplicates).
func (q *quarantineExporter) push(ctx context.Context, ld plog.Logs) error {
	recs, err := Records(ld, time.Now())
	if err != nil {
		return consumererror.NewPermanent(err)
	}
	if len(recs) == 0 {
		return nil
	}
	res, err := q.ledger.Append(ctx, recs)
	if err != nil {
		if errors.Is(err, consentledger.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return fmt.Errorf("consent ledger: %w", err)
		}
		// Not retryable by the ledger's reckoning (e.g. a corrupt database):
		// still not permanent for the vendor, whose event must not be lost;
		// the operator sees the error.
		q.set.Logger.Error("Consent ledger refused a batch", zap.Error(err))
		return fmt.Errorf("consent ledger: %w", err)
	}
	var added, dups int64
	for i := range res {
		switch {
		case res[i].Err != nil:
			// Records() fills every field Append requires, so this is a
			// bug; fail the batch rather than acknowledge a lost record.
			return fmt.Errorf("consent ledger refused record %d: %w", i, res[i].Err)
		case res[i].Duplicate:
			dups++
		default:
			added++
		}
	}
	if added > 0 {
		q.stored.Add(ctx, added, q.storedNew)
	}
	if dups > 0 {
		q.stored.Add(ctx, dups, q.storedDups)
	}
	return nil
}

// Records turns every log record of ld into a ledger record whose payload
// is the OTLP protobuf of a plog.Logs holding that record alone, with its
// resource and scope. A record without a tenant, vendor or event id is kept
// under "unknown" and an id derived from its payload, with the reason
// ReasonMissingIdentity. now is the received time of records that carry no
// observed timestamp.
func Records(ld plog.Logs, now time.Time) ([]consentledger.Record, error) {
	out := make([]consentledger.Record, 0, ld.LogRecordCount())
	var m plog.ProtoMarshaler
	single := ld.LogRecordCount() == 1
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := rl.Resource().Attributes()
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			lrs := sl.LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				var payload []byte
				var err error
				if single {
					payload, err = m.MarshalLogs(ld)
				} else {
					payload, err = m.MarshalLogs(one(rl, sl, lr))
				}
				if err != nil {
					return nil, fmt.Errorf("encoding record: %w", err)
				}
				out = append(out, record(res, lr, payload, now))
			}
		}
	}
	return out, nil
}

// one copies a record with its resource and scope into a new plog.Logs.
func one(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) plog.Logs {
	ld := plog.NewLogs()
	nrl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().CopyTo(nrl.Resource())
	nrl.SetSchemaUrl(rl.SchemaUrl())
	nsl := nrl.ScopeLogs().AppendEmpty()
	sl.Scope().CopyTo(nsl.Scope())
	nsl.SetSchemaUrl(sl.SchemaUrl())
	lr.CopyTo(nsl.LogRecords().AppendEmpty())
	return ld
}

func record(res pcommon.Map, lr plog.LogRecord, payload []byte, now time.Time) consentledger.Record {
	attrs := lr.Attributes()
	r := consentledger.Record{
		Tenant:        get(attrs, res, ccaas.AttrTenantID),
		Vendor:        get(attrs, res, ccaas.AttrVendor),
		EventID:       get(attrs, res, ccaas.AttrEventID),
		EventName:     lr.EventName(),
		SubjectKey:    get(attrs, res, ccaas.AttrSubjectKey),
		InteractionID: get(attrs, res, ccaas.AttrInteractionID),
		ConsentStatus: get(attrs, res, ccaas.AttrConsentStatus),
		Reasons:       ccaas.Strings(attrs, ccaas.AttrConsentReasons),
		OccurredAt:    lr.Timestamp().AsTime(),
		ReceivedAt:    lr.ObservedTimestamp().AsTime(),
		Payload:       payload,
	}
	if lr.Timestamp() == 0 {
		r.OccurredAt = time.Time{}
	}
	if lr.ObservedTimestamp() == 0 {
		r.ReceivedAt = now
	}
	if len(r.Reasons) == 0 {
		r.Reasons = []string{ReasonNoReasons}
	}
	if r.Tenant == "" || r.Vendor == "" || r.EventID == "" {
		r.Reasons = append(r.Reasons, ReasonMissingIdentity)
		if r.Tenant == "" {
			r.Tenant = "unknown"
		}
		if r.Vendor == "" {
			r.Vendor = "unknown"
		}
		if r.EventID == "" {
			r.EventID = contentID(lr, res)
		}
	}
	return r
}

// get reads a string attribute from the record, else from its resource.
func get(attrs, res pcommon.Map, key string) string {
	if v, ok := attrs.Get(key); ok {
		return v.AsString()
	}
	if v, ok := res.Get(key); ok {
		return v.AsString()
	}
	return ""
}

// contentID derives an event id from what the vendor sent: the record and
// its resource without the time the collector received it, so that a
// vendor's retry of the same event gets the same id and is stored once.
func contentID(lr plog.LogRecord, res pcommon.Map) string {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	res.CopyTo(rl.Resource().Attributes())
	c := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.CopyTo(c)
	c.SetObservedTimestamp(0)
	b, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	if err != nil {
		b = nil
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:16])
}
