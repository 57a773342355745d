package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

func TestReplaceSection(t *testing.T) {
	section := "## Bench\n\n| a | b |\n"
	// No markers: appended, the rest untouched.
	doc := []byte("# Benchmarks\n\nhand-written text\n")
	out, err := replaceSection(doc, section)
	require.NoError(t, err)
	assert.Equal(t, "# Benchmarks\n\nhand-written text\n\n"+beginMarker+"\n## Bench\n\n| a | b |\n"+endMarker+"\n", string(out))

	// Markers: only what is between them changes.
	doc = []byte("before\n" + beginMarker + "\nold table\n" + endMarker + "\nafter\n")
	out, err = replaceSection(doc, "new table")
	require.NoError(t, err)
	assert.Equal(t, "before\n"+beginMarker+"\nnew table\n"+endMarker+"\nafter\n", string(out))
	// Idempotent.
	again, err := replaceSection(out, "new table")
	require.NoError(t, err)
	assert.Equal(t, out, again)

	for name, bad := range map[string]string{
		"begin only": "x\n" + beginMarker + "\n",
		"end first":  endMarker + "\n" + beginMarker + "\n",
		"two begins": beginMarker + beginMarker + endMarker,
		"end only":   "x\n" + endMarker + "\n",
	} {
		_, err := replaceSection([]byte(bad), "t")
		assert.Error(t, err, name)
	}
	out, err = replaceSection(nil, "t")
	require.NoError(t, err)
	assert.Equal(t, beginMarker+"\nt\n"+endMarker+"\n", string(out))
}

func TestParseProc(t *testing.T) {
	// The command name may hold spaces and parentheses.
	stat := []byte("4242 (otelcol (x) y) S 1 4242 4242 0 -1 4194560 12345 0 0 0 250 75 0 0 20 0 12 0 100 1000000 5000 18446744073709551615")
	cpu, err := parseStatCPU(stat)
	require.NoError(t, err)
	assert.InDelta(t, 3.25, cpu, 1e-9, "(250+75) ticks at 100/s")
	_, err = parseStatCPU([]byte("garbage"))
	assert.Error(t, err)
	_, err = parseStatCPU([]byte("1 (x) S 1 2"))
	assert.Error(t, err)

	status := []byte("Name:\totelcol\nVmPeak:\t  900000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t12\n")
	rss, hwm := parseStatusMem(status)
	assert.EqualValues(t, 100<<20, rss)
	assert.EqualValues(t, 200<<20, hwm)

	// This process, for real.
	p, err := readProc(os.Getpid())
	require.NoError(t, err)
	assert.True(t, p.valid)
	assert.Positive(t, p.rss)
	assert.GreaterOrEqual(t, p.hwm, p.rss)
}

// TestSamplerWindow: the sampler's cores agree with the CPU time the kernel
// reports for this process over the same window (a busy loop gets less
// than a core on a loaded machine, so the test compares, not thresholds).
func TestSamplerWindow(t *testing.T) {
	cpuTime := func() time.Duration {
		var ru syscall.Rusage
		require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	s := startSampler(os.Getpid(), 10*time.Millisecond)
	cpu0 := cpuTime()
	from := s.now()
	deadline := time.Now().Add(300 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) { // burn CPU
		x++
	}
	to := s.now()
	cpu1 := cpuTime()
	s.close()
	cores, rss := s.window(from, to)
	want := (cpu1 - cpu0).Seconds() / to.at.Sub(from.at).Seconds()
	require.Positive(t, want, "the busy loop ran (%d iterations)", x)
	// /proc counts CPU time in 10 ms ticks: over 300 ms, a few ticks off.
	assert.InDelta(t, want, cores, 0.12, "sampler %.2f cores, kernel %.2f cores", cores, want)
	assert.Positive(t, rss)
	c, r := s.window(procSample{}, to)
	assert.Zero(t, c)
	assert.Zero(t, r)
}

func TestNum(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 10_000_000: "10,000,000", 12345.6: "12,346", -4200: "-4,200"} {
		assert.Equal(t, want, num(in))
	}
}

