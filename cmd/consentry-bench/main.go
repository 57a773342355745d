// Command consentry-bench is `make bench`: it runs the built distribution
// (_build/otelcol-consentry; it builds nothing itself) under signed vendor
// webhooks from the load generator (cmd/consentry-loadgen, in process) and
// writes a table of events/s, latency, CPU and memory per scenario, beside
// the BRIEF.md targets, to docs/benchmarks.md (between
// <!-- bench:begin --> and <!-- bench:end -->) and to stdout.
//
//	consentry-bench [-scenarios baseline,forward,quarantine,overload,mixed,prefilled,quarantine-pg,shared-pg]
//	                [-duration 20s] [-warmup 3s] [-rate 5000] [-connections 256]
//	                [-overload-connections 1024]
//	                [-prefill 10000000] [-postgres DSN] [-doc docs/benchmarks.md | -doc ""]
//
// Scenarios (each starts the collector afresh, with a generated config in a
// temporary directory and random secrets):
//
//	baseline    the stock otlp receiver (OTLP/HTTP) -> the forward exporter; the same
//	            events as OTLP/JSON, one per request
//	forward     four vendor receivers -> consent -> consent_router -> the forward exporter;
//	            every event forwarded
//	quarantine  the same, every event quarantined into the SQLite ledger (consent_ledger
//	            extension + quarantine exporter: durable before the 2xx)
//	overload    quarantine offered at twice the flat-out rate the quarantine scenario measured
//	            in the same run (or measured first, without it), over -overload-connections
//	            with the vendors' 5 s timeout, one phase: the share of 503s (admission control),
//	            the 2xx answers' p99 against admission.max_wait, and that every 2xx is in the
//	            ledger (its row count after the collector stopped)
//	mixed       half forwarded, half quarantined
//	prefilled   quarantine into a ledger already holding -prefill records (made once through
//	            internal/ledger and cached under -data-dir, keyed by the count)
//	quarantine-pg  quarantine into a PostgreSQL ledger (-postgres: a fresh schema, dropped after)
//	shared-pg   two collectors (each its own writer_id) sharing one PostgreSQL ledger, the
//	            generator's connections spread over both as a load balancer would; rates are
//	            the sum, latencies from both; then every 2xx is checked to be in the ledger
//
// The PostgreSQL scenarios need a database: -postgres DSN, by default
// CONSENTRY_BENCH_POSTGRES_DSN or else CONSENTRY_TEST_POSTGRES_DSN; without
// one their rows say they were skipped. PostgreSQL runs on the same cores:
// its server processes' CPU is reported beside the collectors'.
//
// Each scenario has two phases of -duration after a -warmup: flat out (events/s),
// then a fixed -rate (p50/p99/p99.9 from each event's due time, CPU, RSS).
// Before the scenarios, a short check sends mixed events through a pipeline
// whose quarantine route goes to a second sink and verifies that the
// collector forwards exactly the events the generator meant to be forwarded.
//
// A quick run: consentry-bench -duration 5s -warmup 1s -scenarios baseline,forward -prefill 100000 -doc ""
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/consentry/consentry/cmd/consentry-loadgen/loadgen"
)

// Scenario names.
const (
	scBaseline   = "baseline"
	scForward    = "forward"
	scQuarantine = "quarantine"
	scOverload   = "overload"
	scMixed      = "mixed"
	scPrefilled  = "prefilled"
	// The PostgreSQL scenarios.
	scQuarantinePG = "quarantine-pg"
	scSharedPG     = "shared-pg"
)

var allScenarios = []string{scBaseline, scForward, scQuarantine, scOverload, scMixed, scPrefilled, scQuarantinePG, scSharedPG}

// isPG reports whether scenario name keeps its ledger in PostgreSQL.
func isPG(name string) bool { return name == scQuarantinePG || name == scSharedPG }

// replicas is how many collectors scenario name runs side by side.
func replicas(name string) int {
	if name == scSharedPG {
		return 2
	}
	return 1
}

// The overload scenario's settings.
const (
	// overloadFactor times the quarantine flat-out rate is offered.
	overloadFactor = 2
	// overloadBound is the quarantine exporter's admission.max_wait in
	// every scenario (its default).
	overloadBound = time.Second
	// vendorTimeout is how long Amazon EventBridge, Segment and Twilio
	// Event Streams wait for an answer.
	vendorTimeout = 5 * time.Second
)

