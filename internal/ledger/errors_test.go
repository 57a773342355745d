package ledger_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/postgres"
	"github.com/consentry/consentry/internal/ledger/sqlite"
)

// TestSQLiteBusyIsRetryable holds the database's write lock from another
// connection: Append fails with a retryable error, and succeeds once the
// lock is released, with the chain intact.
func TestSQLiteBusyIsRetryable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	st, err := sqlite.Open(ctx, sqlite.Config{Path: path, BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(ctx, st, ledger.Options{KEKs: []ledger.KEK{{Key: newKey()}}, CommitTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)
	mustAppend(t, l, rec("org-1", "s", "1"))

	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	_, err = l.Append(ctx, []ledger.Record{rec("org-1", "s", "2")})
	var se *ledger.StoreError
	if err == nil || !ledger.IsRetryable(err) || !errors.As(err, &se) {
		t.Fatalf("append while locked: %v (retryable %v)", err, ledger.IsRetryable(err))
	}
	t.Logf("while locked: %v", err)
	conn.ExecContext(ctx, `ROLLBACK`)
	conn.Close()
	mustAppend(t, l, rec("org-1", "s", "2"), rec("org-1", "s", "3"))
	rep := mustVerify(t, l)
	if rep.Writers[0].LastSeq != 3 {
		t.Fatalf("chain after the failure: %+v", rep.Writers)
	}
}

func TestPostgresUnreachableIsRetryable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, postgres.Config{DSN: "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2"})
	if err == nil || !postgres.Retryable(err) {
		t.Fatalf("connection refused: %v (retryable %v)", err, postgres.Retryable(err))
	}
}

func TestClassifyErrors(t *testing.T) {
	if ledger.IsRetryable(nil) || ledger.IsRetryable(ledger.ErrInvalid) || ledger.IsRetryable(ledger.ErrNotFound) ||
		ledger.IsRetryable(&ledger.StoreError{Op: "x", Err: errors.New("constraint")}) {
		t.Fatal("permanent errors classified retryable")
	}
	if !ledger.IsRetryable(ledger.ErrClosed) || !ledger.IsRetryable(fmt.Errorf("w: %w", context.DeadlineExceeded)) ||
		!ledger.IsRetryable(&ledger.StoreError{Op: "x", Retryable: true, Err: errors.New("busy")}) {
		t.Fatal("transient errors classified permanent")
	}
}

func TestMigrations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		l := h.ledger(t)
		vs, err := l.Store().AppliedMigrations(ctx)
		want := []int{1, 2} // SQLite: 2 replaces the de-duplication index
		if h.backend == "postgres" {
			want = []int{1}
		}
		if err != nil || !slices.Equal(vs, want) {
			t.Fatalf("applied: %v %v", vs, err)
		}
		exec(t, l, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`)
		l.Close(ctx)
		_, err = h.tryLedger()
		if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
			t.Fatalf("open a newer schema: %v", err)
		}
	})
}

func TestWriterIDFile(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := filepath.Join(t.TempDir(), "sub", "writer-id")
		l := h.ledger(t, func(o *ledger.Options) { o.WriterIDFile = f })
		id := l.WriterID()
		b, err := os.ReadFile(f)
		if err != nil || strings.TrimSpace(string(b)) != id {
			t.Fatalf("writer id file: %q %v", b, err)
		}
		mustAppend(t, l, rec("org-1", "s", "1"))
		l.Close(context.Background())
		l = h.ledger(t, func(o *ledger.Options) { o.WriterIDFile = f })
		if l.WriterID() != id {
			t.Fatal("writer id not reused")
		}
		if r := mustAppend(t, l, rec("org-1", "s", "2")); r[0].ID == "" {
			t.Fatal()
		}
		if rep := mustVerify(t, l); len(rep.Writers) != 1 || rep.Writers[0].LastSeq != 2 {
			t.Fatalf("%+v", rep.Writers)
		}
	})
}

// TestPostgresReplicas runs three writers on one database, as replicas
// behind a load balancer: each keeps its own chain, a writer id cannot be
// used twice at once, and an event sent to all of them is stored once.
func TestPostgresReplicas(t *testing.T) {
	h := newHarness(t, backendNamed("postgres"))
	ctx := context.Background()
	var ls []*ledger.Ledger
	for i := range 3 {
		ls = append(ls, h.ledger(t, func(o *ledger.Options) { o.WriterID = fmt.Sprintf("replica-%d", i) }))
	}
	if _, err := h.tryLedger(func(o *ledger.Options) { o.WriterID = "replica-1" }); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second process with the same writer id: %v", err)
	}
	var wg sync.WaitGroup
	ids := make([][]string, 3)
	for i, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 40 {
				res, err := l.Append(ctx, []ledger.Record{
					rec("org-1", "s", fmt.Sprintf("shared-%d", n)),
					rec("org-1", "s", fmt.Sprintf("own-%d-%d", i, n)),
				})
				if err != nil {
					t.Error(err)
					return
				}
				ids[i] = append(ids[i], res[0].ID)
			}
		}()
	}
	wg.Wait()
	for n := range 40 {
		if ids[0][n] != ids[1][n] || ids[1][n] != ids[2][n] {
			t.Fatalf("event shared-%d stored more than once: %s %s %s", n, ids[0][n], ids[1][n], ids[2][n])
		}
	}
	if n := queryInt(t, ls[0], `SELECT count(*) FROM records`); n != 40+3*40 {
		t.Fatalf("%d records", n)
	}
	rep := mustVerify(t, ls[2])
	if len(rep.Writers) != 3 || rep.Records != 160 {
		t.Fatalf("report: %+v", rep)
	}
}