func TestConfigsParse(t *testing.T) {
	ports := map[string]int{"genesys": 1, "twilio": 2, "segment": 3, "talkdesk": 4, "otlp": 5, "health": 6, "metrics": 7, "pprof": 8}
	for name, d := range map[string]configData{
		"baseline":   {Ports: ports, Sink: "http://127.0.0.1:9", Baseline: true},
		"stand-in":   {Ports: ports, Policy: "/p.yaml", Sink: "http://127.0.0.1:9", QSink: "http://127.0.0.1:8", SyncExport: true},
		"quarantine": {Ports: ports, Policy: "/p.yaml", Sink: "http://127.0.0.1:9", Ledger: "/tmp/l.db"},
		"shared-pg": {Ports: ports, Policy: "/p.yaml", Sink: "http://127.0.0.1:9", Postgres: true, PGSchema: "consentry_bench_x", WriterID: "bench-1",
			TwilioPublicURL: sharedTwilioURL},
	} {
		b, err := renderConfig(d)
		require.NoError(t, err, name)
		ret, err := confmap.NewRetrievedFromYAML(b)
		require.NoError(t, err, name)
		conf, err := ret.AsConf()
		require.NoError(t, err, "%s:\n%s", name, b)
		pipes := conf.Get("service::pipelines").(map[string]any)
		if d.Baseline {
			assert.Contains(t, pipes, "logs", name)
			assert.Nil(t, conf.Get("processors"), name)
		} else {
			assert.Len(t, pipes, 3, name)
			assert.Equal(t, d.LedgerOn(), conf.IsSet("extensions::consent_ledger"), name)
			assert.Equal(t, d.LedgerOn(), conf.IsSet("exporters::quarantine"), name)
			assert.Equal(t, d.LedgerOn(), conf.IsSet("processors::consent::ledger"), name)
			if d.LedgerOn() {
				assert.Equal(t, "1s", conf.Get("exporters::quarantine::admission::max_wait"), "%s: the bound the overload row is judged against", name)
			}
			if d.Postgres {
				assert.Equal(t, "postgres", conf.Get("extensions::consent_ledger::backend"), name)
				assert.Equal(t, "${env:CONSENTRY_LEDGER_PG_DSN}", conf.Get("extensions::consent_ledger::postgres::dsn"), "%s: the DSN (it may hold a password) is a reference", name)
				assert.Equal(t, d.PGSchema, conf.Get("extensions::consent_ledger::postgres::schema"), name)
				assert.Equal(t, d.WriterID, conf.Get("extensions::consent_ledger::writer_id"), name)
				assert.False(t, conf.IsSet("extensions::consent_ledger::sqlite"), name)
				assert.Equal(t, sharedTwilioURL, conf.Get("receivers::twilio::public_url"), name)
			} else {
				assert.Equal(t, "http://127.0.0.1:2", conf.Get("receivers::twilio::public_url"), name)
				assert.False(t, conf.IsSet("extensions::consent_ledger::writer_id"), name)
			}
		}
		if !d.Baseline {
			// Secrets are references, never values.
			assert.Contains(t, string(b), "${env:CONSENTRY_GENESYS_SECRET}", name)
		}
	}
}

