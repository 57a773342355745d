package consentprocessor

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentledger/consentledgertest"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/policy"
	"github.com/consentry/consentry/processor/consentprocessor/internal/metadata"
)

var (
	transcriptCA = event{vendor: "talkdesk", tenant: tenantRetailer, name: ccaas.EventTranscriptSegment, phone: phoneCA, interaction: "call-9", channel: "voice"}
	caScope      = consentstore.Key{Scope: "outdoor-retailer", Subject: keyer.Key("phone", phoneCA)}
	aiUses       = []string{"collect.recording", "collect.transcription", "analytics.reporting", "train_ai_system", "functional.service.improve"}
)

func TestConsentGrantedLaterThroughTheStore(t *testing.T) {
	h := startProcessor(t, exampleConfig(), nil)
	before := transcriptCA
	before.at = t0
	got := h.run(before)
	assert.Equal(t, policy.DecisionQuarantine, got[0].decision)

	// The caller consents later (an operator records it through the API).
	require.NoError(t, h.cp.eval.Store().Append(context.Background(), consentstore.Record{
		ID: "cr_later", Key: caScope, Granted: aiUses, Source: consentstore.SourceAPI, At: t0.Add(time.Hour),
	}))
	after := transcriptCA
	after.at = t0.Add(2 * time.Hour)
	earlier := transcriptCA
	earlier.at = t0.Add(30 * time.Minute) // happened before the consent, delivered after it
	got = h.run(after, earlier)
	assert.Equal(t, policy.DecisionForward, got[0].decision, got[0].reasons)
	assert.Contains(t, got[0].evidence, "consent:cr_later")
	assert.Equal(t, policy.DecisionQuarantine, got[1].decision, "consent given later does not cover what happened before")

	// Consent withdrawn, recorded straight in the store (as the ledger's API
	// would): the cache hears of it through the store's notifications.
	mem := h.cp.eval.Store().Store().(*consentstore.Memory)
	require.NoError(t, mem.Append(context.Background(), consentstore.Record{
		ID: "cr_withdrawn", Key: caScope, Denied: []string{"train_ai_system"}, Source: consentstore.SourceAPI, At: t0.Add(3 * time.Hour),
	}))
	last := transcriptCA
	last.at = t0.Add(4 * time.Hour)
	got = h.run(last)
	assert.Equal(t, policy.DecisionQuarantine, got[0].decision)
	assert.Equal(t, string(policy.StatusDenied), got[0].status)
	assert.Contains(t, got[0].evidence, "consent:cr_withdrawn")
}

// fakeStore is a consent store that fails.
type fakeStore struct {
	lookupErr, appendErr error
	panics               bool
}

func (f *fakeStore) Lookup(context.Context, consentstore.Key) ([]consentstore.Record, error) {
	if f.panics {
		panic("corrupt index")
	}
	return nil, f.lookupErr
}

func (f *fakeStore) Append(context.Context, consentstore.Record) error { return f.appendErr }

// startLedger starts an in-memory consent ledger.
func startLedger(t *testing.T) *consentledgertest.Fake {
	l := consentledgertest.New()
	require.NoError(t, l.Start(context.Background(), componenttest.NewNopHost()))
	return l
}

func TestErrorsAreQuarantined(t *testing.T) {
	ledger := component.MustNewID("consent_ledger")
	for _, tc := range []struct {
		name   string
		store  *fakeStore
		event  event
		reason policy.Reason
	}{
		{"store lookup error", &fakeStore{lookupErr: errors.New("database is locked")}, transcriptCA, policy.ReasonStoreError},
		{"evaluation error (a panic)", &fakeStore{panics: true}, transcriptCA, policy.ReasonEvaluationError},
		{"store write error", &fakeStore{appendErr: errors.New("disk full")},
			event{vendor: "talkdesk", tenant: tenantRetailer, name: ccaas.EventInteractionAttributes, phone: phoneTX, interaction: "call-7",
				attrs: map[string]any{"ccaas.consent.signal.recording": "yes"}}, policy.ReasonStoreError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := exampleConfig()
			cfg.Ledger = consentledger.NewID(ledger)
			l := consentledgertest.New()
			l.UseConsentStore(tc.store)
			require.NoError(t, l.Start(context.Background(), componenttest.NewNopHost()))
			h := startProcessor(t, cfg, l.Host(ledger))
			got := h.run(tc.event)
			assert.Equal(t, policy.DecisionQuarantine, got[0].decision)
			assert.Contains(t, got[0].reasons, string(tc.reason))
			assert.NotEmpty(t, got[0].hash)
		})
	}
}

