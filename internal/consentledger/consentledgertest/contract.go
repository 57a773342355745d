package consentledgertest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentstore"
)

// Harness is one implementation of consentledger.Extension under the
// contract test suite, with the two operations that are not part of the
// components' contract: reading back what was stored, and releasing (what
// the auditor API does).
type Harness struct {
	// Ledger is the implementation, created and not started.
	Ledger consentledger.Extension
	// Stored returns the quarantined records of tenant as stored (payload
	// decrypted), in any order, with their released markers.
	Stored func(ctx context.Context, tenant string) ([]Stored, error)
	// Release releases the subject's unreleased records: each is
	// re-evaluated and, when now decided "forward" and dryRun is false,
	// pushed into the forward pipeline and marked released. It returns
	// how many were forwarded. A record the pipeline refused is not
	// counted and stays unreleased; an error means release could not run.
	Release func(ctx context.Context, tenant, subject string, dryRun bool) (forwarded int, err error)
}

// FakeHarness is the Harness of a new Fake.
func FakeHarness(*testing.T) Harness {
	f := New()
	return Harness{
		Ledger: f,
		Stored: func(_ context.Context, tenant string) ([]Stored, error) {
			var out []Stored
			for _, s := range f.Records() {
				if s.Tenant == tenant {
					out = append(out, s)
				}
			}
			return out, nil
		},
		Release: f.Release,
	}
}

var (
	exporterID  = component.MustNewID("quarantine")
	processorID = component.MustNewID("consent")
	routerID    = component.MustNewID("consent_router")
)

// RunContract runs the contract test suite against the implementation
// that newHarness creates (a new, empty one for each subtest).
func RunContract(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("ClientsNeedARunningLedger", func(t *testing.T) { testLifecycle(t, newHarness(t)) })
	t.Run("QuarantineAppend", func(t *testing.T) { testQuarantine(t, started(t, newHarness)) })
	t.Run("ConsentStore", func(t *testing.T) { testConsents(t, started(t, newHarness)) })
	t.Run("ReleasePushesIntoTheForwardPipeline", func(t *testing.T) { testRelease(t, started(t, newHarness)) })
	t.Run("ReleaseNeedsExactlyOneOfEach", func(t *testing.T) { testRegistrations(t, started(t, newHarness)) })
}

func started(t *testing.T, newHarness func(t *testing.T) Harness) Harness {
	h := newHarness(t)
	require.NoError(t, h.Ledger.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { assert.NoError(t, h.Ledger.Shutdown(context.Background())) })
	return h
}

