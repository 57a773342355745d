package consentledgerextension

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/exporter/quarantineexporter"
	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentledger/consentledgertest"
	"github.com/consentry/consentry/internal/ledger"
)

func quarantined(ld plog.Logs, eventID, text string) {
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(ccaas.AttrVendor, ccaas.VendorGenesys)
	rl.Resource().Attributes().PutStr(ccaas.AttrTenantID, "org-1")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetEventName(ccaas.EventTranscriptSegment)
	lr.Attributes().PutStr(ccaas.AttrEventID, eventID)
	lr.Attributes().PutStr(ccaas.AttrSubjectKey, "sk-"+eventID)
	lr.Attributes().PutStr(ccaas.AttrConsentDecision, ccaas.DecisionQuarantine)
	lr.Body().SetStr(text)
}

// TestQuarantineExporterIntoTheLedger: the quarantine exporter, through the
// contract alone, stores records in this extension's ledger durably, once,
// encrypted and verifiable; with the ledger gone its failure is retryable.
func TestQuarantineExporterIntoTheLedger(t *testing.T) {
	backends(t, func(t *testing.T, cfg *Config) {
		ctx := context.Background()
		e := start(t, cfg)
		id := component.MustNewID("consent_ledger")
		f := quarantineexporter.NewFactory()
		ecfg := f.CreateDefaultConfig().(*quarantineexporter.Config)
		ecfg.Ledger = consentledger.NewID(id)
		exp, err := f.CreateLogs(ctx, exportertest.NewNopSettings(f.Type()), ecfg)
		require.NoError(t, err)
		require.NoError(t, exp.Start(ctx, consentledgertest.Host(map[component.ID]component.Component{id: e})))

		ld := plog.NewLogs()
		quarantined(ld, "e1", "my number is +1 415 555 0100")
		quarantined(ld, "e2", "second")
		require.NoError(t, exp.ConsumeLogs(ctx, ld))
		retry := plog.NewLogs()
		quarantined(retry, "e1", "my number is +1 415 555 0100")
		require.NoError(t, exp.ConsumeLogs(ctx, retry))

		l, err := e.ledgerOrErr()
		require.NoError(t, err)
		page, err := l.List(ctx, ledger.Filter{Tenant: "org-1"}, ledger.Page{Size: 10})
		require.NoError(t, err)
		require.Len(t, page.Records, 2, "the retried event is stored once")
		for _, m := range page.Records {
			stored, err := l.Get(ctx, m.ID)
			require.NoError(t, err)
			back, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(stored.Payload)
			require.NoError(t, err)
			ev, _ := back.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get(ccaas.AttrEventID)
			assert.Equal(t, m.EventID, ev.Str())
		}
		rep, err := l.Verify(ctx)
		require.NoError(t, err)
		assert.True(t, rep.OK, "%+v", rep)

		require.NoError(t, e.Shutdown(ctx))
		more := plog.NewLogs()
		quarantined(more, "e3", "third")
		err = exp.ConsumeLogs(ctx, more)
		require.ErrorIs(t, err, consentledger.ErrUnavailable)
		assert.False(t, consumererror.IsPermanent(err), "a store failure must not be permanent: %v", err)
		require.NoError(t, exp.Shutdown(ctx))
	})
}
