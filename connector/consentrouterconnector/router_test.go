package consentrouterconnector

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pipeline"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/consentry/consentry/connector/consentrouterconnector/internal/metadata"
	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentledger/consentledgertest"
	"github.com/consentry/consentry/internal/consentroute"
)

var (
	fwdID  = pipeline.NewIDWithName(pipeline.SignalLogs, "forward")
	qID    = pipeline.NewIDWithName(pipeline.SignalLogs, "quarantine")
	testCf = &Config{Forward: []pipeline.ID{fwdID}, Quarantine: []pipeline.ID{qID}}
)

func TestConfigs(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	load := func(name string) *Config {
		id := component.NewID(metadata.Type)
		if name != "" {
			id = component.NewIDWithName(metadata.Type, name)
		}
		sub, err := cm.Sub(id.String())
		require.NoError(t, err)
		cfg := NewFactory().CreateDefaultConfig().(*Config)
		require.NoError(t, sub.Unmarshal(cfg))
		return cfg
	}
	cfg := load("")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, []pipeline.ID{fwdID}, cfg.Forward)
	assert.Equal(t, []pipeline.ID{qID}, cfg.Quarantine)
	require.NoError(t, confmap.Validate(load("two_forward")))
	withLedger := load("ledger")
	require.NoError(t, confmap.Validate(withLedger))
	require.True(t, withLedger.Ledger.IsSet())
	assert.Equal(t, component.MustNewID("consent_ledger"), withLedger.Ledger.ComponentID())
	assert.False(t, cfg.Ledger.IsSet(), "no ledger unless configured")
	for name, want := range map[string]string{
		"empty":        "quarantine: at least one pipeline is required",
		"overlap":      `pipeline "logs/x" is in both forward and quarantine`,
		"wrong_signal": "is not a logs pipeline",
	} {
		err := confmap.Validate(load(name))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), want, name)
	}
	require.NoError(t, componenttest.CheckConfigStruct(NewFactory().CreateDefaultConfig()))
}

type routes struct {
	fwd, q *consumertest.LogsSink
	conn   connector.Logs
	tel    *componenttest.Telemetry
}

func newRoutes(t *testing.T, fwd, q consumer.Logs) *routes {
	t.Helper()
	r := &routes{tel: componenttest.NewTelemetry()}
	t.Cleanup(func() { _ = r.tel.Shutdown(context.Background()) })
	if fwd == nil {
		r.fwd = new(consumertest.LogsSink)
		fwd = r.fwd
	}
	if q == nil {
		r.q = new(consumertest.LogsSink)
		q = r.q
	}
	set := connectortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = r.tel.NewTelemetrySettings()
	conn, err := NewFactory().CreateLogsToLogs(context.Background(), set, testCf,
		connector.NewLogsRouter(map[pipeline.ID]consumer.Logs{fwdID: fwd, qID: q}))
	require.NoError(t, err)
	r.conn = conn
	return r
}

// batch builds records with the given decisions ("" = no attribute, "int" =
// a non-string value) spread over two tenants.
func batch(decisions ...string) plog.Logs {
	ld := plog.NewLogs()
	for i, d := range decisions {
		var rl plog.ResourceLogs
		tenant := []string{"t1", "t2"}[i%2]
		for _, existing := range ld.ResourceLogs().All() {
			if v, _ := existing.Resource().Attributes().Get(ccaas.AttrTenantID); v.Str() == tenant {
				rl = existing
			}
		}
		if rl == (plog.ResourceLogs{}) {
			rl = ld.ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutStr(ccaas.AttrTenantID, tenant)
			rl.ScopeLogs().AppendEmpty().Scope().SetName("s")
		}
		lr := rl.ScopeLogs().At(0).LogRecords().AppendEmpty()
		lr.Attributes().PutStr(ccaas.AttrEventID, string(rune('a'+i)))
		switch d {
		case "":
		case "int":
			lr.Attributes().PutInt(ccaas.AttrConsentDecision, 1)
		default:
			lr.Attributes().PutStr(ccaas.AttrConsentDecision, d)
		}
	}
	return ld
}

func ids(sink *consumertest.LogsSink) []string {
	var out []string
	for _, ld := range sink.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					v, _ := lr.Attributes().Get(ccaas.AttrEventID)
					out = append(out, v.Str())
				}
			}
		}
	}
	return out
}