func TestLedgerMustExistAndRun(t *testing.T) {
	ledger := component.MustNewID("consent_ledger")
	cfg := exampleConfig()
	cfg.Ledger = consentledger.NewID(ledger)
	proc, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, new(consumertest.LogsSink))
	require.NoError(t, err)
	err = proc.Start(context.Background(), componenttest.NewNopHost())
	require.ErrorContains(t, err, `extension "consent_ledger" not found`)

	proc, err = NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, new(consumertest.LogsSink))
	require.NoError(t, err)
	err = proc.Start(context.Background(), consentledgertest.Host(map[component.ID]component.Component{ledger: struct {
		component.StartFunc
		component.ShutdownFunc
	}{}}))
	require.ErrorContains(t, err, "is not a consent_ledger extension")

	proc, err = NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, new(consumertest.LogsSink))
	require.NoError(t, err)
	require.ErrorIs(t, proc.Start(context.Background(), consentledgertest.New().Host(ledger)), consentledger.ErrNotStarted)
}

func TestInteractionMemory(t *testing.T) {
	h := startProcessor(t, exampleConfig(), nil)
	started := event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventInteractionStarted, phone: phoneTX, interaction: "conv-a", channel: "voice"}
	// A transcription event carries the conversation id only.
	recording := event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventRecordingAvailable, interaction: "conv-a", channel: "voice", at: t0.Add(time.Minute)}
	unknownConv := event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventRecordingAvailable, interaction: "conv-b", channel: "voice", at: t0.Add(time.Minute)}
	recs := h.decide(started, recording, unknownConv)
	assert.Equal(t, keyer.Key("phone", phoneTX), str(recs[1].Attributes(), ccaas.AttrSubjectKey),
		"a record joined to its interaction carries the interaction's subject key")
	assert.Empty(t, str(recs[2].Attributes(), ccaas.AttrSubjectKey), "no subject is invented for an unknown interaction")
	got := h.run(started, recording, unknownConv)
	assert.Equal(t, policy.DecisionForward, got[0].decision)
	assert.Equal(t, policy.DecisionForward, got[1].decision, got[1].reasons)
	assert.Contains(t, got[1].reasons, string(policy.ReasonFromInteraction))
	assert.Equal(t, []string{"US-TX@customer.e164"}, got[1].jurisdictions, "the location comes from the interaction too")
	assert.Equal(t, policy.DecisionQuarantine, got[2].decision)
	assert.Contains(t, got[2].reasons, string(policy.ReasonJurisdictionUnknown))
	assert.Contains(t, got[2].reasons, string(policy.ReasonSubjectUnknown))
}

