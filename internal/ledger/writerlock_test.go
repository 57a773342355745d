package ledger_test

import (
	"strings"
	"testing"

	"github.com/consentry/consentry/internal/ledger"
)

// TestWriterLock: a writer id is held by one live ledger at a time within
// one database (SQLite file or PostgreSQL schema), and two ledgers in
// separate schemas of one PostgreSQL database do not block each other
// (advisory locks are database-wide, so the lock key names the schema).
func TestWriterLock(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		id := func(o *ledger.Options) { o.WriterID = "same-writer" }
		h.ledger(t, id)
		// The same writer id in the same database is refused.
		if l, err := h.tryLedger(id); err == nil {
			l.Close(t.Context())
			t.Fatal("a second live ledger opened with the same writer id")
		} else if !strings.Contains(err.Error(), "in use") && !strings.Contains(err.Error(), "lock") {
			t.Fatalf("second ledger with the same writer id: got %v, want a lock error", err)
		}
		if h.backend == "postgres" {
			// Another schema of the same database: its own ledger.
			other := newHarness(t, backend{"postgres", postgresDB})
			other.ledger(t, id)
		}
	})
}