// With a built distribution, every generated configuration validates.
func TestConfigsValidateWithTheDistribution(t *testing.T) {
	bin, _ := filepath.Abs(filepath.Join("..", "..", "_build", "otelcol-consentry"))
	if _, err := os.Stat(bin); err != nil {
		t.Skip("no built distribution (make build):", err)
	}
	ledger, err := hasLedger(bin)
	require.NoError(t, err)
	policy, _ := filepath.Abs(filepath.Join("..", "..", "config", "policy.yaml"))
	ports := map[string]int{"genesys": 1, "twilio": 2, "segment": 3, "talkdesk": 4, "otlp": 5, "health": 6, "metrics": 7, "pprof": 8}
	cases := map[string]configData{
		"baseline": {Ports: ports, Sink: "http://127.0.0.1:9", Baseline: true},
		"stand-in": {Ports: ports, Policy: policy, Sink: "http://127.0.0.1:9", QSink: "http://127.0.0.1:8", SyncExport: true},
	}
	if ledger {
		cases["quarantine"] = configData{Ports: ports, Policy: policy, Sink: "http://127.0.0.1:9", Ledger: filepath.Join(t.TempDir(), "l.db")}
		cases["shared-pg"] = configData{Ports: ports, Policy: policy, Sink: "http://127.0.0.1:9", Postgres: true, PGSchema: "consentry_bench_x",
			WriterID: "bench-1", TwilioPublicURL: sharedTwilioURL}
	}
	re := newRunEnv(benchConfig{}, nil)
	for name, d := range cases {
		b, err := renderConfig(d)
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "config.yaml")
		require.NoError(t, os.WriteFile(path, b, 0o600))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, bin, "validate", "--config", path)
		cmd.Env = append(os.Environ(), append(re.env, "CONSENTRY_LEDGER_KEY="+randomHex(32), "CONSENTRY_LEDGER_PG_DSN=postgres://bench:s3cret@127.0.0.1:1/x")...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err = cmd.Run()
		cancel()
		assert.NoError(t, err, "%s: %s", name, out.String())
		for _, secret := range []string{re.secrets.GenesysAPIKey, re.secrets.TwilioAuthToken, "s3cret"} {
			assert.False(t, strings.Contains(out.String(), secret), "a secret in the output")
		}
	}
}

// TestOverloadRow: the overload scenario's row says what was refused, the
// accepted requests' p99 against the bound and whether anything was lost.
func TestOverloadRow(t *testing.T) {
	o := &overloadResult{Offered: 10000, Achieved: 9800, Accepted: 4900, Connections: 1024, Share503: 0.5, ShareTimeout: 0.001,
		AcceptedP50: 300, AcceptedP99: 700, AcceptedMax: 900, AcceptedServiceP50: 120, AcceptedServiceP99: 400, RefusedP99: 650, BoundMs: 1000, durabilityResult: newDurability(120000, 120000)}
	cfg := benchConfig{Duration: time.Second, Warmup: time.Second, Rate: 5000, Connections: 256, OverloadConnections: 1024, Subjects: 10}
	out := table([]*scenarioResult{{Name: scOverload, Title: title(scOverload, cfg), Overload: o}}, cfg)
	assert.Contains(t, out, "| overload: quarantine offered at 2× its flat-out rate, 1,024 connections | 4,900 accepted of 10,000 offered |")
	assert.Contains(t, out, "50.0 % 503, 0.1 % timed out (5 s), 0 lost ✓")
	assert.Contains(t, out, "2xx p99 ≤ 1,000 ms ✓ (from the send ✓)")
	assert.Contains(t, out, "from the send: 120.0 / 400.0 ms")
	assert.Contains(t, out, "120,000 events acknowledged")
	assert.Contains(t, out, "Nothing lost: 120,000 events acknowledged")
	js, err := json.Marshal(o)
	require.NoError(t, err)
	assert.Contains(t, string(js), `"acknowledged":120000,"ledger_rows":120000,"lost":0`, "the overload JSON keeps its fields")
	o.durabilityResult, o.AcceptedP99 = newDurability(120000, 119999), 1200
	out = table([]*scenarioResult{{Name: scOverload, Title: title(scOverload, cfg), Overload: o}}, cfg)
	assert.Contains(t, out, "1 lost ✗")
	assert.Contains(t, out, "ACKNOWLEDGED EVENTS LOST: 120,000 events acknowledged")
	assert.Contains(t, out, "2xx p99 ≤ 1,000 ms ✗ (from the send ✓)", "judged from the due time; the service time is shown beside it")
	o.AcceptedServiceP99 = 1100
	out = table([]*scenarioResult{{Name: scOverload, Title: title(scOverload, cfg), Overload: o}}, cfg)
	assert.Contains(t, out, "2xx p99 ≤ 1,000 ms ✗ (from the send ✗)")
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"-h"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "-scenarios")
	for _, args := range [][]string{
		{"-scenarios", "nope"},
		{"-scenarios", ","},
		{"-duration", "0"},
		{"-binary", filepath.Join(t.TempDir(), "absent")},
		{"stray"},
	} {
		errOut.Reset()
		code := run(context.Background(), args, &out, &errOut)
		assert.Equal(t, 2, code, "%v: %s", args, errOut.String())
	}
}

