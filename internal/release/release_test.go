package release

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/ledger"
)

// memLedger is the part of the ledger release uses, in memory: records
// listed newest first, as the ledger does.
type memLedger struct {
	mu       sync.Mutex
	recs     []ledger.StoredRecord
	getErr   map[string]error
	markErr  error
	marks    [][]string
	released map[string]bool
}

func newMemLedger(n int, body func(i int) string) *memLedger {
	m := &memLedger{getErr: map[string]error{}, released: map[string]bool{}}
	for i := range n {
		ld := plog.NewLogs()
		lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.Body().SetStr(body(i))
		b, _ := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
		m.recs = append(m.recs, ledger.StoredRecord{RecordMeta: ledger.RecordMeta{ID: fmt.Sprintf("r%04d", i), Tenant: "t1"}, Payload: b})
	}
	return m
}

func (m *memLedger) List(_ context.Context, f ledger.Filter, p ledger.Page) (ledger.RecordPage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f.Released != ledger.UnreleasedOnly {
		return ledger.RecordPage{}, errors.New("release must list unreleased records only")
	}
	start := 0
	if p.Token != "" {
		start, _ = strconv.Atoi(p.Token)
	}
	var out ledger.RecordPage
	i := start
	for ; i < len(m.recs) && len(out.Records) < p.Size; i++ {
		r := m.recs[len(m.recs)-1-i]
		if r.Tenant == f.Tenant && !m.released[r.ID] {
			out.Records = append(out.Records, r.RecordMeta)
		}
	}
	if i < len(m.recs) {
		out.NextToken = strconv.Itoa(i)
	}
	return out, nil
}

func (m *memLedger) Get(_ context.Context, id string) (*ledger.StoredRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.getErr[id]; err != nil {
		return nil, err
	}
	for i := range m.recs {
		if m.recs[i].ID == id {
			r := m.recs[i]
			return &r, nil
		}
	}
	return nil, ledger.ErrNotFound
}

func (m *memLedger) MarkReleased(ctx context.Context, ids []string, caller, reason string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.markErr != nil {
		return nil, m.markErr
	}
	if caller == "" || reason == "" {
		return nil, errors.New("marker without caller or reason")
	}
	m.marks = append(m.marks, append([]string(nil), ids...))
	for _, id := range ids {
		m.released[id] = true
	}
	return ids, nil
}

// byBody forwards records whose body is "ok".
var byBody = consentledger.EvaluatorFunc(func(_ context.Context, ld plog.Logs) error {
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	d := ccaas.DecisionQuarantine
	if lr.Body().Str() == "ok" {
		d = ccaas.DecisionForward
	}
	lr.Attributes().PutStr(ccaas.AttrConsentDecision, d)
	return nil
})

func newReleaser(t *testing.T, l Ledger, next *consumertest.LogsSink) *Releaser {
	var hub consentledger.Hub
	t.Cleanup(hub.RegisterEvaluator(component.MustNewID("consent"), byBody))
	t.Cleanup(hub.RegisterForward(component.MustNewID("consent_router"), next))
	return New(l, &hub)
}

var byTenant = ledger.Filter{Tenant: "t1"}

func TestReleaseRequests(t *testing.T) {
	r := newReleaser(t, newMemLedger(1, func(int) string { return "ok" }), new(consumertest.LogsSink))
	for name, req := range map[string]Request{
		"no reason":        {Filter: byTenant},
		"empty filter":     {Reason: "r"},
		"only released":    {Filter: ledger.Filter{Tenant: "t1", Released: ledger.ReleasedOnly}, Reason: "r"},
		"negative limit":   {Filter: byTenant, Reason: "r", Limit: -1},
		"limit over bound": {Filter: byTenant, Reason: "r", Limit: MaxLimit + 1},
	} {
		_, err := r.Release(context.Background(), req)
		assert.ErrorIs(t, err, ErrInvalid, name)
	}

	var hub consentledger.Hub
	_, err := New(newMemLedger(1, func(int) string { return "ok" }), &hub).Release(context.Background(), Request{Filter: byTenant, Reason: "r"})
	require.ErrorIs(t, err, ErrNotReady)
	require.ErrorIs(t, err, consentledger.ErrNoEvaluator)
}

