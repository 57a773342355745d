package quarantineexporter

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/consentry/consentry/exporter/quarantineexporter/internal/metadata"
	"github.com/consentry/consentry/internal/admission"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentledger/consentledgertest"
)

// overloadResult is what callers saw while offering more than the ledger
// commits.
type overloadResult struct {
	accepted, refused []string        // event ids
	latencies         []time.Duration // of accepted exports
	other             []error
}

func (r *overloadResult) p99() time.Duration { return r.q(0.99) }

func (r *overloadResult) q(f float64) time.Duration {
	s := slices.Clone(r.latencies)
	slices.Sort(s)
	return s[int(float64(len(s))*f)]
}

// offer runs callers closed-loop goroutines, each exporting one event at a
// time for d; a refused caller comes back after backoff (a vendor's retry,
// with a new event so that every id is either accepted or refused).
func offer(ctx context.Context, exp exporter.Logs, prefix string, callers int, d, backoff time.Duration) *overloadResult {
	var mu sync.Mutex
	res := &overloadResult{}
	var seq atomic.Int64
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				id := fmt.Sprintf("%s-%d", prefix, seq.Add(1))
				ld := plog.NewLogs()
				event(ld, "org-1", id, "sk-"+id, "text")
				start := time.Now()
				err := exp.ConsumeLogs(ctx, ld)
				took := time.Since(start)
				mu.Lock()
				switch {
				case err == nil:
					res.accepted = append(res.accepted, id)
					res.latencies = append(res.latencies, took)
				case consumererror.IsPermanent(err):
					res.other = append(res.other, err)
				default:
					res.refused = append(res.refused, id)
					if !assert.ErrorIs(nil, err, admission.ErrOverloaded) {
						res.other = append(res.other, err)
					}
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(backoff)
				}
			}
		}()
	}
	wg.Wait()
	return res
}

// TestAdmissionUnderOverload: a ledger that commits 200 records/s, offered
// what 200 concurrent callers send. Without admission control every export
// queues behind the others (about 1 s each); with it, exports beyond what
// the ledger commits within max_wait are refused at once with a retryable
// error (503 + Retry-After at the receiver), the accepted ones keep their
// p99 within max_wait, and every accepted record is in the ledger while no
// refused one is. The p99 is wall-clock time, which a machine loaded far
// past its cores stretches whatever admission does: up to three runs, one
// must keep the bound; every run must lose nothing.
func TestAdmissionUnderOverload(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 4-10 s")
	}
	const maxWait = 500 * time.Millisecond
	t.Run("admission=false", func(t *testing.T) {
		res, _ := overloadRun(t, false, maxWait, time.Second)
		assert.Empty(t, res.refused)
		assert.Greater(t, res.p99(), maxWait, "without admission control the callers queue past the bound (else this test shows nothing)")
	})
	t.Run("admission=true", func(t *testing.T) {
		var p99s []time.Duration
		for range 3 {
			res, tel := overloadRun(t, true, maxWait, 2*time.Second)
			assert.NotEmpty(t, res.refused, "overload is refused")
			m, err := tel.GetMetric("consentry.quarantine.refused")
			require.NoError(t, err)
			pts := m.Data.(metricdata.Sum[int64]).DataPoints
			require.Len(t, pts, 1)
			assert.Equal(t, int64(len(res.refused)), pts[0].Value, "every refused record is counted")
			v, _ := pts[0].Attributes.Value("exporter")
			assert.True(t, strings.HasPrefix(v.AsString(), "quarantine"), v.AsString())
			p99s = append(p99s, res.p99())
			if res.p99() <= maxWait {
				return
			}
		}
		t.Errorf("the accepted exports' p99 exceeded admission.max_wait (%s) in every run: %v", maxWait, p99s)
	})
}

// overloadRun starts an exporter in front of a ledger that commits 200
// records/s, warms it up with a light load, then offers what 200 callers
// send for d. It checks that every accepted record and no refused one is
// in the ledger.
func overloadRun(t *testing.T, enabled bool, maxWait, d time.Duration) (*overloadResult, *componenttest.Telemetry) {
	t.Helper()
	ctx := context.Background()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	l := consentledgertest.New()
	l.Throttle(5 * time.Millisecond)
	require.NoError(t, l.Start(ctx, componenttest.NewNopHost()))
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Ledger = consentledger.NewID(ledgerID)
	cfg.Admission.Enabled, cfg.Admission.MaxWait = enabled, maxWait
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	exp, err := NewFactory().CreateLogs(ctx, set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, l.Host(ledgerID)))
	defer func() { require.NoError(t, exp.Shutdown(context.Background())) }()

	// The collector has been running: a light load lets the exporter
	// measure the ledger's throughput.
	warm := offer(ctx, exp, "warm", 8, 400*time.Millisecond, 0)
	require.Empty(t, warm.refused, "8 callers of a 200/s ledger wait about 40 ms")
	res := offer(ctx, exp, "load", 200, d, 100*time.Millisecond)
	require.Empty(t, res.other)
	require.NotEmpty(t, res.accepted)
	t.Logf("admission %v: accepted %d, refused %d; accepted p50 %s, p90 %s, p99 %s", enabled,
		len(res.accepted), len(res.refused), res.q(.5), res.q(.9), res.p99())
	stored := map[string]bool{}
	for _, r := range l.Records() {
		stored[r.EventID] = true
	}
	for _, id := range res.accepted {
		require.True(t, stored[id], "accepted event %s is not in the ledger", id)
	}
	for _, id := range res.refused {
		require.False(t, stored[id], "refused event %s was stored", id)
	}
	return res, tel
}
