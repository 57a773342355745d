package ledger_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/ledgertest"
	"github.com/consentry/consentry/internal/ledger/postgres"
	"github.com/consentry/consentry/internal/ledger/sqlite"
	"github.com/consentry/consentry/internal/ledger/sqlstore"
)

const pgEnv = ledgertest.PostgresEnv

// opener opens the same database every time it is called.
type opener func(ctx context.Context) (*sqlstore.Store, error)

type backend struct {
	name string
	// mk creates a fresh, empty database for one test and returns how to
	// open it; it skips the test if the backend is not available.
	mk func(t testing.TB) opener
}

var backends = []backend{
	{"sqlite", sqliteDB},
	{"postgres", postgresDB},
}

func sqliteDB(t testing.TB) opener {
	path := filepath.Join(t.TempDir(), "ledger.db")
	return func(ctx context.Context) (*sqlstore.Store, error) {
		return sqlite.Open(ctx, sqlite.Config{Path: path, Synchronous: "NORMAL"})
	}
}

func postgresDB(t testing.TB) opener {
	dsn, schema := ledgertest.Postgres(t)
	return func(ctx context.Context) (*sqlstore.Store, error) {
		return postgres.Open(ctx, postgres.Config{DSN: dsn, Schema: schema, MaxConns: 8})
	}
}

// forEachBackend runs fn once per backend, in parallel subtests.
func forEachBackend(t *testing.T, fn func(t *testing.T, h *harness)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newHarness(t, b))
		})
	}
}

type harness struct {
	backend string
	open    opener
	kek     []byte
	clock   *clock
}

func newHarness(t testing.TB, b backend) *harness {
	return &harness{backend: b.name, open: b.mk(t), kek: newKey(), clock: &clock{}}
}

func newKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// clock is a settable time source; zero means the real time.
type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time {
	if n := c.t.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Now()
}

func (c *clock) set(t time.Time) { c.t.Store(t.UnixNano()) }

func (h *harness) options() ledger.Options {
	return ledger.Options{
		KEKs:        []ledger.KEK{{ID: "kek-1", Key: h.kek}},
		BatchLinger: 200 * time.Microsecond,
		Now:         h.clock.now,
	}
}

// ledger opens a ledger with the harness's options, changed by mods, and
// closes it when the test ends (closing twice is fine).
func (h *harness) ledger(t testing.TB, mods ...func(*ledger.Options)) *ledger.Ledger {
	t.Helper()
	l, err := h.tryLedger(mods...)
	if err != nil {
		t.Fatalf("open ledger: %v", err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	return l
}

func (h *harness) tryLedger(mods ...func(*ledger.Options)) (*ledger.Ledger, error) {
	ctx := context.Background()
	st, err := h.open(ctx)
	if err != nil {
		return nil, err
	}
	opts := h.options()
	for _, m := range mods {
		m(&opts)
	}
	return ledger.Open(ctx, st, opts)
}

// rec builds a record with a ~1.6 KB payload.
func rec(tenant, subject, eventID string) ledger.Record {
	return ledger.Record{
		Tenant: tenant, Vendor: "genesys", EventID: eventID, EventName: "ccaas.interaction.ended",
		SubjectKey: subject, InteractionID: "conv-" + eventID, Reasons: []string{"no_consent", "undisclosed_processor"},
		ConsentStatus: "unknown", OccurredAt: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC),
		Payload: payload(eventID),
	}
}

func payload(tag string) []byte {
	p := make([]byte, 1600)
	rand.Read(p)
	copy(p, "payload:"+tag+":")
	return p
}

func mustAppend(t testing.TB, l *ledger.Ledger, recs ...ledger.Record) []ledger.AppendResult {
	t.Helper()
	res, err := l.Append(context.Background(), recs)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("append %d: %v", i, r.Err)
		}
	}
	return res
}

func mustVerify(t testing.TB, l *ledger.Ledger) *ledger.VerifyReport {
	t.Helper()
	rep, err := l.Verify(context.Background())
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !rep.OK {
		for _, p := range rep.Problems {
			t.Errorf("verify problem: %s", p)
		}
		t.Fatalf("verify failed")
	}
	return rep
}

// exec runs a statement directly on the database, around the ledger (to
// tamper with it). Placeholders are $1, $2, ... on both backends.
func exec(t testing.TB, l *ledger.Ledger, q string, args ...any) int64 {
	t.Helper()
	res, err := l.Store().WriteDB().ExecContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("exec %q: %v", q, err)
	}
	n, _ := res.RowsAffected()
	return n
}

func queryInt(t testing.TB, l *ledger.Ledger, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := l.Store().WriteDB().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("query %q: %v", q, err)
	}
	return n
}