func TestConsentSignalsAndNotices(t *testing.T) {
	h := startProcessor(t, exampleConfig(), nil)
	conv := "conv-ca"
	got := h.run(
		// A Californian calls; the IVR plays the recording notice.
		event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventFlowOutcome, phone: phoneCA, interaction: conv, channel: "voice",
			attrs: map[string]any{ccaas.AttrConsentNoticeID: "recording-notice-v1"}},
		// The recording is covered by the notice, learned for the interaction.
		event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventRecordingAvailable, interaction: conv, channel: "voice", at: t0.Add(time.Minute)},
		// Transcripts are not: Genesys AI may use them for its own purposes.
		event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventTranscriptSegment, interaction: conv, channel: "voice", at: t0.Add(time.Minute)},
		// A signal value outside the mapping, and a signal the policy does not map.
		event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventInteractionAttributes, interaction: conv, channel: "voice",
			attrs: map[string]any{"ccaas.consent.signal.recording": "maybe"}},
		event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventInteractionAttributes, interaction: conv, channel: "voice",
			attrs: map[string]any{"ccaas.consent.signal.marketing": "yes"}},
		event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventFlowOutcome, interaction: conv, channel: "voice",
			attrs: map[string]any{ccaas.AttrConsentNoticeID: "some-other-prompt"}},
	)
	assert.Equal(t, policy.DecisionForward, got[0].decision, got[0].reasons)
	assert.Contains(t, got[0].reasons, string(policy.ReasonConsentRecorded))
	assert.Equal(t, policy.DecisionForward, got[1].decision, got[1].reasons)
	assert.Contains(t, got[1].reasons, string(policy.ReasonImpliedConsent))
	assert.Equal(t, policy.DecisionQuarantine, got[2].decision)
	for i, r := range map[int]policy.Reason{3: policy.ReasonSignalMalformed, 4: policy.ReasonSignalUnmapped, 5: policy.ReasonNoticeUnknown} {
		assert.Equal(t, policy.DecisionQuarantine, got[i].decision)
		assert.Contains(t, got[i].reasons, string(r))
	}
	assert.Contains(t, got[3].evidence, "signal:recording=malformed")
}

func TestConsentEventIsStoredOnceAndRouted(t *testing.T) {
	h := startProcessor(t, exampleConfig(), nil)
	update := func(at time.Time, analytics bool) event {
		return event{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventConsentUpdated, email: "user@example.com", at: at,
			id: "msg-" + at.String(), attrs: map[string]any{"ccaas.consent.category.Analytics": analytics}}
	}
	track := event{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventAnalyticsTrack, email: "user@example.com", at: t0.Add(time.Hour)}
	got := h.run(update(t0, true), update(t0.Add(time.Minute), true), track)
	assert.Equal(t, policy.DecisionForward, got[0].decision, got[0].reasons)
	assert.Contains(t, got[0].reasons, string(policy.ReasonConsentRecorded))
	assert.NotContains(t, got[1].reasons, string(policy.ReasonConsentRecorded), "an unchanged preference is not stored again")
	assert.Equal(t, policy.DecisionForward, got[2].decision, "the stored preference covers later events without a consent object")
	mem := h.cp.eval.Store().Store().(*consentstore.Memory)
	assert.Equal(t, 1, mem.Len())

	got = h.run(update(t0.Add(2*time.Hour), false), track)
	assert.Contains(t, got[0].reasons, string(policy.ReasonConsentRecorded))
	// The withdrawal is dated after this event but recorded before it is
	// forwarded: forwarding is processing, so it applies (withdrawals:
	// at_forwarding, the default).
	assert.Equal(t, policy.DecisionQuarantine, got[1].decision)
	assert.Contains(t, got[1].reasons, string(policy.ReasonWithdrawalAfterEvent))
	track.at = t0.Add(3 * time.Hour)
	got = h.run(track)
	assert.Equal(t, policy.DecisionQuarantine, got[0].decision)
	assert.Equal(t, string(policy.StatusDenied), got[0].status)
}

func TestUpstreamConsentAttributesAreReplaced(t *testing.T) {
	h := startProcessor(t, exampleConfig(), nil)
	got := h.decide(event{vendor: "talkdesk", tenant: "someone-else", name: ccaas.EventInteractionStarted, phone: phoneTX,
		attrs: map[string]any{ccaas.AttrConsentDecision: "forward", ccaas.AttrConsentStatus: "granted", "consent.injected": "x"}})
	assert.Equal(t, policy.DecisionQuarantine, strAttr(got[0], ccaas.AttrConsentDecision))
	assert.Equal(t, "unknown", strAttr(got[0], ccaas.AttrConsentStatus))
	assert.Equal(t, []string{"tenant_unknown"}, sliceAttr(got[0], ccaas.AttrConsentReasons))
	_, ok := got[0].Attributes().Get("consent.injected")
	assert.False(t, ok)
}