func testLifecycle(t *testing.T, h Harness) {
	ctx := context.Background()
	_, err := h.Ledger.Quarantine(exporterID)
	require.ErrorIs(t, err, consentledger.ErrNotStarted, "no client before Start")
	_, err = h.Ledger.Consents(processorID)
	require.ErrorIs(t, err, consentledger.ErrNotStarted, "no client before Start")

	require.NoError(t, h.Ledger.Start(ctx, componenttest.NewNopHost()))
	q, err := h.Ledger.Quarantine(exporterID)
	require.NoError(t, err)
	c, err := h.Ledger.Consents(processorID)
	require.NoError(t, err)
	_, err = q.Append(ctx, []consentledger.Record{record("t1", "e1", "s1", "ok")})
	require.NoError(t, err)
	require.NoError(t, h.Ledger.Shutdown(ctx))

	// A client kept past Shutdown fails, and the failure is one to retry.
	_, err = q.Append(ctx, []consentledger.Record{record("t1", "e2", "s1", "ok")})
	require.ErrorIs(t, err, consentledger.ErrUnavailable)
	_, err = c.Lookup(ctx, consentstore.Key{Scope: "genesys/t1", Subject: "s1"})
	require.ErrorIs(t, err, consentledger.ErrUnavailable)
	err = c.Append(ctx, consentstore.Record{ID: "c1", Key: consentstore.Key{Scope: "genesys/t1", Subject: "s1"}, Granted: []string{"analytics"}, Source: consentstore.SourceAPI})
	require.ErrorIs(t, err, consentledger.ErrUnavailable)
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// payload is the OTLP protobuf of one log record, as the quarantine
// exporter stores it; body decides what the test evaluator says.
func payload(tenant, eventID, subject, body string) []byte {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(ccaas.AttrVendor, ccaas.VendorGenesys)
	rl.Resource().Attributes().PutStr(ccaas.AttrTenantID, tenant)
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetEventName(ccaas.EventRecordingAvailable)
	lr.Attributes().PutStr(ccaas.AttrEventID, eventID)
	lr.Attributes().PutStr(ccaas.AttrSubjectKey, subject)
	lr.Attributes().PutStr(ccaas.AttrConsentDecision, ccaas.DecisionQuarantine)
	lr.Body().SetStr(body)
	b, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	if err != nil {
		panic(err)
	}
	return b
}

func record(tenant, eventID, subject, body string) consentledger.Record {
	return consentledger.Record{
		Tenant: tenant, Vendor: ccaas.VendorGenesys, EventID: eventID, EventName: ccaas.EventRecordingAvailable,
		SubjectKey: subject, InteractionID: "conv-" + eventID, Reasons: []string{"consent.missing", "processor.undisclosed"},
		ConsentStatus: "unknown", OccurredAt: t0, ReceivedAt: t0.Add(time.Second),
		Payload: payload(tenant, eventID, subject, body),
	}
}

func byEvent(t *testing.T, h Harness, tenant string) map[string]Stored {
	t.Helper()
	stored, err := h.Stored(context.Background(), tenant)
	require.NoError(t, err)
	out := map[string]Stored{}
	for _, s := range stored {
		require.NotContains(t, out, s.EventID, "stored twice")
		out[s.EventID] = s
	}
	return out
}

func testQuarantine(t *testing.T, h Harness) {
	ctx := context.Background()
	q, err := h.Ledger.Quarantine(exporterID)
	require.NoError(t, err)

	r1 := record("t1", "e1", "s1", "first")
	r2 := record("t1", "e2", "", "no subject")
	r2.ReceivedAt = time.Time{}
	invalid := record("t1", "", "s1", "no event id")
	res, err := q.Append(ctx, []consentledger.Record{r1, r2, invalid, r1})
	require.NoError(t, err)
	require.Len(t, res, 4, "one result per record, in order")
	for i := range 2 {
		assert.NoError(t, res[i].Err)
		assert.NotEmpty(t, res[i].ID)
		assert.False(t, res[i].Duplicate)
	}
	assert.NotEqual(t, res[0].ID, res[1].ID)
	assert.ErrorIs(t, res[2].Err, consentledger.ErrInvalidRecord)
	assert.True(t, res[3].Duplicate, "a record repeated in one batch is stored once")
	assert.Equal(t, res[0].ID, res[3].ID)

	// The vendor retries e1, with a new event beside it.
	res, err = q.Append(ctx, []consentledger.Record{record("t1", "e1", "s1", "first"), record("t1", "e3", "s2", "third")})
	require.NoError(t, err)
	assert.True(t, res[0].Duplicate, "a retried event is stored once")
	assert.Equal(t, res[0].ID, byEvent(t, h, "t1")["e1"].ID)
	assert.False(t, res[1].Duplicate)
	// The same event id of another tenant is another event.
	res, err = q.Append(ctx, []consentledger.Record{record("t2", "e1", "s1", "other tenant")})
	require.NoError(t, err)
	assert.False(t, res[0].Duplicate)

	stored := byEvent(t, h, "t1")
	require.Len(t, stored, 3)
	got := stored["e1"]
	assert.Equal(t, r1.Vendor, got.Vendor)
	assert.Equal(t, r1.EventName, got.EventName)
	assert.Equal(t, r1.SubjectKey, got.SubjectKey)
	assert.Equal(t, r1.InteractionID, got.InteractionID)
	assert.Equal(t, r1.Reasons, got.Reasons)
	assert.Equal(t, r1.ConsentStatus, got.ConsentStatus)
	assert.True(t, r1.OccurredAt.Equal(got.OccurredAt), "occurred %s, stored %s", r1.OccurredAt, got.OccurredAt)
	assert.True(t, r1.ReceivedAt.Equal(got.ReceivedAt), "received %s, stored %s", r1.ReceivedAt, got.ReceivedAt)
	assert.Equal(t, r1.Payload, got.Payload, "the payload is stored whole")
	assert.False(t, got.Released)
	assert.False(t, stored["e2"].ReceivedAt.IsZero(), "a record without a received time is stamped when stored")
}

func testConsents(t *testing.T, h Harness) {
	ctx := context.Background()
	c, err := h.Ledger.Consents(processorID)
	require.NoError(t, err)
	var mu sync.Mutex
	var notified []consentstore.Key
	unsub := c.Subscribe(func(k consentstore.Key) {
		mu.Lock()
		defer mu.Unlock()
		notified = append(notified, k)
	})

	key := consentstore.Key{Scope: "genesys/org-1", Subject: "sk-1"}
	none, err := c.Lookup(ctx, key)
	require.NoError(t, err)
	assert.Empty(t, none, "no records yet")

	recs := []consentstore.Record{
		{ID: "c2", Key: key, Interaction: "call-9", Granted: []string{"recording"}, Denied: []string{"marketing"},
			Processors: []string{"acme"}, FirstPartyOnly: true, Source: consentstore.SourceNotice, NoticeID: "n@2", At: t0.Add(time.Minute)},
		{ID: "c1", Key: key, Granted: []string{"analytics"}, Source: consentstore.SourceSignal,
			Vendor: "genesys", Tenant: "org-1", EventID: "e1", Signal: "signal:analytics=granted", At: t0},
		{ID: "c3", Key: key, OptOut: consentstore.OptOutSaleSharing, Source: consentstore.SourceOptOut, Signal: "gpc", At: t0.Add(2 * time.Minute)},
	}
	for _, r := range recs {
		require.NoError(t, c.Append(ctx, r))
	}
	require.NoError(t, c.Append(ctx, recs[1]), "a retried consent event is stored once, without an error")
	require.ErrorIs(t, c.Append(ctx, consentstore.Record{ID: "bad"}), consentstore.ErrInvalidRecord)
	other := consentstore.Record{ID: "c4", Key: consentstore.Key{Scope: "genesys/org-1", Subject: "sk-2"}, Denied: []string{"analytics"}, Source: consentstore.SourceAPI, At: t0}
	require.NoError(t, c.Append(ctx, other))

	got, err := c.Lookup(ctx, key)
	require.NoError(t, err)
	require.Len(t, got, 3, "the retried record is stored once; the other subject's is not returned")
	want := []consentstore.Record{recs[1], recs[0], recs[2]} // oldest first
	for i := range got {
		assert.False(t, got[i].RecordedAt.IsZero(), "RecordedAt is set when stored")
		got[i].RecordedAt = time.Time{}
		assert.True(t, want[i].At.Equal(got[i].At), "%s: at %s, stored %s", want[i].ID, want[i].At, got[i].At)
		got[i].At = want[i].At
		assert.Equal(t, want[i], got[i], "record %d comes back as appended", i)
	}

	mu.Lock()
	assert.Contains(t, notified, key, "subscribers hear of every change")
	assert.Contains(t, notified, other.Key)
	mu.Unlock()
	unsub()
	mu.Lock()
	n := len(notified)
	mu.Unlock()
	require.NoError(t, c.Append(ctx, consentstore.Record{ID: "c5", Key: key, Granted: []string{"analytics"}, Source: consentstore.SourceAPI, At: t0}))
	mu.Lock()
	assert.Len(t, notified, n, "no notification after unsubscribing")
	mu.Unlock()
}

// byBody is the test's consent processor: it decides forward for records
// whose body says "ok", quarantine for the others.
var byBody = consentledger.EvaluatorFunc(func(_ context.Context, ld plog.Logs) error {
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				d := ccaas.DecisionQuarantine
				if lr.Body().Str() == "ok" {
					d = ccaas.DecisionForward
				}
				lr.Attributes().PutStr(ccaas.AttrConsentDecision, d)
			}
		}
	}
	return nil
})

