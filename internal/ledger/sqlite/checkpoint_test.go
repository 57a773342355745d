package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// openWAL opens a writer that never checkpoints by itself (as Open's
// writer, whose own automatic checkpoint is only a distant safety net) and
// the checkpointer's connection, on a new database with table t.
func openWAL(t *testing.T) (path string, w, c *sql.DB) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "w.db")
	var err error
	w, err = sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(0)&_pragma=busy_timeout(5000)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	t.Cleanup(func() { w.Close() })
	if _, err := w.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)`); err != nil {
		t.Fatal(err)
	}
	c, err = sql.Open("sqlite", path+"?_pragma=busy_timeout(20)&_pragma=synchronous(NORMAL)")
	if err != nil {
		t.Fatal(err)
	}
	c.SetMaxOpenConns(1)
	return path, w, c
}

// writeFor commits transactions of 8 rows of 1 KiB on w for d, as the
// ledger's writer does (calling ck.betweenWrites after each commit, if ck
// is set), and returns how many it committed and the longest commit.
func writeFor(t *testing.T, w *sql.DB, ck *checkpointer, d time.Duration) (n int, longest time.Duration) {
	t.Helper()
	v := []byte(strings.Repeat("x", 1024))
	for end := time.Now().Add(d); time.Now().Before(end); n++ {
		start := time.Now()
		tx, err := w.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for range 8 {
			if _, err := tx.Exec(`INSERT INTO t (v) VALUES (?)`, v); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		longest = max(longest, time.Since(start))
		if ck != nil {
			ck.betweenWrites(context.Background(), w)
		}
	}
	return n, longest
}

func walPages(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size() / (4096 + 24)
}

// TestCheckpointerBoundsTheWAL: a writer that never pauses and never
// checkpoints by itself, beside the checkpointer: the WAL is started over
// again and again and its file stays near the restart size, where without
// the checkpointer it holds every page written (the control).
func TestCheckpointerBoundsTheWAL(t *testing.T) {
	path, w, c := openWAL(t)
	n, _ := writeFor(t, w, nil, 300*time.Millisecond)
	if p := walPages(t, path); p < int64(n) {
		t.Fatalf("control: %d commits without a checkpointer left only %d WAL pages", n, p)
	}
	if _, err := w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	ck := startCheckpointer(c, 5*time.Millisecond, 64)
	n, longest := writeFor(t, w, ck, 1500*time.Millisecond)
	t.Logf("%d commits, the longest %s", n, longest)
	if err := ck.close(); err != nil {
		t.Fatal(err)
	}
	st := ck.stats()
	if st.Restarts == 0 || st.Passive == 0 {
		t.Fatalf("%d commits, checkpoints %+v: the WAL was never started over", n, st)
	}
	// The file keeps its largest size: what was written between two
	// restarts, far below what was written in all (the control).
	if p, all := walPages(t, path), int64(n)*3; p > all/4 {
		t.Fatalf("the WAL file holds %d pages after %d commits (about %d pages written): not bounded", p, n, all)
	}
	var rows int
	if err := w.QueryRow(`SELECT count(*) FROM t`).Scan(&rows); err != nil || rows == 0 {
		t.Fatalf("rows %d %v", rows, err)
	}
}

// TestCheckpointerYieldsToReaders: a reader holding an old snapshot keeps
// the WAL from starting over without holding the writer up (no checkpoint
// waits for it), and once the reader is gone the WAL is started over.
func TestCheckpointerYieldsToReaders(t *testing.T) {
	path, w, c := openWAL(t)
	r, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	conn, err := r.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	writeFor(t, w, nil, 50*time.Millisecond)
	rtx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var before int
	if err := rtx.QueryRow(`SELECT count(*) FROM t`).Scan(&before); err != nil { // the snapshot starts here
		t.Fatal(err)
	}
	ck := startCheckpointer(c, 5*time.Millisecond, 64)
	defer ck.close()
	n, longest := writeFor(t, w, ck, 800*time.Millisecond)
	if longest > 500*time.Millisecond {
		t.Fatalf("a commit waited %s beside a reader on an old snapshot", longest)
	}
	held := ck.stats()
	if held.Restarts != 0 || held.Passive == 0 {
		t.Fatalf("with a reader on an old snapshot: %+v (want passes, no restart)", held)
	}
	if p := walPages(t, path); p < int64(n) {
		t.Fatalf("the WAL holds %d pages after %d commits: it was started over under the reader", p, n)
	}
	var again int
	if err := rtx.QueryRow(`SELECT count(*) FROM t`).Scan(&again); err != nil || again != before {
		t.Fatalf("the reader's snapshot moved: %d then %d (%v)", before, again, err)
	}
	if err := rtx.Rollback(); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	writeFor(t, w, ck, 500*time.Millisecond)
	if ck.stats().Restarts == 0 {
		t.Fatalf("the reader is gone, yet the WAL was never started over: %+v", ck.stats())
	}
}
