package ledger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/consentry/consentry/internal/ledger"
)

// BenchmarkCheckedReads times the reads that check rows against the chain:
// Stats over 20,000 records, a List page of 100 and a subject's consent
// lookup (5 records), on SQLite.
//
//	go test -run '^$' -bench BenchmarkCheckedReads ./internal/ledger/
func BenchmarkCheckedReads(b *testing.B) {
	h := newHarness(b, backends[0])
	l := h.ledger(b)
	ctx := context.Background()
	const n = 20000
	for i := 0; i < n; i += 500 {
		recs := make([]ledger.Record, 0, 500)
		for j := i; j < i+500; j++ {
			recs = append(recs, rec("org-1", fmt.Sprintf("s-%d", j%1000), fmt.Sprintf("ev-%d", j)))
		}
		mustAppend(b, l, recs...)
	}
	for i := range 5 {
		if _, _, err := l.PutConsent(ctx, ledger.Consent{Tenant: "org-1", SubjectKey: "s-7", Status: ledger.ConsentGranted,
			Purposes: []string{"analytics"}, Source: "api", At: time.Now().Add(-time.Duration(i) * time.Minute)}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("stats-20k", func(b *testing.B) {
		for b.Loop() {
			if _, err := l.Stats(ctx, ledger.Filter{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list-100", func(b *testing.B) {
		for b.Loop() {
			if _, err := l.List(ctx, ledger.Filter{Tenant: "org-1"}, ledger.Page{Size: 100}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lookup-consents-5", func(b *testing.B) {
		for b.Loop() {
			if _, err := l.LookupConsents(ctx, "org-1", "s-7"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