func testRelease(t *testing.T, h Harness) {
	ctx := context.Background()
	q, err := h.Ledger.Quarantine(exporterID)
	require.NoError(t, err)
	_, err = q.Append(ctx, []consentledger.Record{
		record("t1", "a1", "s1", "ok"), record("t1", "a2", "s1", "no"), record("t1", "a3", "s1", "ok"),
		record("t1", "b1", "s2", "ok"),
	})
	require.NoError(t, err)

	_, err = h.Release(ctx, "t1", "s1", false)
	require.ErrorIs(t, err, consentledger.ErrNoEvaluator, "nothing is released without the consent processor")

	reg := h.Ledger.Releases()
	unEval := reg.RegisterEvaluator(processorID, byBody)
	defer unEval()
	_, err = h.Release(ctx, "t1", "s1", false)
	require.ErrorIs(t, err, consentledger.ErrNoForward, "nothing is released without the router's forward pipeline")

	refusing := consumertest.NewErr(errors.New("pipeline refused"))
	unFwd := reg.RegisterForward(routerID, refusing)
	n, err := h.Release(ctx, "t1", "s1", false)
	require.NoError(t, err)
	assert.Zero(t, n, "records the pipeline refused are not forwarded")
	for id, s := range byEvent(t, h, "t1") {
		assert.False(t, s.Released, "%s: a record the pipeline refused stays quarantined", id)
	}
	unFwd()

	sink := new(consumertest.LogsSink)
	unFwd = reg.RegisterForward(routerID, sink)
	defer unFwd()
	n, err = h.Release(ctx, "t1", "s1", true)
	require.NoError(t, err)
	assert.Zero(t, n, "a dry run forwards nothing")
	assert.Zero(t, sink.LogRecordCount())

	n, err = h.Release(ctx, "t1", "s1", false)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the subject's records now decided forward")
	require.Equal(t, 2, sink.LogRecordCount())
	var pushed []string
	for _, ld := range sink.AllLogs() {
		lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		d, valid := ccaas.Decision(lr.Attributes())
		assert.True(t, valid)
		assert.Equal(t, ccaas.DecisionForward, d, "records are pushed re-tagged")
		ev, _ := lr.Attributes().Get(ccaas.AttrEventID)
		pushed = append(pushed, ev.Str())
	}
	assert.ElementsMatch(t, []string{"a1", "a3"}, pushed)
	stored := byEvent(t, h, "t1")
	assert.True(t, stored["a1"].Released)
	assert.True(t, stored["a3"].Released)
	assert.False(t, stored["a2"].Released, "a record still decided quarantine stays")
	assert.False(t, stored["b1"].Released, "another subject's record stays")

	n, err = h.Release(ctx, "t1", "s1", false)
	require.NoError(t, err)
	assert.Zero(t, n, "a released record is not forwarded again")
	assert.Equal(t, 2, sink.LogRecordCount())
}

