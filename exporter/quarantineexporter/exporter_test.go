package quarantineexporter

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/exporter/quarantineexporter/internal/metadata"
	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/configtest"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentledger/consentledgertest"
)

var ledgerID = component.MustNewID("consent_ledger")

func TestConfigs(t *testing.T) {
	require.NoError(t, componenttest.CheckConfigStruct(NewFactory().CreateDefaultConfig()))
	cfg := configtest.Load[*Config](t, NewFactory(), "")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, ledgerID, cfg.Ledger.ComponentID())
	assert.Equal(t, 10*time.Second, cfg.Timeout)
	cfg = configtest.Load[*Config](t, NewFactory(), "custom")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, component.MustNewIDWithName("consent_ledger", "pg"), cfg.Ledger.ComponentID())
	assert.Equal(t, 3*time.Second, cfg.Timeout)
	assert.Equal(t, AdmissionConfig{Enabled: true, MaxWait: time.Second}, cfg.Admission, "admission control is on by default")
	cfg = configtest.Load[*Config](t, NewFactory(), "admission")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, AdmissionConfig{Enabled: true, MaxWait: 250 * time.Millisecond}, cfg.Admission)
	cfg = configtest.Load[*Config](t, NewFactory(), "no_admission")
	require.NoError(t, confmap.Validate(cfg))
	assert.False(t, cfg.Admission.Enabled)
	for name, want := range map[string]string{
		"no_ledger":             "ledger: the id of a consent_ledger extension is required",
		"zero_timeout":          "timeout: must be positive",
		"zero_max_wait":         "admission.max_wait: must be positive",
		"max_wait_past_timeout": "admission.max_wait (2s) must be below timeout (2s)",
	} {
		err := confmap.Validate(configtest.Load[*Config](t, NewFactory(), name))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), want, name)
	}
}

// event builds a tagged, quarantined event the way the receivers and the
// consent processor leave it.
func event(ld plog.Logs, tenant, eventID, subject, text string) {
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(ccaas.AttrVendor, "genesys")
	rl.Resource().Attributes().PutStr(ccaas.AttrTenantID, tenant)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("genesys")
	lr := sl.LogRecords().AppendEmpty()
	lr.SetEventName("ccaas.interaction.started")
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 2, 9, 0, 1, 0, time.UTC)))
	a := lr.Attributes()
	a.PutStr(ccaas.AttrEventID, eventID)
	a.PutStr(ccaas.AttrSubjectKey, subject)
	a.PutStr(ccaas.AttrInteractionID, "conv-"+eventID)
	a.PutStr(ccaas.AttrConsentStatus, "denied")
	a.PutStr(ccaas.AttrConsentDecision, "quarantine")
	a.PutEmptySlice(ccaas.AttrConsentReasons).FromRaw([]any{"consent.denied", "processor.undisclosed"})
	lr.Body().SetStr(text)
}

func TestRecords(t *testing.T) {
	ld := plog.NewLogs()
	event(ld, "org-1", "e1", "sk1", "hello")
	event(ld, "org-1", "e2", "sk2", "world")
	anon := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	anon.Body().SetStr("no identity")
	now := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	recs, err := Records(ld, now)
	require.NoError(t, err)
	require.Len(t, recs, 3)
	r := recs[1]
	assert.Equal(t, "org-1", r.Tenant)
	assert.Equal(t, "genesys", r.Vendor)
	assert.Equal(t, "e2", r.EventID)
	assert.Equal(t, "ccaas.interaction.started", r.EventName)
	assert.Equal(t, "sk2", r.SubjectKey)
	assert.Equal(t, "conv-e2", r.InteractionID)
	assert.Equal(t, "denied", r.ConsentStatus)
	assert.Equal(t, []string{"consent.denied", "processor.undisclosed"}, r.Reasons)
	assert.Equal(t, time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), r.OccurredAt.UTC())
	assert.Equal(t, time.Date(2026, 11, 2, 9, 0, 1, 0, time.UTC), r.ReceivedAt.UTC())

	// Each payload is the record alone, with its resource and scope.
	one, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(r.Payload)
	require.NoError(t, err)
	require.Equal(t, 1, one.LogRecordCount())
	got := one.ResourceLogs().At(0)
	v, _ := got.Resource().Attributes().Get(ccaas.AttrTenantID)
	assert.Equal(t, "org-1", v.Str())
	assert.Equal(t, "genesys", got.ScopeLogs().At(0).Scope().Name())
	assert.Equal(t, "world", got.ScopeLogs().At(0).LogRecords().At(0).Body().Str())

	// A record without identity is kept, not dropped.
	a := recs[2]
	assert.Equal(t, "unknown", a.Tenant)
	assert.Equal(t, "unknown", a.Vendor)
	assert.Regexp(t, `^sha256:[0-9a-f]{32}$`, a.EventID)
	assert.Equal(t, []string{ReasonNoReasons, ReasonMissingIdentity}, a.Reasons)
	assert.Equal(t, now, a.ReceivedAt)
	assert.True(t, a.OccurredAt.IsZero())

	// A retry of the same event (received later) gets the same derived id.
	anon.SetObservedTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Hour)))
	again, err := Records(ld, now)
	require.NoError(t, err)
	assert.Equal(t, a.EventID, again[2].EventID)
	anon.Body().SetStr("another event")
	other, err := Records(ld, now)
	require.NoError(t, err)
	assert.NotEqual(t, a.EventID, other[2].EventID)
}