func TestPrefillSmall(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	p, err := ensurePrefilled(context.Background(), dir, 3000, 100, &log)
	require.NoError(t, err)
	assert.EqualValues(t, 3000, p.rows)
	assert.Len(t, p.key, 64)
	db, _, done := prefillPaths(dir, 3000)
	assert.FileExists(t, db)
	assert.FileExists(t, done)
	// The second call reuses the cache.
	log.Reset()
	again, err := ensurePrefilled(context.Background(), dir, 3000, 100, &log)
	require.NoError(t, err)
	assert.Equal(t, p.key, again.key)
	assert.Contains(t, log.String(), "reusing")
}

// TestPostgresRows: the PostgreSQL rows give their ratios to the baseline,
// the SQLite ledger and (shared-pg) one collector, the server's CPU beside
// the collectors', and say whether anything acknowledged is missing.
func TestPostgresRows(t *testing.T) {
	cfg := benchConfig{Duration: time.Second, Warmup: time.Second, Rate: 5000, Connections: 256, OverloadConnections: 1024, Subjects: 10}
	rs := []*scenarioResult{
		{Name: scBaseline, Title: title(scBaseline, cfg), FlatRate: 10000},
		{Name: scQuarantine, Title: title(scQuarantine, cfg), FlatRate: 8000},
		{Name: scQuarantinePG, Title: title(scQuarantinePG, cfg), FlatRate: 4000, FixedOK: true, P99: 20, FlatCores: 1.1, FixedCores: 0.9,
			PGFlatCores: 0.6, PGFixedCores: 0.4, Durability: &durabilityResult{Acknowledged: 90000, LedgerRows: 90000}},
		{Name: scSharedPG, Title: title(scSharedPG, cfg), Replicas: 2, FlatRate: 5000, FixedOK: true, P99: 45,
			Durability: &durabilityResult{Acknowledged: 100000, LedgerRows: 99999, Lost: 1}},
	}
	out := table(rs, cfg)
	assert.Contains(t, out, "| 4,000 | measured (no target) | 0.40× baseline, 0.50× SQLite | ")
	assert.Contains(t, out, "| 5,000 | measured (no target) | 0.50× baseline, 0.62× SQLite, 1.25× one collector | ")
	assert.Contains(t, out, "| 1.10 / 0.90 (+ PostgreSQL server 0.60 / 0.40) |")
	assert.Contains(t, out, "quarantine-pg: Nothing lost: 90,000 events acknowledged by the collector")
	assert.Contains(t, out, "0 acknowledged events missing ✓")
	assert.Contains(t, out, "shared-pg: ACKNOWLEDGED EVENTS LOST: 100,000 events acknowledged by the 2 collectors")
	assert.NotContains(t, out, "shared-pg: Nothing lost", "a loss is not introduced as nothing lost")
	assert.Contains(t, out, "1 acknowledged events missing ✗")
	assert.Contains(t, out, "| ≤ 30 ms ✗ |", "shared-pg's p99 of 45 ms misses")
	rs[2].Skipped = "no PostgreSQL (set -postgres or CONSENTRY_BENCH_POSTGRES_DSN)"
	assert.Contains(t, table(rs[2:3], cfg), "| quarantine-pg: every event quarantined (PostgreSQL, durable) | skipped: no PostgreSQL")
}

func TestDefaultPostgresDSN(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	assert.Empty(t, defaultPostgresDSN(get))
	env["CONSENTRY_TEST_POSTGRES_DSN"] = "postgres://test"
	assert.Equal(t, "postgres://test", defaultPostgresDSN(get))
	env["CONSENTRY_BENCH_POSTGRES_DSN"] = "postgres://bench"
	assert.Equal(t, "postgres://bench", defaultPostgresDSN(get))
}
