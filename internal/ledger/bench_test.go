package ledger_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/postgres"
	"github.com/consentry/consentry/internal/ledger/sqlite"
	"github.com/consentry/consentry/internal/ledger/sqlstore"
)

// Benchmarks of the group-commit write path: parallel callers, each
// appending one quarantined record per call (one webhook event), with a
// 1,582-byte incompressible payload (the size performance.md measured),
// subjects as in real interactions (see benchSubjects), random-looking
// event ids, default batching (1000 rows / 2 ms), BENCH_PAR x GOMAXPROCS
// callers (128 x 2 = 256 by default). rows/s is the figure to read; ns/op is
// per record.
//
//	go test -run '^$' -bench 'BenchmarkAppend$' -benchtime 30000x ./internal/ledger/
//	CONSENTRY_TEST_POSTGRES_DSN=postgres://postgres@127.0.0.1:5432/test?sslmode=disable go test -run '^$' -bench 'BenchmarkAppend$' -benchtime 30000x ./internal/ledger/
//
// BenchmarkAppendFilled measures the same on a ledger that already holds
// CONSENTRY_LEDGER_BENCH_FILL rows (skipped when unset), see below.

// BENCH_SUBJECTS > 0 draws subjects uniformly from a pool of that size (no
// locality: the worst case for the dk_id index). The default models
// interactions: about 8 events per subject, spread over ~64 consecutive
// events, with new subjects all the time.
var benchSubjects = int64(envInt("BENCH_SUBJECTS", 0))

func benchPar() int { return envInt("BENCH_PAR", 128) }

func envInt(k string, d int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return v
	}
	return d
}

var benchKEK = []byte("consentry-ledger-benchmark-kek!!") // 32 bytes: a fixed key, so a filled database can be reused

type benchTarget struct {
	name string
	open func(b *testing.B, dir string) (*sqlstore.Store, func())
}

func benchTargets() []benchTarget {
	sq := func(sync string) func(b *testing.B, dir string) (*sqlstore.Store, func()) {
		return func(b *testing.B, dir string) (*sqlstore.Store, func()) {
			st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(dir, "ledger-"+sync+".db"), Synchronous: sync, CacheSizeMiB: envInt("BENCH_CACHE_MIB", 64), WALAutocheckpoint: envInt("BENCH_WAL_PAGES", 0)})
			if err != nil {
				b.Fatal(err)
			}
			return st, func() {}
		}
	}
	pg := func(b *testing.B, schema string) (*sqlstore.Store, func()) {
		dsn := os.Getenv(pgEnv)
		if dsn == "" {
			b.Skipf("SKIPPING POSTGRESQL BENCHMARK: %s is not set", pgEnv)
		}
		st, err := postgres.Open(context.Background(), postgres.Config{DSN: dsn, Schema: schema, MaxConns: 16})
		if err != nil {
			b.Fatal(err)
		}
		drop := func() {
			db, err := sql.Open("pgx", dsn)
			if err == nil {
				db.Exec(`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`)
				db.Close()
			}
		}
		return st, drop
	}
	return []benchTarget{
		{"sqlite-full", sq("FULL")},
		{"sqlite-normal", sq("NORMAL")},
		{"postgres", func(b *testing.B, dir string) (*sqlstore.Store, func()) {
			return pg(b, fmt.Sprintf("ledger_bench_%d_%d", os.Getpid(), time.Now().UnixNano()))
		}},
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, tg := range benchTargets() {
		b.Run(tg.name, func(b *testing.B) {
			st, drop := tg.open(b, b.TempDir())
			defer drop()
			if os.Getenv("BENCH_DROP_SUBJECT_INDEXES") != "" {
				// Prototype: what building the subject indexes off the
				// write path would give (docs/design/ledger-write-path.md).
				if _, err := st.WriteDB().Exec(`DROP INDEX records_key; DROP INDEX data_keys_subject`); err != nil {
					b.Fatal(err)
				}
			}
			l := openBench(b, st, "bench")
			defer l.Close(context.Background())
			runAppend(b, l, "bench-"+strconv.FormatInt(time.Now().UnixNano(), 36))
		})
	}
}