func startExporter(t *testing.T, l *consentledgertest.Fake) exporter.Logs {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, l.Start(ctx, componenttest.NewNopHost()))
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Ledger = consentledger.NewID(ledgerID)
	exp, err := NewFactory().CreateLogs(ctx, exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, l.Host(ledgerID)))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	return exp
}

func TestExportStoresEveryRecordOnce(t *testing.T) {
	ctx := context.Background()
	l := consentledgertest.New()
	exp := startExporter(t, l)

	ld := plog.NewLogs()
	event(ld, "org-1", "e1", "sk1", "my number is +1 415 555 0100")
	event(ld, "org-1", "e2", "sk2", "second")
	require.NoError(t, exp.ConsumeLogs(ctx, ld))
	// The vendor retries the first event.
	retry := plog.NewLogs()
	event(retry, "org-1", "e1", "sk1", "my number is +1 415 555 0100")
	require.NoError(t, exp.ConsumeLogs(ctx, retry))

	stored := l.Records()
	require.Len(t, stored, 2, "the retried event is stored once")
	assert.Equal(t, "e1", stored[0].EventID)
	assert.Equal(t, "sk1", stored[0].SubjectKey)
	back, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(stored[0].Payload)
	require.NoError(t, err)
	assert.Equal(t, "my number is +1 415 555 0100", back.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
}

// TestLedgerFailuresAreRetryable: whatever the ledger's failure, the
// vendor is asked to retry (503), never told its event was refused.
func TestLedgerFailuresAreRetryable(t *testing.T) {
	ctx := context.Background()
	l := consentledgertest.New()
	exp := startExporter(t, l)
	for _, failure := range []error{
		fmt.Errorf("%w: database busy", consentledger.ErrUnavailable),
		errors.New("database file is corrupt"),
		context.DeadlineExceeded,
	} {
		l.Fail(failure)
		ld := plog.NewLogs()
		event(ld, "org-1", "e1", "sk1", "text")
		err := exp.ConsumeLogs(ctx, ld)
		require.ErrorIs(t, err, failure)
		assert.False(t, consumererror.IsPermanent(err), "a store failure must not be permanent: %v", err)
	}
	assert.Empty(t, l.Records())

	// With the ledger gone (shut down), an export fails and is retryable.
	l.Fail(nil)
	require.NoError(t, l.Shutdown(ctx))
	ld := plog.NewLogs()
	event(ld, "org-1", "e3", "sk3", "third")
	err := exp.ConsumeLogs(ctx, ld)
	require.ErrorIs(t, err, consentledger.ErrUnavailable)
	assert.False(t, consumererror.IsPermanent(err), "a store failure must not be permanent: %v", err)
}

func TestStartNeedsTheLedger(t *testing.T) {
	ctx := context.Background()
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Ledger = consentledger.NewID(ledgerID)
	exp, err := NewFactory().CreateLogs(ctx, exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	err = exp.Start(ctx, componenttest.NewNopHost())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `extension "consent_ledger" not found`)

	notLedger, err := extensiontest.NewNopFactory().Create(ctx, extensiontest.NewNopSettings(extensiontest.NopType), nil)
	require.NoError(t, err)
	err = exp.Start(ctx, consentledgertest.Host(map[component.ID]component.Component{ledgerID: notLedger}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not a consent_ledger extension")

	stopped := consentledgertest.New()
	require.ErrorIs(t, exp.Start(ctx, stopped.Host(ledgerID)), consentledger.ErrNotStarted)
}

// lifecycleHost is the generated lifecycle test's host: a started
// in-memory consent ledger under consent_ledger.
func lifecycleHost() component.Host {
	l := consentledgertest.New()
	_ = l.Start(context.Background(), componenttest.NewNopHost())
	return l.Host(ledgerID)
}
