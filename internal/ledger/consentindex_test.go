package ledger_test

import (
	"context"
	"testing"

	"github.com/consentry/consentry/internal/ledger"
)

// The consent-subject index answers "no consent records" without a read
// on SQLite, and must never hide a record: not one just put, not one
// stored by an earlier run, not one whose strings were repaired (found by
// the repaired string, as in the database).
func TestConsentLookupIndex(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		l := h.ledger(t)
		lookup := func(l *ledger.Ledger, tenant, subject string, want int) {
			t.Helper()
			got, err := l.LookupConsents(ctx, tenant, subject)
			if err != nil || len(got) != want {
				t.Fatalf("lookup %q %q: %d records (%v), want %d", tenant, subject, len(got), err, want)
			}
		}
		lookup(l, "t1", "s1", 0)
		for _, c := range []ledger.Consent{
			{Tenant: "t1", SubjectKey: "s1", Status: ledger.ConsentGranted},
			{Tenant: "t1", SubjectKey: "s1", Status: ledger.ConsentWithdrawn},
			{Tenant: "t2", SubjectKey: "s\xff", Status: ledger.ConsentDenied}, // stored as "s\uFFFD"
		} {
			if _, _, err := l.PutConsent(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			tenant, subject string
			want            int
		}{
			{"t1", "s1", 2},
			{"t2", "s1", 0},
			{"t1", "s2", 0},
			{"t1s", "1", 0}, // same bytes, other split
			{"t2", "s\uFFFD", 1},
		}
		skipped := l.Metrics().ConsentLookupsSkipped
		for _, c := range cases {
			lookup(l, c.tenant, c.subject, c.want)
		}
		if n := l.Metrics().ConsentLookupsSkipped - skipped; h.backend == "sqlite" && n != 3 {
			t.Fatalf("sqlite: %d lookups skipped the database, want 3 (every subject without records)", n)
		} else if h.backend == "postgres" && n != 0 {
			t.Fatalf("postgres: %d lookups skipped the database; other replicas write consents, want 0", n)
		}
		// A restart loads the index from the database.
		if err := l.Close(ctx); err != nil {
			t.Fatal(err)
		}
		l2 := h.ledger(t)
		for _, c := range cases {
			lookup(l2, c.tenant, c.subject, c.want)
		}
	})
}