func openBench(b *testing.B, st *sqlstore.Store, writer string) *ledger.Ledger {
	opts := ledger.Options{KEKs: []ledger.KEK{{ID: "bench", Key: benchKEK}}, WriterID: writer}
	if v := os.Getenv("BENCH_LINGER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("BENCH_LINGER: %v", err)
		}
		opts.BatchLinger = d
	}
	l, err := ledger.Open(context.Background(), st, opts)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// benchRecord builds the i-th record. Event ids are random-looking (vendor
// ids are UUIDs or SIDs), so the de-duplication index takes random inserts
// as it does in production.
func benchRecord(prefix string, i int64, pl []byte) ledger.Record {
	h := sha256.Sum256([]byte(prefix + strconv.FormatInt(i, 10)))
	return ledger.Record{
		Tenant: fmt.Sprintf("org-%d", i%10), Vendor: "genesys", EventID: hex.EncodeToString(h[:16]),
		EventName: "ccaas.interaction.ended", SubjectKey: benchSubject(prefix, i),
		InteractionID: "conv-" + strconv.FormatInt(i/5, 10), Reasons: []string{"no_consent"}, ConsentStatus: "unknown",
		OccurredAt: time.Now(), Payload: pl,
	}
}

func benchSubject(prefix string, i int64) string {
	if benchSubjects > 0 {
		return fmt.Sprintf("subj-%d", (i*7919)%benchSubjects)
	}
	return fmt.Sprintf("subj-%s-%d", prefix, (i+(i*7919)%64)/8)
}

func runAppend(b *testing.B, l *ledger.Ledger, prefix string) {
	ctx := context.Background()
	var n atomic.Int64
	payloads := make([][]byte, 64)
	for i := range payloads {
		payloads[i] = make([]byte, 1582)
		rand.Read(payloads[i])
	}
	before := l.Metrics()
	wchar0, syscw0 := procIO()
	b.SetParallelism(benchPar()) // BENCH_PAR x GOMAXPROCS callers, like concurrent webhook requests
	b.SetBytes(1582)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			res, err := l.Append(ctx, []ledger.Record{benchRecord(prefix, i, payloads[i%64])})
			if err != nil || res[0].Err != nil || res[0].Duplicate {
				b.Errorf("append: %v %+v", err, res)
				return
			}
		}
	})
	b.StopTimer()
	m := l.Metrics()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	if wchar1, syscw1 := procIO(); wchar1 > 0 {
		// Bytes and write calls the process issued (WAL frames, checkpoints)
		// per record: the write amplification of the indexes.
		b.ReportMetric(float64(wchar1-wchar0)/float64(b.N), "wbytes/row")
		b.ReportMetric(float64(syscw1-syscw0)/float64(b.N), "writes/row")
	}
	if batches := m.Batches - before.Batches; batches > 0 {
		b.ReportMetric(float64(b.N)/float64(batches), "rows/commit")
	}
}