type benchConfig struct {
	Binary      string
	Scenarios   []string
	Duration    time.Duration
	Warmup      time.Duration
	Rate        float64
	Connections int
	// OverloadConnections is the overload scenario's connections.
	OverloadConnections int
	Subjects            int
	Prefill             int64
	DataDir             string
	// Postgres is the DSN of the PostgreSQL scenarios' database ("": skip them).
	Postgres    string
	Policy      string
	Doc         string
	JSONOut     string
	SyncExport  bool
	Verify      bool
	Keep        bool
	ProfileDir  string
	CommandLine string
}

// scenarioResult is one row of the table.
type scenarioResult struct {
	Name       string  `json:"name"`
	Title      string  `json:"title"`
	Skipped    string  `json:"skipped,omitempty"`
	FlatRate   float64 `json:"flat_out_events_per_s"` // 2xx per second, flat out
	FlatP99    float64 `json:"flat_out_p99_ms"`
	FlatCores  float64 `json:"flat_out_cpu_cores"`
	FixedRate  float64 `json:"fixed_rate_achieved"`
	FixedOK    bool    `json:"fixed_rate_sustained"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	P999       float64 `json:"p99_9_ms"`
	FixedCores float64 `json:"fixed_rate_cpu_cores"`
	FixedRSS   int64   `json:"fixed_rate_peak_rss_bytes"`
	PeakRSS    int64   `json:"peak_rss_bytes"` // VmHWM over the whole run
	Non2xx     int64   `json:"non_2xx"`
	Errors     int64   `json:"errors"`
	LedgerRows int64   `json:"ledger_rows_before,omitempty"`
	// ProcessorShare is the consent processor's share of the collector's
	// CPU while flat out (from a CPU profile through the pprof extension).
	ProcessorShare float64 `json:"consent_processor_cpu_share,omitempty"`
	ProfileSamples int64   `json:"profile_samples,omitempty"`
	// Replicas is the number of collectors sharing the load and the
	// ledger (shared-pg: 2); CPU is their sum, RSS the largest.
	Replicas int `json:"replicas,omitempty"`
	// PGCores is the PostgreSQL server's CPU (its processes' utime+stime
	// per second) flat out and at the fixed rate (PostgreSQL scenarios).
	PGFlatCores  float64 `json:"postgres_server_cpu_cores_flat_out,omitempty"`
	PGFixedCores float64 `json:"postgres_server_cpu_cores_fixed_rate,omitempty"`
	// Durability is the check that every 2xx is in the ledger
	// (PostgreSQL scenarios; the overload scenario has its own).
	Durability *durabilityResult `json:"durability,omitempty"`
	// Overload is the overload scenario's result (nil in the others).
	Overload *overloadResult `json:"overload,omitempty"`
}

// durabilityResult compares what was acknowledged with what the ledger
// holds after the collectors stopped.
type durabilityResult struct {
	Acknowledged int64 `json:"acknowledged"` // 2xx of the whole run, warm-ups included
	LedgerRows   int64 `json:"ledger_rows"`
	Lost         int64 `json:"lost"` // Acknowledged - LedgerRows when positive: must be 0
}

// newDurability compares acknowledged with the rows counted in the ledger.
func newDurability(acknowledged, rows int64) durabilityResult {
	return durabilityResult{Acknowledged: acknowledged, LedgerRows: rows, Lost: max(0, acknowledged-rows)}
}

// verdict is how the report opens its sentence on the check.
func (d durabilityResult) verdict() string {
	if d.Lost == 0 && d.Acknowledged > 0 {
		return "Nothing lost"
	}
	return "ACKNOWLEDGED EVENTS LOST"
}

// overloadResult is what the overload scenario measured.
type overloadResult struct {
	Offered      float64 `json:"offered_events_per_s"`  // the schedule
	Achieved     float64 `json:"achieved_events_per_s"` // answered per second
	Accepted     float64 `json:"accepted_events_per_s"` // 2xx per second
	Connections  int     `json:"connections"`
	Share503     float64 `json:"share_503"`
	ShareTimeout float64 `json:"share_timeout"` // past the vendors' 5 s
	ShareOther   float64 `json:"share_other"`   // any other non-2xx or error (canceled: still unanswered at the end)
	// MaxLagMs is how far the generator fell behind its schedule: when
	// large, latencies from the due time measure the generator too.
	MaxLagMs    float64 `json:"generator_max_lag_ms"`
	AcceptedP50 float64 `json:"accepted_p50_ms"`
	AcceptedP99 float64 `json:"accepted_p99_ms"`
	AcceptedMax float64 `json:"accepted_max_ms"`
	// AcceptedService* are the 2xx latencies from the send, without the
	// generator's lag: the collector's own time, which admission control
	// bounds. The target is judged on AcceptedP99 (from the due time).
	AcceptedServiceP50 float64 `json:"accepted_service_p50_ms"`
	AcceptedServiceP99 float64 `json:"accepted_service_p99_ms"`
	RefusedP99         float64 `json:"all_answers_p99_ms"`
	BoundMs            float64 `json:"bound_ms"` // admission.max_wait
	// The 2xx of the whole run (warm-up included) against the records the
	// ledger holds after the collector stopped (JSON fields inline).
	durabilityResult
	Cores float64 `json:"cpu_cores"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("consentry-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg benchConfig
	scen := fs.String("scenarios", strings.Join(allScenarios, ","), "scenarios to run, of "+strings.Join(allScenarios, ", "))
	fs.StringVar(&cfg.Binary, "binary", "_build/otelcol-consentry", "the built distribution")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, "length of each measured phase")
	fs.DurationVar(&cfg.Warmup, "warmup", 3*time.Second, "unmeasured warm-up before each phase")
	fs.Float64Var(&cfg.Rate, "rate", 5000, "events/s of the fixed-rate phase")
	fs.IntVar(&cfg.Connections, "connections", 256, "keep-alive connections of the load generator (requests in flight at most; vendors deliver with many)")
	fs.IntVar(&cfg.OverloadConnections, "overload-connections", 1024, "connections of the overload scenario")
	fs.IntVar(&cfg.Subjects, "subjects", 100000, "distinct subjects")
	fs.Int64Var(&cfg.Prefill, "prefill", 10_000_000, "records in the prefilled ledger")
	fs.StringVar(&cfg.DataDir, "data-dir", "data/bench", "where the prefilled ledger is cached")
	fs.StringVar(&cfg.Postgres, "postgres", defaultPostgresDSN(os.Getenv), "PostgreSQL DSN of the "+scQuarantinePG+" and "+scSharedPG+" scenarios (each uses a fresh schema and drops it; default: $CONSENTRY_BENCH_POSTGRES_DSN, else $CONSENTRY_TEST_POSTGRES_DSN; empty: skip them)")
	fs.StringVar(&cfg.Policy, "policy", "config/policy.yaml", "the consent policy")
	fs.StringVar(&cfg.Doc, "doc", "docs/benchmarks.md", "markdown file whose bench section is replaced (\"\": print only)")
	fs.StringVar(&cfg.JSONOut, "json", "", "also write the results as JSON to this file")
	fs.BoolVar(&cfg.SyncExport, "sync-export", false, "forward exporter without a sending queue (2xx only once the sink has the event)")
	fs.BoolVar(&cfg.Verify, "verify", true, "first check, on the running collector, that the generator's consent mix is what the policy decides")
	fs.StringVar(&cfg.ProfileDir, "profile-dir", "", "also write each scenario's flat-out CPU profile to DIR/SCENARIO.pprof")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the scenarios' temporary directories (configs, collector logs, ledgers)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: consentry-bench [flags]\n\nRuns the built distribution under load and writes the benchmark table (see the package documentation).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	quoted := []string{"consentry-bench"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'") {
			a = strconv.Quote(a)
		}
		quoted = append(quoted, a)
	}
	cfg.CommandLine = strings.Join(quoted, " ")
	for _, s := range strings.Split(*scen, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !contains(allScenarios, s) {
			fmt.Fprintf(stderr, "consentry-bench: unknown scenario %q (have %s)\n", s, strings.Join(allScenarios, ", "))
			return 2
		}
		cfg.Scenarios = append(cfg.Scenarios, s)
	}
	if len(cfg.Scenarios) == 0 || cfg.Duration <= 0 || cfg.Rate <= 0 || cfg.Connections < 1 || cfg.OverloadConnections < 1 || cfg.Prefill < 1 {
		fmt.Fprintln(stderr, "consentry-bench: need scenarios, a positive -duration, -rate, -connections, -overload-connections and -prefill")
		return 2
	}
	var err error
	if cfg.Binary, err = filepath.Abs(cfg.Binary); err != nil {
		fmt.Fprintln(stderr, "consentry-bench:", err)
		return 2
	}
	if _, err := os.Stat(cfg.Binary); err != nil {
		fmt.Fprintf(stderr, "consentry-bench: %v (run make build)\n", err)
		return 2
	}
	if cfg.Policy, err = filepath.Abs(cfg.Policy); err != nil {
		fmt.Fprintln(stderr, "consentry-bench:", err)
		return 2
	}
	results, err := bench(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "consentry-bench:", err)
		return 1
	}
	section := table(results, cfg)
	fmt.Fprintln(stdout, section)
	if cfg.JSONOut != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(cfg.JSONOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(stderr, "consentry-bench:", err)
			return 1
		}
	}
	if cfg.Doc != "" {
		doc, err := os.ReadFile(cfg.Doc)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintln(stderr, "consentry-bench:", err)
			return 1
		}
		out, err := replaceSection(doc, section)
		if err != nil {
			fmt.Fprintf(stderr, "consentry-bench: %s: %v\n", cfg.Doc, err)
			return 1
		}
		if err := os.WriteFile(cfg.Doc, out, 0o644); err != nil {
			fmt.Fprintln(stderr, "consentry-bench:", err)
			return 1
		}
		fmt.Fprintf(stderr, "consentry-bench: wrote the bench section of %s\n", cfg.Doc)
	}
	return 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// hasLedger reports whether the distribution has the quarantine exporter