func TestRouting(t *testing.T) {
	for _, tc := range []struct {
		name      string
		decisions []string
		fwd, q    []string
	}{
		{"all forward", []string{"forward", "forward"}, []string{"a", "b"}, nil},
		{"all quarantine", []string{"quarantine", "quarantine"}, nil, []string{"a", "b"}},
		{"mixed over two resources", []string{"forward", "quarantine", "quarantine", "forward", "forward"}, []string{"a", "e", "d"}, []string{"c", "b"}},
		{"missing decision", []string{"forward", ""}, []string{"a"}, []string{"b"}},
		{"wrong case", []string{"Forward"}, nil, []string{"a"}},
		{"unknown value", []string{"allow", "forward"}, []string{"b"}, []string{"a"}},
		{"not a string", []string{"int"}, nil, []string{"a"}},
		{"empty string", []string{" "}, nil, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRoutes(t, nil, nil)
			require.NoError(t, r.conn.ConsumeLogs(context.Background(), batch(tc.decisions...)))
			assert.ElementsMatch(t, tc.fwd, ids(r.fwd), "forward")
			assert.ElementsMatch(t, tc.q, ids(r.q), "quarantine")
			for _, ld := range r.fwd.AllLogs() {
				for _, rl := range ld.ResourceLogs().All() {
					_, ok := rl.Resource().Attributes().Get(ccaas.AttrTenantID)
					assert.True(t, ok, "forwarded records keep their resource")
				}
			}
		})
	}
}

func TestInvalidDecisionIsMarked(t *testing.T) {
	r := newRoutes(t, nil, nil)
	ld := batch("", "forward")
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutEmptySlice(ccaas.AttrConsentReasons).AppendEmpty().SetStr("policy.error")
	require.NoError(t, r.conn.ConsumeLogs(context.Background(), ld))
	q := r.q.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	d, _ := q.Attributes().Get(ccaas.AttrConsentDecision)
	assert.Equal(t, "quarantine", d.Str())
	reasons, _ := q.Attributes().Get(ccaas.AttrConsentReasons)
	assert.Equal(t, []any{"policy.error", ReasonInvalidDecision}, reasons.Slice().AsRaw())
}

func TestSingleRouteBatchIsPassedUntouched(t *testing.T) {
	r := newRoutes(t, nil, nil)
	ld := batch("forward", "forward", "forward")
	require.NoError(t, r.conn.ConsumeLogs(context.Background(), ld))
	require.Len(t, r.fwd.AllLogs(), 1)
	assert.Equal(t, 3, r.fwd.AllLogs()[0].LogRecordCount())
}

func TestQuarantineFailureStopsForwarding(t *testing.T) {
	fwd := new(consumertest.LogsSink)
	r := newRoutes(t, fwd, consumertest.NewErr(errors.New("ledger unavailable")))
	err := r.conn.ConsumeLogs(context.Background(), batch("forward", "quarantine"))
	require.Error(t, err)
	assert.Zero(t, fwd.LogRecordCount(), "nothing is forwarded when quarantine failed")
}

func TestForwardFailureIsReturned(t *testing.T) {
	r := newRoutes(t, consumertest.NewErr(errors.New("exporter down")), nil)
	err := r.conn.ConsumeLogs(context.Background(), batch("forward", "quarantine"))
	require.Error(t, err)
	assert.Equal(t, 1, r.q.LogRecordCount())
}

func TestMetrics(t *testing.T) {
	r := newRoutes(t, nil, nil)
	require.NoError(t, r.conn.ConsumeLogs(context.Background(), batch("forward", "quarantine", "", "forward")))
	m, err := r.tel.GetMetric("consentry.router.records")
	require.NoError(t, err)
	got := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		route, _ := dp.Attributes.Value("route")
		inv, _ := dp.Attributes.Value("invalid")
		key := route.AsString()
		if inv.AsBool() {
			key += "/invalid"
		}
		got[key] += dp.Value
	}
	assert.Equal(t, map[string]int64{"forward": 2, "quarantine": 1, "quarantine/invalid": 1}, got)
}

func TestNeedsRouter(t *testing.T) {
	_, err := NewFactory().CreateLogsToLogs(context.Background(), connectortest.NewNopSettings(metadata.Type), testCf, consumertest.NewNop())
	assert.Error(t, err)
	_, err = NewFactory().CreateLogsToLogs(context.Background(), connectortest.NewNopSettings(metadata.Type),
		&Config{Forward: []pipeline.ID{pipeline.NewIDWithName(pipeline.SignalLogs, "missing")}, Quarantine: []pipeline.ID{qID}},
		connector.NewLogsRouter(map[pipeline.ID]consumer.Logs{qID: consumertest.NewNop()}))
	assert.Error(t, err)
}