func TestRecordsWithoutVendorAreQuarantined(t *testing.T) {
	h := startProcessor(t, exampleConfig(), nil)
	ld := logsOf(transcriptCA)
	ld.ResourceLogs().At(0).Resource().Attributes().Clear()
	require.NoError(t, h.proc.ConsumeLogs(context.Background(), ld))
	lr := h.sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	assert.Equal(t, policy.DecisionQuarantine, strAttr(lr, ccaas.AttrConsentDecision))
	assert.Equal(t, []string{"vendor_unknown"}, sliceAttr(lr, ccaas.AttrConsentReasons))
}

func TestPolicyFileReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	orig, err := os.ReadFile(examplePolicy)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, orig, 0o600))
	cfg := exampleConfig()
	cfg.PolicyFile = file
	cfg.ReloadInterval = 0 // driven by hand below
	core, logs := observer.New(zap.InfoLevel)
	set := processortest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	proc, cp, err := newLogs(context.Background(), set, cfg, new(consumertest.LogsSink))
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, proc.Shutdown(context.Background())) }()
	first := cp.eval.Policy().Hash()

	changed, err := cp.reload(context.Background())
	require.NoError(t, err)
	assert.False(t, changed, "unchanged content is not recompiled")

	// A broken version keeps the policy in force.
	require.NoError(t, os.WriteFile(file, []byte("processors: [{id: x, role: nobody}]\n"), 0o600))
	_, err = cp.reload(context.Background())
	require.ErrorContains(t, err, `role "nobody"`)
	assert.Equal(t, first, cp.eval.Policy().Hash())

	// A valid new version replaces it.
	edited := strings.Replace(string(orig), "sensitive: true", "sensitive: false", 1)
	require.NoError(t, os.WriteFile(file, []byte(edited), 0o600))
	changed, err = cp.reload(context.Background())
	require.NoError(t, err)
	assert.True(t, changed)
	assert.NotEqual(t, first, cp.eval.Policy().Hash())
	assert.Equal(t, 1, logs.FilterMessage("Consent policy reloaded").Len())
}

func TestPolicyFileWatcher(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	orig, err := os.ReadFile(examplePolicy)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, orig, 0o600))
	cfg := exampleConfig()
	cfg.PolicyFile = file
	cfg.ReloadInterval = 10 * time.Millisecond
	h := startProcessor(t, cfg, nil)
	first := h.cp.eval.Policy().Hash()
	require.NoError(t, os.WriteFile(file, []byte(strings.Replace(string(orig), "sensitive: true", "sensitive: false", 1)), 0o600))
	require.Eventually(t, func() bool { return h.cp.eval.Policy().Hash() != first }, 5*time.Second, 10*time.Millisecond)
}

func TestMetrics(t *testing.T) {
	tt := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tt.Shutdown(context.Background())) }()
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tt.NewTelemetrySettings()
	proc, _, err := newLogs(context.Background(), set, exampleConfig(), new(consumertest.LogsSink))
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, proc.Shutdown(context.Background())) }()
	require.NoError(t, proc.ConsumeLogs(context.Background(), logsOf(transcriptCA, transcriptCA,
		event{vendor: "talkdesk", tenant: "not-in-policy", name: ccaas.EventInteractionStarted})))

	m, err := tt.GetMetric("consentry.consent.records")
	require.NoError(t, err)
	counts := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		d, _ := dp.Attributes.Value("decision")
		s, _ := dp.Attributes.Value("status")
		tn, _ := dp.Attributes.Value("tenant")
		counts[d.AsString()+"/"+s.AsString()+"/"+tn.AsString()] += dp.Value
	}
	assert.Equal(t, map[string]int64{"quarantine/unknown/" + tenantRetailer: 2, "quarantine/unknown/_unknown": 1}, counts)

	m, err = tt.GetMetric("consentry.consent.reasons")
	require.NoError(t, err)
	reasons := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		r, _ := dp.Attributes.Value("reason")
		reasons[r.AsString()] += dp.Value
	}
	assert.Equal(t, int64(2), reasons["consent_missing"])
	assert.Equal(t, int64(1), reasons["tenant_unknown"])

	_, err = tt.GetMetric("consentry.consent.store.lookups")
	require.NoError(t, err)
}