// and the consent_ledger extension.
func hasLedger(binary string) (bool, error) {
	out, err := exec.Command(binary, "components").Output()
	if err != nil {
		return false, fmt.Errorf("%s components: %w", binary, err)
	}
	s := string(out)
	return strings.Contains(s, "name: consent_ledger") && strings.Contains(s, "name: quarantine"), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runEnv is what one run shares: secrets, sinks.
type runEnv struct {
	cfg     benchConfig
	secrets loadgen.Secrets
	env     []string
	log     io.Writer
}

func newRunEnv(cfg benchConfig, log io.Writer) *runEnv {
	s := loadgen.Secrets{
		GenesysAPIKey: randomHex(32), GenesysOrgID: loadgen.DefaultGenesysOrgID,
		TwilioAuthToken: randomHex(16), TwilioAccountSID: loadgen.DefaultTwilioAccountSID,
		SegmentSharedSecret: randomHex(32), SegmentWriteKey: randomHex(16),
		TalkdeskToken: randomHex(32), TalkdeskAccountID: loadgen.DefaultTalkdeskAccountID,
		SubjectSalt: randomHex(32),
	}
	env := []string{
		"CONSENTRY_GENESYS_SECRET=" + s.GenesysAPIKey, "CONSENTRY_GENESYS_ORG_ID=" + s.GenesysOrgID,
		"CONSENTRY_TWILIO_AUTH_TOKEN=" + s.TwilioAuthToken, "CONSENTRY_TWILIO_ACCOUNT_SID=" + s.TwilioAccountSID,
		"CONSENTRY_SEGMENT_SHARED_SECRET=" + s.SegmentSharedSecret, "CONSENTRY_SEGMENT_WRITE_KEY=" + s.SegmentWriteKey,
		"CONSENTRY_TALKDESK_TOKEN=" + s.TalkdeskToken, "CONSENTRY_TALKDESK_ACCOUNT_ID=" + s.TalkdeskAccountID,
		"CONSENTRY_SUBJECT_SALT=" + s.SubjectSalt,
	}
	return &runEnv{cfg: cfg, secrets: s, env: env, log: log}
}

func bench(ctx context.Context, cfg benchConfig, log io.Writer) ([]*scenarioResult, error) {
	ledgerOK, err := hasLedger(cfg.Binary)
	if err != nil {
		return nil, err
	}
	re := newRunEnv(cfg, log)
	if cfg.Verify {
		if err := re.verify(ctx); err != nil {
			return nil, err
		}
	}
	var out []*scenarioResult
	for _, name := range allScenarios { // fixed order: the baseline first
		if !contains(cfg.Scenarios, name) {
			continue
		}
		r := &scenarioResult{Name: name, Title: title(name, cfg)}
		out = append(out, r)
		needsLedger := name == scQuarantine || name == scOverload || name == scMixed || name == scPrefilled || isPG(name)
		if needsLedger && !ledgerOK {
			r.Skipped = "the distribution has no quarantine exporter / consent_ledger extension yet"
			fmt.Fprintf(log, "%s: skipped (%s)\n", name, r.Skipped)
			continue
		}
		if isPG(name) && cfg.Postgres == "" {
			r.Skipped = "no PostgreSQL (set -postgres or CONSENTRY_BENCH_POSTGRES_DSN)"
			fmt.Fprintf(log, "%s: skipped (%s)\n", name, r.Skipped)
			continue
		}
		if name == scOverload {
			var flat float64
			for _, q := range out {
				if q.Name == scQuarantine && q.Skipped == "" {
					flat = q.FlatRate
				}
			}
			if err := re.overload(ctx, r, flat); err != nil {
				return out, fmt.Errorf("%s: %w", name, err)
			}
			continue
		}
		if err := re.scenario(ctx, r, ledgerOK); err != nil {
			return out, fmt.Errorf("%s: %w", name, err)
		}
	}
	return out, nil
}

func title(name string, cfg benchConfig) string {
	switch name {
	case scBaseline:
		return "baseline: stock OTLP/HTTP receiver"
	case scForward:
		return "forward: every event forwarded"
	case scQuarantine:
		return "quarantine: every event quarantined (SQLite, durable)"
	case scOverload:
		return fmt.Sprintf("overload: quarantine offered at %d× its flat-out rate, %s connections", overloadFactor, num(float64(cfg.OverloadConnections)))
	case scMixed:
		return "mixed: half forwarded, half quarantined"
	case scPrefilled:
		return fmt.Sprintf("prefilled: quarantined, ledger holding %s records", num(float64(cfg.Prefill)))
	case scQuarantinePG:
		return "quarantine-pg: every event quarantined (PostgreSQL, durable)"
	case scSharedPG:
		return "shared-pg: two collectors, one PostgreSQL ledger, every event quarantined"
	}
	return name
}

// generator makes the load generator for a scenario's ports.
func (re *runEnv) generator(ports map[string]int, forward float64, otlp bool) (*loadgen.Generator, error) {
	return re.generatorFor(ports, forward, otlp, "")
}

// generatorFor is generator for a collector whose twilio receiver has
// public_url twilioPublic ("": its own address).
func (re *runEnv) generatorFor(ports map[string]int, forward float64, otlp bool, twilioPublic string) (*loadgen.Generator, error) {
	u := func(name string) string { return fmt.Sprintf("http://127.0.0.1:%d", ports[name]) }
	return loadgen.NewGenerator(loadgen.GenOptions{
		Secrets: re.secrets, TwilioPublicURL: twilioPublic,
		Targets:         loadgen.Targets{Genesys: u("genesys"), Twilio: u("twilio"), Segment: u("segment"), Talkdesk: u("talkdesk"), OTLP: u("otlp")},
		ForwardFraction: forward, Subjects: re.cfg.Subjects, OTLP: otlp,
	})
}

// verify checks on the running distribution that events meant to be
// forwarded are forwarded and the others quarantined.
func (re *runEnv) verify(ctx context.Context) error {
	fwd, err := newSink(true)
	if err != nil {
		return err
	}
	defer fwd.close()
	q, err := newSink(true)
	if err != nil {
		return err
	}
	defer q.close()
	ports, err := freePorts("genesys", "twilio", "segment", "talkdesk", "otlp", "health", "metrics", "pprof")
	if err != nil {
		return err
	}
	conf, err := renderConfig(configData{Ports: ports, Policy: re.cfg.Policy, Sink: fwd.url, QSink: q.url, SyncExport: true})
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "consentry-bench-verify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c, err := startCollector(ctx, re.cfg.Binary, dir, conf, re.env, ports["health"], 2*time.Minute)
	if err != nil {
		return err
	}
	defer c.stop()
	g, err := re.generator(ports, 0.5, false)
	if err != nil {
		return err
	}
	res, err := loadgen.Run(ctx, g, loadgen.RunOptions{Rate: 500, Connections: 8, Count: 1000, Duration: time.Minute})
	if err != nil {
		return err
	}
	if res.OK != res.Sent || res.Sent != 1000 {
		return fmt.Errorf("verify: %d of %d events got a 2xx (statuses %v, errors %v); collector log:\n%s", res.OK, res.Sent, res.Statuses, res.Errors, c.tail(3000))
	}
	if fwd.records.Load() != res.Forward || q.records.Load() != res.Quarantine {
		return fmt.Errorf("verify: the generator meant %d events to be forwarded and %d quarantined; the collector forwarded %d and quarantined %d",
			res.Forward, res.Quarantine, fwd.records.Load(), q.records.Load())
	}
	fmt.Fprintf(re.log, "verify: %d forwarded and %d quarantined, as intended\n", res.Forward, res.Quarantine)
	return nil
}

// workspace prepares a scenario's run: the forward sink, free ports, a
// temporary directory and the configuration's common part. cleanup undoes
// it (keeping the directory with -keep).
func (re *runEnv) workspace(r *scenarioResult) (d configData, dir string, cleanup func(), err error) {
	fwdSink, err := newSink(false)
	if err != nil {
		return d, "", nil, err
	}
	ports, err := freePorts("genesys", "twilio", "segment", "talkdesk", "otlp", "health", "metrics", "pprof")
	if err != nil {
		fwdSink.close()
		return d, "", nil, err
	}
	dir, err = os.MkdirTemp("", "consentry-bench-"+r.Name+"-")
	if err != nil {
		fwdSink.close()
		return d, "", nil, err
	}
	if re.cfg.Keep {
		fmt.Fprintf(re.log, "%s: files in %s\n", r.Name, dir)
	}
	cleanup = func() {
		fwdSink.close()
		if !re.cfg.Keep {
			os.RemoveAll(dir)
		}
	}
	return configData{Ports: ports, Policy: re.cfg.Policy, Sink: fwdSink.url, SyncExport: re.cfg.SyncExport}, dir, cleanup, nil
}

// replica is one collector of a scenario and the load generator aimed at it.
type replica struct {
	c   *collector
	g   *loadgen.Generator
	smp *sampler
}

// sharedTwilioURL is the twilio receivers' public_url when replicas stand
// behind one address (the signature covers it).
const sharedTwilioURL = "https://consentry-bench.invalid"

// scenario runs one scenario's two phases.
func (re *runEnv) scenario(ctx context.Context, r *scenarioResult, ledgerOK bool) error {
	cfg := re.cfg
	d, dir, cleanup, err := re.workspace(r)
	if err != nil {
		return err
	}
	defer cleanup()
	d.Baseline = r.Name == scBaseline
	env := append([]string{}, re.env...)
	forward := 1.0
	var pg *pgLedger
	switch r.Name {
	case scForward:
		// The production shape: a quarantine route exists, unused. Without
		// the ledger components, a stand-in sink takes its place.
		if ledgerOK {
			d.Ledger = filepath.Join(dir, "ledger.db")
			env = append(env, "CONSENTRY_LEDGER_KEY="+randomHex(32))
		} else {
			qs, err := newSink(false)
			if err != nil {
				return err
			}
			defer qs.close()
			d.QSink = qs.url
		}
	case scQuarantine, scMixed:
		d.Ledger = filepath.Join(dir, "ledger.db")
		env = append(env, "CONSENTRY_LEDGER_KEY="+randomHex(32))
		if r.Name == scQuarantine {
			forward = 0
		} else {
			forward = 0.5
		}
	case scPrefilled:
		p, err := ensurePrefilled(ctx, cfg.DataDir, cfg.Prefill, cfg.Subjects, re.log)
		if err != nil {
			return err
		}
		abs, err := filepath.Abs(p.path)
		if err != nil {
			return err
		}
		d.Ledger = abs
		r.LedgerRows = p.rows
		env = append(env, "CONSENTRY_LEDGER_KEY="+p.key)
		forward = 0
	case scQuarantinePG, scSharedPG:
		if pg, err = newPGLedger(ctx, cfg.Postgres); err != nil {
			return err
		}
		defer pg.drop(context.WithoutCancel(ctx))
		d.Postgres, d.PGSchema = true, pg.schema
		env = append(env, "CONSENTRY_LEDGER_KEY="+pg.key, "CONSENTRY_LEDGER_PG_DSN="+cfg.Postgres)
		forward = 0
	}
	n := replicas(r.Name)
	if n > 1 {
		r.Replicas = n
		d.TwilioPublicURL = sharedTwilioURL
	}
	reps := make([]*replica, n)
	defer func() {
		for _, rp := range reps {
			if rp != nil && rp.c != nil {
				rp.smp.close()
				rp.c.stop()
			}
		}
	}()
	for i := range reps {
		di, diri := d, dir
		if i > 0 {
			if di.Ports, err = freePorts("genesys", "twilio", "segment", "talkdesk", "otlp", "health", "metrics", "pprof"); err != nil {
				return err
			}
			diri = filepath.Join(dir, fmt.Sprintf("replica-%d", i))
			if err := os.Mkdir(diri, 0o700); err != nil {
				return err
			}
		}
		if n > 1 {
			di.WriterID = fmt.Sprintf("bench-%d", i)
		}
		conf, err := renderConfig(di)
		if err != nil {
			return err
		}
		fmt.Fprintf(re.log, "%s: starting the collector%s\n", r.Name, replicaSuffix(i, n))
		c, err := startCollector(ctx, cfg.Binary, diri, conf, env, di.Ports["health"], 5*time.Minute)
		if err != nil {
			return err
		}
		g, err := re.generatorFor(di.Ports, forward, r.Name == scBaseline, d.TwilioPublicURL)
		if err != nil {
			c.stop()
			return err
		}
		reps[i] = &replica{c: c, g: g, smp: startSampler(c.pid(), 250*time.Millisecond)}
	}

	// phase runs the load at rate (0: flat out), spread evenly over the
	// replicas, and returns the merged result, the collectors' CPU (sum),
	// their largest RSS and the PostgreSQL server's CPU.
	phase := func(rate float64) (*loadgen.Result, float64, int64, float64, error) {
		froms := make([]procSample, n)
		var pgFrom float64
		var pgFromAt time.Time
		fromTaken := make(chan struct{})
		go func() {
			defer close(fromTaken)
			t := time.NewTimer(cfg.Warmup + 10*time.Millisecond)
			defer t.Stop()
			select {
			case <-t.C:
				for i, rp := range reps {
					froms[i] = rp.smp.now()
				}
				if pg != nil {
					pgFrom, pgFromAt = postgresServerCPU(), time.Now()
				}
			case <-ctx.Done():
			}
		}()
		results := make([]*loadgen.Result, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i, rp := range reps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = loadgen.Run(ctx, rp.g, loadgen.RunOptions{Rate: rate / float64(n), Connections: max(1, cfg.Connections/n),
					Warmup: cfg.Warmup, Duration: cfg.Duration, Timeout: 10 * time.Second})
			}()
		}
		wg.Wait()
		var pgCores, cores float64
		var rss int64
		var pgTo float64
		if pg != nil {
			pgTo = postgresServerCPU()
		}
		pgToAt := time.Now()
		tos := make([]procSample, n)
		for i, rp := range reps {
			tos[i] = rp.smp.now()
		}
		<-fromTaken
		if err := errors.Join(errs...); err != nil {
			return nil, 0, 0, 0, err
		}
		for i, rp := range reps {
			c, m := rp.smp.window(froms[i], tos[i])
			cores += c
			rss = max(rss, m)
		}
		if dt := pgToAt.Sub(pgFromAt).Seconds(); pg != nil && !pgFromAt.IsZero() && dt > 0 {
			pgCores = (pgTo - pgFrom) / dt
		}
		return loadgen.Merge(results...), cores, rss, pgCores, nil
	}
	fmt.Fprintf(re.log, "%s: flat out for %s\n", r.Name, cfg.Duration)
	// While flat out, profile the (first) collector: the consent
	// processor's share of its CPU (BRIEF.md: <= 2 % of the forward path).
	type shareResult struct {
		share float64
		n     int64
		err   error
	}
	shareCh := make(chan shareResult, 1)
	if r.Name != scBaseline && cfg.Duration >= 2*time.Second {
		go func() {
			select {
			case <-time.After(cfg.Warmup + 500*time.Millisecond):
			case <-ctx.Done():
				shareCh <- shareResult{err: ctx.Err()}
				return
			}
			save := ""
			if cfg.ProfileDir != "" {
				save = filepath.Join(cfg.ProfileDir, r.Name+".pprof")
			}
			sh, n, err := cpuShare(ctx, d.Ports["pprof"], cfg.Duration-time.Second, processorPackage, save)
			shareCh <- shareResult{sh, n, err}
		}()
	} else {
		close(shareCh)
	}
	flat, cores, _, pgCores, err := phase(0)
	if err != nil {
		return err
	}
	if sr, ok := <-shareCh; ok {
		if sr.err != nil {
			fmt.Fprintf(re.log, "%s: CPU profile failed: %v\n", r.Name, sr.err)
		} else {
			r.ProcessorShare, r.ProfileSamples = sr.share, sr.n
			fmt.Fprintf(re.log, "%s: consent processor %.2f %% of the collector's CPU (%d samples)\n", r.Name, 100*sr.share, sr.n)
		}
	}
	r.FlatRate, r.FlatP99, r.FlatCores, r.PGFlatCores = flat.OKRate, flat.Latency.P99, cores, pgCores
	r.Non2xx += flat.Sent - flat.OK - errCount(flat)
	r.Errors += errCount(flat)
	fmt.Fprintf(re.log, "%s: flat out %.0f events/s (2xx), %.2f cores%s, statuses %v, errors %v\n", r.Name, flat.OKRate, cores, pgNote(pg, pgCores), flat.Statuses, flat.Errors)
	fmt.Fprintf(re.log, "%s: %.0f events/s for %s\n", r.Name, cfg.Rate, cfg.Duration)
	fixed, cores, rss, pgCores, err := phase(cfg.Rate)
	if err != nil {
		return err
	}
	r.FixedRate, r.FixedCores, r.FixedRSS, r.PGFixedCores = fixed.AchievedRate, cores, rss, pgCores
	r.FixedOK = fixed.AchievedRate >= 0.95*cfg.Rate && fixed.OK == fixed.Sent
	r.P50, r.P99, r.P999 = fixed.Latency.P50, fixed.Latency.P99, fixed.Latency.P999
	r.Non2xx += fixed.Sent - fixed.OK - errCount(fixed)
	r.Errors += errCount(fixed)
	fmt.Fprintf(re.log, "%s: at %.0f/s: achieved %.0f/s, p50 %.1f p99 %.1f p99.9 %.1f ms, %.2f cores%s, RSS %s, statuses %v, errors %v\n",
		r.Name, cfg.Rate, fixed.AchievedRate, r.P50, r.P99, r.P999, cores, pgNote(pg, pgCores), mib(rss), fixed.Statuses, fixed.Errors)
	for i, rp := range reps {
		if p, err := readProc(rp.c.pid()); err == nil {
			r.PeakRSS = max(r.PeakRSS, p.hwm)
		}
		reps[i] = nil
		rp.smp.close()
		if err := rp.c.stop(); err != nil {
			return err
		}
	}
	if pg != nil {
		rows, err := pg.rows(ctx)
		if err != nil {
			return fmt.Errorf("counting the ledger's rows: %w", err)
		}
		du := newDurability(flat.AllOK+fixed.AllOK, rows)
		r.Durability = &du
		fmt.Fprintf(re.log, "%s: %d events acknowledged, %d records in the ledger, %d lost\n", r.Name, du.Acknowledged, du.LedgerRows, du.Lost)
	}
	return nil
}

func replicaSuffix(i, n int) string {
	if n == 1 {
		return ""
	}
	return fmt.Sprintf(" (replica %d of %d)", i+1, n)
}

func pgNote(pg *pgLedger, cores float64) string {
	if pg == nil {
		return ""
	}
	return fmt.Sprintf(" (+ PostgreSQL server %.2f cores)", cores)
}

func errCount(r *loadgen.Result) int64 {
	var n int64
	for _, v := range r.Errors {
		n += v
	}
	return n
}