func testRegistrations(t *testing.T, h Harness) {
	ctx := context.Background()
	q, err := h.Ledger.Quarantine(exporterID)
	require.NoError(t, err)
	_, err = q.Append(ctx, []consentledger.Record{record("t1", "a1", "s1", "ok")})
	require.NoError(t, err)
	reg := h.Ledger.Releases()
	sink := new(consumertest.LogsSink)
	unEval := reg.RegisterEvaluator(processorID, byBody)
	unFwd := reg.RegisterForward(routerID, sink)
	unFwd2 := reg.RegisterForward(component.MustNewIDWithName("consent_router", "second"), sink)
	_, err = h.Release(ctx, "t1", "s1", false)
	require.ErrorIs(t, err, consentledger.ErrAmbiguous, "two routers: which pipeline would get the records?")
	unFwd2()
	unEval()
	_, err = h.Release(ctx, "t1", "s1", false)
	require.ErrorIs(t, err, consentledger.ErrNoEvaluator, "unregistering removes the evaluator")
	unEval = reg.RegisterEvaluator(processorID, byBody)
	defer unEval()
	n, err := h.Release(ctx, "t1", "s1", false)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	unFwd()
	_, err = h.Release(ctx, "t1", "s1", false)
	require.ErrorIs(t, err, consentledger.ErrNoForward, "unregistering removes the forward pipeline")
	assert.Equal(t, 1, sink.LogRecordCount())
}