func benchmarkRoute(b *testing.B, decisions []string) {
	set := connectortest.NewNopSettings(metadata.Type)
	conn, err := NewFactory().CreateLogsToLogs(context.Background(), set, testCf,
		connector.NewLogsRouter(map[pipeline.ID]consumer.Logs{fwdID: consumertest.NewNop(), qID: consumertest.NewNop()}))
	if err != nil {
		b.Fatal(err)
	}
	src := batch(decisions...)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		ld := plog.NewLogs()
		src.CopyTo(ld)
		b.StartTimer()
		if err := conn.ConsumeLogs(context.Background(), ld); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(decisions)), "ns/record")
}

func BenchmarkRouteOneRecord(b *testing.B) { benchmarkRoute(b, []string{"forward"}) }

func BenchmarkRouteMixed100(b *testing.B) {
	d := make([]string, 100)
	for i := range d {
		d[i] = []string{"forward", "quarantine"}[i%2]
	}
	benchmarkRoute(b, d)
}

func TestRegistersForwardPipelinesWithTheLedger(t *testing.T) {
	ctx := context.Background()
	ledgerID := component.MustNewID("consent_ledger")
	fwd, q := new(consumertest.LogsSink), new(consumertest.LogsSink)
	cfg := &Config{Forward: []pipeline.ID{fwdID}, Quarantine: []pipeline.ID{qID}, Ledger: consentledger.NewID(ledgerID)}
	conn, err := NewFactory().CreateLogsToLogs(ctx, connectortest.NewNopSettings(metadata.Type), cfg,
		connector.NewLogsRouter(map[pipeline.ID]consumer.Logs{fwdID: fwd, qID: q}))
	require.NoError(t, err)

	err = conn.Start(ctx, consentledgertest.Host(nil))
	require.ErrorContains(t, err, `extension "consent_ledger" not found`)
	nop, err := extensiontest.NewNopFactory().Create(ctx, extensiontest.NewNopSettings(extensiontest.NopType), nil)
	require.NoError(t, err)
	require.ErrorContains(t, conn.Start(ctx, consentledgertest.Host(map[component.ID]component.Component{ledgerID: nop})), "is not a consent_ledger extension")

	l := consentledgertest.New()
	l.Releases().RegisterEvaluator(component.MustNewID("consent"), consentledger.EvaluatorFunc(func(_ context.Context, ld plog.Logs) error {
		ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutStr(ccaas.AttrConsentDecision, ccaas.DecisionForward)
		return nil
	}))
	require.NoError(t, conn.Start(ctx, l.Host(ledgerID)))
	out, err := l.Hub().Release(ctx, batch("quarantine"), false)
	require.NoError(t, err)
	assert.True(t, out.Forwarded)
	assert.Equal(t, []string{"a"}, ids(fwd), "a released record reaches the forward pipelines")
	assert.Zero(t, q.LogRecordCount())

	require.NoError(t, conn.Shutdown(ctx))
	_, err = l.Hub().Release(ctx, batch("quarantine"), false)
	require.ErrorIs(t, err, consentledger.ErrNoForward, "shutdown unregisters")
}

// TestTellsTheConsentProcessorsItIsThere: a consent processor upstream,
// which starts after the router, finds it through consentroute; after
// Shutdown it is gone (docs/design/unrouted.md).
func TestTellsTheConsentProcessorsItIsThere(t *testing.T) {
	ctx := context.Background()
	set := connectortest.NewNopSettings(metadata.Type)
	conn, err := NewFactory().CreateLogsToLogs(ctx, set, testCf,
		connector.NewLogsRouter(map[pipeline.ID]consumer.Logs{fwdID: consumertest.NewNop(), qID: consumertest.NewNop()}))
	require.NoError(t, err)
	host := &struct {
		component.Host
		n int // not zero-sized, so that this host is a key of its own
	}{componenttest.NewNopHost(), 1}
	assert.Empty(t, consentroute.Routers(host))
	require.NoError(t, conn.Start(ctx, host))
	assert.Equal(t, []component.ID{set.ID}, consentroute.Routers(host))
	require.NoError(t, conn.Shutdown(ctx))
	assert.Empty(t, consentroute.Routers(host))
}