func TestReleaseForwardsAndMarks(t *testing.T) {
	ctx := context.Background()
	// 250 records, every third one still quarantined.
	l := newMemLedger(250, func(i int) string {
		if i%3 == 0 {
			return "no"
		}
		return "ok"
	})
	l.getErr["r0001"] = ledger.ErrErased
	l.getErr["r0002"] = ledger.ErrPurged
	sink := new(consumertest.LogsSink)
	r := newReleaser(t, l, sink)

	dry, err := r.Release(ctx, Request{Filter: byTenant, DryRun: true, Caller: "carol", Reason: "consent arrived"})
	require.NoError(t, err)
	assert.Equal(t, 250, dry.Evaluated)
	assert.Equal(t, 166-2, dry.Eligible, "166 of 250 allowed, less the two unreadable")
	assert.Zero(t, dry.Forwarded)
	assert.Zero(t, sink.LogRecordCount())
	assert.Empty(t, l.marks, "a dry run marks nothing")

	res, err := r.Release(ctx, Request{Filter: byTenant, Limit: 200, Caller: "carol", Reason: "consent arrived"})
	require.NoError(t, err)
	assert.Equal(t, 200, res.Evaluated)
	assert.True(t, res.More, "the limit stopped it")
	assert.Equal(t, res.Eligible, res.Forwarded)
	assert.Equal(t, res.Forwarded, res.Released)
	assert.Equal(t, res.Forwarded, sink.LogRecordCount())
	for _, batch := range l.marks {
		assert.LessOrEqual(t, len(batch), markBatch, "markers are written in batches")
	}
	for _, o := range res.Outcomes {
		switch o.RecordID {
		case "r0001":
			assert.ErrorIs(t, o.Err, ledger.ErrErased)
		case "r0002":
			assert.ErrorIs(t, o.Err, ledger.ErrPurged)
		}
		if o.Err != nil {
			assert.False(t, o.Forwarded)
		}
		assert.Equal(t, o.Forwarded, o.Released, o.RecordID)
	}

	rest, err := r.Release(ctx, Request{Filter: byTenant, Caller: "carol", Reason: "consent arrived"})
	require.NoError(t, err)
	assert.False(t, rest.More)
	assert.Equal(t, dry.Eligible, res.Forwarded+rest.Forwarded, "every allowed record released once")
	assert.Equal(t, dry.Eligible, sink.LogRecordCount())
}

// cancelling forwards one record, then the caller goes away.
type cancelling struct {
	consumertest.LogsSink
	cancel context.CancelFunc
}

func (c *cancelling) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	defer c.cancel()
	return c.LogsSink.ConsumeLogs(ctx, ld)
}

// TestForwardedRecordsAreMarkedWhenTheCallerGoesAway: a record handed to
// the forward pipeline is marked released even when the call ends right
// after, so that a retry does not forward it again.
func TestForwardedRecordsAreMarkedWhenTheCallerGoesAway(t *testing.T) {
	l := newMemLedger(5, func(int) string { return "ok" })
	ctx, cancel := context.WithCancel(context.Background())
	sink := &cancelling{cancel: cancel}
	var hub consentledger.Hub
	hub.RegisterEvaluator(component.MustNewID("consent"), byBody)
	hub.RegisterForward(component.MustNewID("consent_router"), sink)
	_, err := New(l, &hub).Release(ctx, Request{Filter: byTenant, Caller: "carol", Reason: "r"})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 1, sink.LogRecordCount())
	assert.Equal(t, [][]string{{"r0004"}}, l.marks, "the forwarded record is marked")
}

func TestMarkerFailureEndsTheRelease(t *testing.T) {
	l := newMemLedger(3, func(int) string { return "ok" })
	l.markErr = errors.New("disk full")
	_, err := newReleaser(t, l, new(consumertest.LogsSink)).Release(context.Background(), Request{Filter: byTenant, Caller: "c", Reason: "r"})
	require.ErrorContains(t, err, "disk full")
}
