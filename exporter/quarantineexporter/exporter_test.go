package quarantineexporter

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/exporter/quarantineexporter/internal/metadata"
	"github.com/consentry/consentry/extension/consentledgerextension"
	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/configtest"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/ledgertest"
)

var ledgerID = component.MustNewID("consent_ledger")

type host struct {
	component.Host
	exts map[component.ID]component.Component
}

func (h host) GetExtensions() map[component.ID]component.Component { return h.exts }

func TestConfigs(t *testing.T) {
	require.NoError(t, componenttest.CheckConfigStruct(NewFactory().CreateDefaultConfig()))
	cfg := configtest.Load[*Config](t, NewFactory(), "")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, ledgerID, cfg.Ledger)
	assert.Equal(t, 10*time.Second, cfg.Timeout)
	cfg = configtest.Load[*Config](t, NewFactory(), "custom")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, component.MustNewIDWithName("consent_ledger", "pg"), cfg.Ledger)
	assert.Equal(t, 3*time.Second, cfg.Timeout)
	for name, want := range map[string]string{
		"no_ledger":    "ledger: the id of a consent_ledger extension is required",
		"zero_timeout": "timeout: must be positive",
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

func backends(t *testing.T, fn func(t *testing.T, cfg *consentledgerextension.Config)) {
	t.Run("sqlite", func(t *testing.T) {
		cfg := consentledgerextension.NewFactory().CreateDefaultConfig().(*consentledgerextension.Config)
		cfg.SQLite.Path = filepath.Join(t.TempDir(), "ledger.db")
		cfg.Keys = []consentledgerextension.KeyConfig{{Key: configopaque.String(ledgertest.Key(t))}}
		fn(t, cfg)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, schema := ledgertest.Postgres(t)
		cfg := consentledgerextension.NewFactory().CreateDefaultConfig().(*consentledgerextension.Config)
		cfg.Backend = consentledgerextension.BackendPostgres
		cfg.Postgres.DSN = configopaque.String(dsn)
		cfg.Postgres.Schema = schema
		cfg.Keys = []consentledgerextension.KeyConfig{{Key: configopaque.String(ledgertest.Key(t))}}
		fn(t, cfg)
	})
}

func startAll(t *testing.T, lcfg *consentledgerextension.Config) (extension.Extension, exporter.Logs, *ledger.Ledger) {
	t.Helper()
	ctx := context.Background()
	ext, err := consentledgerextension.NewFactory().Create(ctx, extensiontest.NewNopSettings(component.MustNewType("consent_ledger")), lcfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(ctx, componenttest.NewNopHost()))
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Ledger = ledgerID
	exp, err := NewFactory().CreateLogs(ctx, exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, host{componenttest.NewNopHost(), map[component.ID]component.Component{ledgerID: ext}}))
	l, err := ext.(consentledgerextension.Provider).Ledger()
	require.NoError(t, err)
	return ext, exp, l
}

func TestExportIsDurableAndDeduplicated(t *testing.T) {
	backends(t, func(t *testing.T, lcfg *consentledgerextension.Config) {
		ctx := context.Background()
		ext, exp, l := startAll(t, lcfg)

		ld := plog.NewLogs()
		event(ld, "org-1", "e1", "sk1", "my number is +1 415 555 0100")
		event(ld, "org-1", "e2", "sk2", "second")
		require.NoError(t, exp.ConsumeLogs(ctx, ld))
		// The vendor retries the first event.
		retry := plog.NewLogs()
		event(retry, "org-1", "e1", "sk1", "my number is +1 415 555 0100")
		require.NoError(t, exp.ConsumeLogs(ctx, retry))

		page, err := l.List(ctx, ledger.Filter{Tenant: "org-1"}, ledger.Page{Size: 10})
		require.NoError(t, err)
		require.Len(t, page.Records, 2, "the retried event is stored once")
		var e1 ledger.RecordMeta
		for _, m := range page.Records {
			if m.EventID == "e1" {
				e1 = m
			}
		}
		require.NotEmpty(t, e1.ID)
		stored, err := l.Get(ctx, e1.ID)
		require.NoError(t, err)
		back, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(stored.Payload)
		require.NoError(t, err)
		assert.Equal(t, "my number is +1 415 555 0100", back.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())

		rep, err := l.Verify(ctx)
		require.NoError(t, err)
		assert.True(t, rep.OK, "%+v", rep)

		// With the ledger gone, an export fails and is retryable: the
		// receiver answers 503 and the vendor retries.
		require.NoError(t, ext.Shutdown(ctx))
		more := plog.NewLogs()
		event(more, "org-1", "e3", "sk3", "third")
		err = exp.ConsumeLogs(ctx, more)
		require.Error(t, err)
		assert.False(t, consumererror.IsPermanent(err), "a store failure must not be permanent: %v", err)
		require.NoError(t, exp.Shutdown(ctx))
	})
}

func TestStartNeedsTheLedger(t *testing.T) {
	ctx := context.Background()
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Ledger = ledgerID
	exp, err := NewFactory().CreateLogs(ctx, exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	err = exp.Start(ctx, componenttest.NewNopHost())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `extension "consent_ledger" not found`)

	notLedger, err := extensiontest.NewNopFactory().Create(ctx, extensiontest.NewNopSettings(extensiontest.NopType), nil)
	require.NoError(t, err)
	err = exp.Start(ctx, host{componenttest.NewNopHost(), map[component.ID]component.Component{ledgerID: notLedger}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not a consent_ledger extension")
}
