package consentprocessor

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/policy"
	"github.com/consentry/consentry/processor/consentprocessor/internal/metadata"
)

// Attribute values that keep metric cardinality bounded.
const (
	otherVendor   = "_other"   // a ccaas.vendor Consentry does not know
	unknownTenant = "_unknown" // a tenant the policy does not list (or tenant_attribute: false)
)

// telemetry holds the processor's own metrics. Deciding a record only
// increments atomic counters (per vendor and tenant, resolved once per
// batch); the counters are reported through observable instruments when
// metrics are collected, so the hot path never builds attribute sets.
type telemetry struct {
	processor       string
	tenantAttribute bool
	reloads         metric.Int64Counter
	reloadOpts      [2]metric.MeasurementOption
	reg             metric.Registration

	mu    sync.RWMutex
	cells map[cellKey]*counters

	eval atomic.Pointer[Evaluator] // for the store counters
}

type cellKey struct{ vendor, tenant string }

// counters count one vendor tenant's decisions.
type counters struct {
	records [2][4]atomic.Int64 // decision × status
	reasons [2][]atomic.Int64  // decision × reason (index in policy.Reasons)
}

var (
	reasonIndex = func() map[policy.Reason]int {
		m := make(map[policy.Reason]int, len(policy.Reasons))
		for i, r := range policy.Reasons {
			m[r.Code] = i
		}
		return m
	}()
	statuses  = [4]policy.Status{policy.StatusGranted, policy.StatusDenied, policy.StatusUnknown, policy.StatusNotRequired}
	decisions = [2]string{policy.DecisionForward, policy.DecisionQuarantine}
	results   = [4]consentstore.Result{consentstore.Hit, consentstore.NegativeHit, consentstore.Miss, consentstore.Error}
)

func statusIndex(s policy.Status) int {
	switch s {
	case policy.StatusGranted:
		return 0
	case policy.StatusDenied:
		return 1
	case policy.StatusNotRequired:
		return 3
	default:
		return 2
	}
}

func decisionIndex(d *policy.Decision) int {
	if d.Forward {
		return 0
	}
	return 1
}

func newTelemetry(set component.TelemetrySettings, processorID string, tenantAttribute bool) (*telemetry, error) {
	tb, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	t := &telemetry{processor: processorID, tenantAttribute: tenantAttribute, cells: map[cellKey]*counters{}}
	records, reasons := tb.ConsentryConsentRecords, tb.ConsentryConsentReasons
	lookups, writes := tb.ConsentryConsentStoreLookups, tb.ConsentryConsentStoreWrites
	t.reloads = tb.ConsentryConsentPolicyReloads
	t.reloadOpts = [2]metric.MeasurementOption{t.resultOption("ok"), t.resultOption("error")}
	t.reg, err = tb.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		t.observe(o, records, reasons, lookups, writes)
		return nil
	}, records, reasons, lookups, writes)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (t *telemetry) resultOption(result string) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String("processor", t.processor), attribute.String("result", result)))
}

func (t *telemetry) observe(o metric.Observer, records, reasons, lookups, writes metric.Int64Observable) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for k, c := range t.cells {
		base := []attribute.KeyValue{attribute.String("processor", t.processor), attribute.String("vendor", k.vendor)}
		if t.tenantAttribute {
			base = append(base, attribute.String("tenant", k.tenant))
		}
		for di, dec := range decisions {
			for si, st := range statuses {
				if n := c.records[di][si].Load(); n > 0 {
					o.ObserveInt64(records, n, metric.WithAttributes(append(slices.Clip(base),
						attribute.String("decision", dec), attribute.String("status", string(st)))...))
				}
			}
			for ri := range c.reasons[di] {
				if n := c.reasons[di][ri].Load(); n > 0 {
					o.ObserveInt64(reasons, n, metric.WithAttributes(append(slices.Clip(base),
						attribute.String("decision", dec), attribute.String("reason", string(policy.Reasons[ri].Code)))...))
				}
			}
		}
	}
	if e := t.eval.Load(); e != nil {
		for _, r := range results {
			o.ObserveInt64(lookups, e.lookups[r].Load(), t.observeResult(r.String()))
		}
		o.ObserveInt64(writes, e.writes[0].Load(), t.observeResult("ok"))
		o.ObserveInt64(writes, e.writes[1].Load(), t.observeResult("error"))
	}
}

func (t *telemetry) observeResult(result string) metric.ObserveOption {
	return metric.WithAttributes(attribute.String("processor", t.processor), attribute.String("result", result))
}

func (t *telemetry) shutdown() {
	if t != nil && t.reg != nil {
		_ = t.reg.Unregister()
	}
}

// countersFor returns the counters of a vendor tenant (nil without
// telemetry). Vendors Consentry does not know and tenants the policy does
// not list share one cell each, so cardinality stays bounded by the policy.
func (t *telemetry) countersFor(pol *policy.Policy, vendor, tenant string) *counters {
	if t == nil {
		return nil
	}
	if !slices.Contains(policy.KnownVendors, vendor) {
		vendor = otherVendor
	}
	if !t.tenantAttribute || pol == nil || !pol.HasTenant(vendor, tenant) {
		tenant = unknownTenant
	}
	k := cellKey{vendor, tenant}
	t.mu.RLock()
	c := t.cells[k]
	t.mu.RUnlock()
	if c != nil {
		return c
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c = t.cells[k]; c == nil {
		c = &counters{}
		for i := range c.reasons {
			c.reasons[i] = make([]atomic.Int64, len(policy.Reasons))
		}
		t.cells[k] = c
	}
	return c
}

// count adds one decision.
func (c *counters) count(d *policy.Decision) {
	if c == nil {
		return
	}
	di := decisionIndex(d)
	c.records[di][statusIndex(d.Status)].Add(1)
	for _, r := range d.Reasons {
		if i, ok := reasonIndex[r]; ok {
			c.reasons[di][i].Add(1)
		}
	}
}

func (t *telemetry) reload(ctx context.Context, err error) {
	if t != nil {
		t.reloads.Add(ctx, 1, t.reloadOpts[errIndex(err)])
	}
}