func TestReleaseReevaluatesUnderCurrentConsent(t *testing.T) {
	ctx := context.Background()
	id := component.MustNewID("consent_ledger")
	l := startLedger(t)
	fwd := new(consumertest.LogsSink)
	l.Releases().RegisterForward(component.MustNewID("consent_router"), fwd)
	cfg := exampleConfig()
	cfg.Ledger = consentledger.NewID(id)
	h := startProcessor(t, cfg, l.Host(id))

	ev := transcriptCA
	ev.at = t0.Add(2 * time.Hour)
	require.NoError(t, h.proc.ConsumeLogs(ctx, logsOf(ev)))
	quarantined := h.sink.AllLogs()[0]
	decision, _ := quarantined.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get(ccaas.AttrConsentDecision)
	require.Equal(t, policy.DecisionQuarantine, decision.Str())

	out, err := l.Hub().Release(ctx, quarantined, false)
	require.NoError(t, err)
	assert.Equal(t, "quarantine", out.Decision, "nothing changed: still quarantined")
	assert.NotEmpty(t, out.Reasons)
	assert.False(t, out.Forwarded)

	// Consent recorded (e.g. through the auditor API) before the event.
	require.NoError(t, l.ConsentStore().Append(ctx, consentstore.Record{
		ID: "cr_api", Key: caScope, Granted: aiUses, Source: consentstore.SourceAPI, At: t0.Add(time.Hour),
	}))
	out, err = l.Hub().Release(ctx, quarantined, true)
	require.NoError(t, err)
	assert.Equal(t, "forward", out.Decision)
	assert.False(t, out.Forwarded, "dry run")
	assert.Zero(t, fwd.LogRecordCount())
	out, err = l.Hub().Release(ctx, quarantined, false)
	require.NoError(t, err)
	assert.Equal(t, "forward", out.Decision)
	assert.True(t, out.Forwarded)
	require.Equal(t, 1, fwd.LogRecordCount())
	ev2, _ := fwd.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get(ccaas.AttrConsentEvidence)
	assert.Contains(t, ev2.AsString(), "consent:cr_api", "the released record carries the evidence that allowed it")

	require.NoError(t, h.proc.Shutdown(ctx))
	_, err = l.Hub().Release(ctx, quarantined, false)
	require.ErrorIs(t, err, consentledger.ErrNoEvaluator, "shutdown unregisters the evaluator")
}

func TestReleaseChecksConsentScopes(t *testing.T) {
	id := component.MustNewID("consent_ledger")
	l := startLedger(t)
	cfg := exampleConfig()
	cfg.Ledger = consentledger.NewID(id)
	startProcessor(t, cfg, l.Host(id))
	hub := l.Hub()
	require.NoError(t, hub.CheckScope("genesys/"+tenantLocal))
	require.NoError(t, hub.CheckScope("outdoor-retailer"), "a shared consent scope named in the policy")
	err := hub.CheckScope(tenantLocal)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `the consent scope of genesys tenant `+tenantLocal+` is "genesys/`+tenantLocal+`"`)
	require.Error(t, hub.CheckScope("nobody"))
}

