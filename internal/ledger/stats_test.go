package ledger_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/consentry/consentry/internal/ledger"
)

// TestStatsDayWithoutVendorTime: a record without a vendor time was
// counted under 1970-01-01; it counts under the day it was received.
func TestStatsDayWithoutVendorTime(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		l := h.ledger(t)
		timed := rec("org-0", "s", "ev-timed")
		untimed := rec("org-0", "s", "ev-untimed")
		untimed.OccurredAt = time.Time{}
		untimed.ReceivedAt = time.Date(2026, 7, 9, 23, 59, 0, 0, time.UTC)
		mustAppend(t, l, timed, untimed)
		st, err := l.Stats(ctx, ledger.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		want := []ledger.Count{{Key: "2026-03-04", Count: 1}, {Key: "2026-07-09", Count: 1}}
		if !slices.Equal(st.ByDay, want) {
			t.Fatalf("by day: %+v, want %+v", st.ByDay, want)
		}
	})
}

// TestListBySubjectKeys: SubjectKeys selects the records and consent of
// any of several keys (a subject's keys under several salts).
func TestListBySubjectKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		l := h.ledger(t)
		mustAppend(t, l, rec("org-0", "k1", "ev-1"), rec("org-1", "k2", "ev-2"), rec("org-1", "k3", "ev-3"))
		for _, c := range []ledger.Consent{{Tenant: "a", SubjectKey: "k1"}, {Tenant: "b", SubjectKey: "k2"}, {Tenant: "b", SubjectKey: "k3"}} {
			c.Status, c.Purposes = ledger.ConsentGranted, []string{"p"}
			if _, _, err := l.PutConsent(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		p, err := l.List(ctx, ledger.Filter{SubjectKeys: []string{"k1", "k2", "nobody"}}, ledger.Page{Size: 1})
		if err != nil || len(p.Records) != 1 || p.NextToken == "" {
			t.Fatalf("first page: %+v %v", p, err)
		}
		got := []string{p.Records[0].SubjectKey}
		if _, err := l.List(ctx, ledger.Filter{SubjectKeys: []string{"k1"}}, ledger.Page{Size: 1, Token: p.NextToken}); err == nil {
			t.Fatal("a page token of other subject keys was accepted")
		}
		p, err = l.List(ctx, ledger.Filter{SubjectKeys: []string{"k1", "k2", "nobody"}}, ledger.Page{Size: 1, Token: p.NextToken})
		if err != nil || len(p.Records) != 1 {
			t.Fatalf("second page: %+v %v", p, err)
		}
		got = append(got, p.Records[0].SubjectKey)
		slices.Sort(got)
		if !slices.Equal(got, []string{"k1", "k2"}) {
			t.Fatalf("records of k1, k2: %v", got)
		}
		st, err := l.Stats(ctx, ledger.Filter{SubjectKeys: []string{"k2", "k3"}, Tenant: "org-1"})
		if err != nil || st.Total != 2 {
			t.Fatalf("stats: %+v %v", st, err)
		}
		cp, err := l.ListConsents(ctx, ledger.ConsentFilter{SubjectKeys: []string{"k1", "k3"}}, ledger.Page{})
		if err != nil || len(cp.Consents) != 2 {
			t.Fatalf("consents: %+v %v", cp, err)
		}
	})
}