// BenchmarkAppendFilled measures appends on a ledger that already holds
// CONSENTRY_LEDGER_BENCH_FILL records (e.g. 1000000); it fills the ledger
// first (parallel 100-record appends) and logs the fill rate. Set
// CONSENTRY_LEDGER_BENCH_DIR to keep the SQLite files (and
// CONSENTRY_LEDGER_BENCH_KEEP=1 to keep the PostgreSQL schema
// ledger_bench_fill) between runs, so that the fill is paid once:
//
//	CONSENTRY_LEDGER_BENCH_FILL=1000000 CONSENTRY_LEDGER_BENCH_DIR=/tmp/ledger-bench \
//	  go test -run '^$' -bench 'BenchmarkAppendFilled/sqlite-full' -benchtime 30000x -timeout 60m ./internal/ledger/
//
// With CONSENTRY_LEDGER_BENCH_VERIFY=1 it also times Verify, Stats and a
// List on the filled ledger.
func BenchmarkAppendFilled(b *testing.B) {
	fill, _ := strconv.ParseInt(os.Getenv("CONSENTRY_LEDGER_BENCH_FILL"), 10, 64)
	if fill <= 0 {
		b.Skip("set CONSENTRY_LEDGER_BENCH_FILL to the number of existing rows (e.g. 1000000)")
	}
	for _, tg := range benchTargets() {
		b.Run(tg.name, func(b *testing.B) {
			dir := os.Getenv("CONSENTRY_LEDGER_BENCH_DIR")
			if dir == "" {
				dir = b.TempDir()
			}
			if err := os.MkdirAll(dir, 0o700); err != nil {
				b.Fatal(err)
			}
			var st *sqlstore.Store
			drop := func() {}
			if tg.name == "postgres" {
				dsn := os.Getenv(pgEnv)
				if dsn == "" {
					b.Skipf("SKIPPING POSTGRESQL BENCHMARK: %s is not set", pgEnv)
				}
				var err error
				st, err = postgres.Open(context.Background(), postgres.Config{DSN: dsn, Schema: "ledger_bench_fill", MaxConns: 16})
				if err != nil {
					b.Fatal(err)
				}
				if os.Getenv("CONSENTRY_LEDGER_BENCH_KEEP") == "" {
					drop = func() {
						db, err := sql.Open("pgx", dsn)
						if err == nil {
							db.Exec(`DROP SCHEMA IF EXISTS ledger_bench_fill CASCADE`)
							db.Close()
						}
					}
				}
			} else {
				st, drop = tg.open(b, dir)
			}
			defer drop()
			l := openBench(b, st, "bench-fill")
			defer l.Close(context.Background())
			fillLedger(b, l, fill)
			if tg.name != "postgres" && os.Getenv("BENCH_WAL_PAGES") != "" {
				st.WriteDB().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
			}
			runAppend(b, l, "run-"+strconv.FormatInt(time.Now().UnixNano(), 36))
			if p := os.Getenv("BENCH_KEEP_WAL"); p != "" {
				wal, _ := os.ReadFile(filepath.Join(dir, "ledger-FULL.db-wal"))
				os.WriteFile(p, wal, 0o600)
			}
			if os.Getenv("CONSENTRY_LEDGER_BENCH_VERIFY") != "" {
				start := time.Now()
				rep, err := l.Verify(context.Background())
				if err != nil || !rep.OK {
					b.Fatalf("verify: %v %+v", err, rep)
				}
				b.Logf("verify of %d entries: %v", rep.Entries, time.Since(start).Round(time.Millisecond))
				start = time.Now()
				st, err := l.Stats(context.Background(), ledger.Filter{})
				if err != nil {
					b.Fatal(err)
				}
				b.Logf("stats of %d records: %v", st.Total, time.Since(start).Round(time.Millisecond))
				start = time.Now()
				p, err := l.List(context.Background(), ledger.Filter{Tenant: "org-3", SubjectKey: benchSubject("x", 77)}, ledger.Page{Size: 100})
				if err != nil {
					b.Fatal(err)
				}
				b.Logf("list by tenant and subject (%d records): %v", len(p.Records), time.Since(start).Round(time.Microsecond))
			}
		})
	}
}

// procIO returns the bytes written and write calls of this process so
// far (Linux /proc/self/io; zeros elsewhere).
func procIO() (wchar, syscw int64) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		switch k {
		case "wchar":
			wchar = n
		case "syscw":
			syscw = n
		}
	}
	return wchar, syscw
}

func fillLedger(b *testing.B, l *ledger.Ledger, want int64) {
	ctx := context.Background()
	var have int64
	if err := l.Store().ReadDB().QueryRowContext(ctx, `SELECT count(*) FROM records`).Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have >= want {
		b.Logf("ledger already holds %d records", have)
		return
	}
	pl := make([]byte, 1582)
	rand.Read(pl)
	start := time.Now()
	prefix := "fill-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	var next atomic.Int64
	next.Store(have)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				end := next.Add(100)
				if end-100 >= want {
					return
				}
				recs := make([]ledger.Record, 0, 100)
				for i := end - 100; i < end && i < want; i++ {
					recs = append(recs, benchRecord(prefix, i, pl))
				}
				if _, err := l.Append(ctx, recs); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	b.Logf("filled %d records in %v (%.0f rows/s)", want-have, d.Round(time.Second), float64(want-have)/d.Seconds())
}