// TestReevaluateLeavesLiveStateAlone: re-evaluating stored records for a
// release reads the interaction memory but neither teaches it (an old record
// must not refresh or evict live interactions) nor counts as a live decision.
func TestReevaluateLeavesLiveStateAlone(t *testing.T) {
	h := startProcessor(t, exampleConfig(), nil)
	stored := logsOf(event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventInteractionStarted, phone: phoneTX, interaction: "conv-old", channel: "voice"})
	h.cp.eval.Reevaluate(context.Background(), stored)
	assert.Zero(t, h.cp.eval.interactions.len(), "a released record teaches the interaction memory nothing")
	later := event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventRecordingAvailable, interaction: "conv-old", channel: "voice", at: t0.Add(time.Minute)}
	got := h.run(later)
	assert.Contains(t, got[0].reasons, string(policy.ReasonSubjectUnknown))

	// A live record teaches it; a re-evaluated one then reads it.
	h.run(event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventInteractionStarted, phone: phoneTX, interaction: "conv-live", channel: "voice"})
	rec := logsOf(event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventRecordingAvailable, interaction: "conv-live", channel: "voice", at: t0.Add(time.Minute)})
	h.cp.eval.Reevaluate(context.Background(), rec)
	lr := rec.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	assert.Equal(t, keyer.Key("phone", phoneTX), str(lr.Attributes(), ccaas.AttrSubjectKey))
	assert.Equal(t, 1, h.cp.eval.interactions.len())
}

// TestPolicyFileIsReadOnceAtStart: Validate reads no file; Start reads
// policy_file once, compiles those bytes, and keeps their digest, so the
// digest names the version in force. A missing or broken file stops the
// collector at start.
func TestPolicyFileIsReadOnceAtStart(t *testing.T) {
	ctx := context.Background()
	cfg := exampleConfig()
	cfg.PolicyFile = filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, confmap.Validate(cfg), "Validate does not read policy_file")
	start := func() (*consentProcessor, error) {
		proc, cp, err := newLogs(ctx, processortest.NewNopSettings(metadata.Type), cfg, new(consumertest.LogsSink))
		require.NoError(t, err)
		err = proc.Start(ctx, componenttest.NewNopHost())
		if err == nil {
			t.Cleanup(func() { require.NoError(t, proc.Shutdown(ctx)) })
		}
		return cp, err
	}
	_, err := start()
	require.ErrorContains(t, err, "policy file")
	require.ErrorContains(t, err, "no such file")

	require.NoError(t, os.WriteFile(cfg.PolicyFile, []byte("processors: [{id: x, role: nobody}]\n"), 0o600))
	_, err = start()
	require.ErrorContains(t, err, `role "nobody"`)

	b, err := os.ReadFile(examplePolicy)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg.PolicyFile, b, 0o600))
	cp, err := start()
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(b), cp.digest, "the digest is of the bytes compiled")
	want, err := policy.CompileBytes(ctx, cfg.PolicyFile, b)
	require.NoError(t, err)
	assert.Equal(t, want.Hash(), cp.eval.Policy().Hash())
}

// TestDeprecatedStoreKey: configs written before the setting was renamed
// (store: consent_ledger) still keep consent records in the ledger, with a
// deprecation warning; naming both is a config error.
func TestDeprecatedStoreKey(t *testing.T) {
	ledger := component.MustNewID("consent_ledger")
	cm := confmap.NewFromStringMap(map[string]any{"policy_file": examplePolicy, "store": "consent_ledger"})
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, cm.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, ledger, cfg.ledgerID().ComponentID())

	core, logs := observer.New(zap.WarnLevel)
	set := processortest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	proc, err := NewFactory().CreateLogs(context.Background(), set, cfg, new(consumertest.LogsSink))
	require.NoError(t, err)
	// The old key names the ledger: a missing extension fails the start
	// exactly as with ledger.
	require.ErrorContains(t, proc.Start(context.Background(), componenttest.NewNopHost()), `extension "consent_ledger" not found`)
	proc, err = NewFactory().CreateLogs(context.Background(), set, cfg, new(consumertest.LogsSink))
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), startLedger(t).Host(ledger)))
	require.NoError(t, proc.Shutdown(context.Background()))
	assert.NotZero(t, logs.FilterMessageSnippet("store setting is deprecated").Len())

	both := confmap.NewFromStringMap(map[string]any{"policy_file": examplePolicy, "store": "consent_ledger", "ledger": "consent_ledger"})
	cfg = NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, both.Unmarshal(cfg))
	require.ErrorContains(t, confmap.Validate(cfg), "set only ledger")
}
