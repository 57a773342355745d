package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/consentry/consentry/internal/ledger"
)

// TestTamperedConsentRowFailsClosed: a consent record edited in the
// database (denied turned into granted, a purpose added, moved to another
// subject, its expiry pushed back) was read as is and could turn a denial
// into a forward. Every consent row is now checked against its chain entry
// when it is read; a mismatch is ErrTampered (the consent processor
// quarantines with consent_tampered, the API answers DataLoss).
func TestTamperedConsentRowFailsClosed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		for _, c := range []struct{ name, update string }{
			{"status", `UPDATE consents SET status = 'granted' WHERE id = 'c-deny'`},
			{"purposes", `UPDATE consents SET purposes = '["analytics","train_ai_system"]' WHERE id = 'c-deny'`},
			{"subject", `UPDATE consents SET subject_key = 's-2' WHERE id = 'c-deny'`},
			{"expiry", `UPDATE consents SET expires_at = 1 WHERE id = 'c-deny'`},
			{"chain entry", `UPDATE chain SET digest = (SELECT digest FROM chain WHERE kind = 'record' LIMIT 1) WHERE kind = 'consent'`},
			{"chain entry deleted", `DELETE FROM chain WHERE kind = 'consent'`},
		} {
			t.Run(c.name, func(t *testing.T) {
				h := newHarness(t, backendNamed(h.backend))
				l := h.ledger(t)
				ctx := context.Background()
				mustAppend(t, l, rec("org-1", "s-1", "ev-1"))
				if _, _, err := l.PutConsent(ctx, ledger.Consent{ID: "c-deny", Tenant: "org-1", SubjectKey: "s-1", Status: ledger.ConsentDenied,
					Purposes: []string{"analytics"}, Source: "api", At: time.Now().Add(-time.Hour)}); err != nil {
					t.Fatal(err)
				}
				if cs, err := l.LookupConsents(ctx, "org-1", "s-1"); err != nil || len(cs) != 1 || cs[0].Status != ledger.ConsentDenied {
					t.Fatalf("before: %v %v", cs, err)
				}
				exec(t, l, c.update)
				for _, subject := range []string{"s-1", "s-2"} {
					cs, err := l.LookupConsents(ctx, "org-1", subject)
					if len(cs) > 0 && !errors.Is(err, ledger.ErrTampered) {
						t.Fatalf("lookup of %s after the edit: %+v, %v: the edit took effect", subject, cs, err)
					}
					if subject == "s-1" && c.name != "subject" && !errors.Is(err, ledger.ErrTampered) {
						t.Fatalf("lookup after the edit: %v, want ErrTampered", err)
					}
				}
				if _, err := l.ListConsents(ctx, ledger.ConsentFilter{Tenant: "org-1"}, ledger.Page{}); !errors.Is(err, ledger.ErrTampered) {
					t.Fatalf("list after the edit: %v, want ErrTampered", err)
				}
			})
		}
	})
}

// TestTamperedRecordMetadataInListAndStats: the metadata List and Stats
// serve is checked against the chain too (a record's reasons, tenant or
// event time edited in the database no longer shows, unflagged, in the
// auditor's lists and counts).
func TestTamperedRecordMetadataInListAndStats(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		l, res := tamperSetup(t, h)
		ctx := context.Background()
		if _, err := l.List(ctx, ledger.Filter{Tenant: "org-1"}, ledger.Page{}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Stats(ctx, ledger.Filter{}); err != nil {
			t.Fatal(err)
		}
		exec(t, l, `UPDATE records SET reasons = '["consent_granted"]' WHERE id = $1`, res[6].ID)
		if _, err := l.List(ctx, ledger.Filter{Tenant: "org-1"}, ledger.Page{}); !errors.Is(err, ledger.ErrTampered) || !strings.Contains(err.Error(), res[6].ID) {
			t.Fatalf("list: %v, want ErrTampered naming %s", err, res[6].ID)
		}
		if _, err := l.Stats(ctx, ledger.Filter{}); !errors.Is(err, ledger.ErrTampered) {
			t.Fatalf("stats: %v, want ErrTampered", err)
		}
		if _, err := l.Stats(ctx, ledger.Filter{Tenant: "org-1", SubjectKey: "s-2"}); err != nil {
			t.Fatalf("stats of records that were not touched: %v", err) // res[6] is s-0
		}
	})
}

// TestChainTailCheckedAtStart: a chain tail altered while the collector
// was stopped is refused at start, before Open anchors it with a new
// checkpoint. (The writer id is fixed, as a PostgreSQL replica's must be
// to continue its chain.)
func TestChainTailCheckedAtStart(t *testing.T) {
	writer := func(o *ledger.Options) { o.WriterID = "w-tail" }
	setup := func(t *testing.T, h *harness) *ledger.Ledger {
		l := h.ledger(t, writer)
		for i := range 10 {
			mustAppend(t, l, rec("org-1", fmt.Sprintf("s-%d", i%3), fmt.Sprintf("ev-%d", i)))
		}
		if _, err := l.Checkpoint(context.Background()); err != nil { // at seq 10
			t.Fatal(err)
		}
		return l
	}
	forEachBackend(t, func(t *testing.T, h *harness) {
		for _, c := range []struct{ name, update string }{
			{"link after the checkpoint", `UPDATE chain SET link = digest WHERE seq = 12`},
			{"entry after the checkpoint deleted", `DELETE FROM chain WHERE seq = 11`},
			{"entry at the checkpoint", `UPDATE chain SET link = digest WHERE seq = 10`},
			{"checkpoint signature", `UPDATE checkpoints SET sig = head WHERE seq = 10`},
			{"tail truncated below the checkpoint", `DELETE FROM chain WHERE seq >= 9`},
		} {
			t.Run(c.name, func(t *testing.T) {
				h := newHarness(t, backendNamed(h.backend))
				l := setup(t, h)
				mustAppend(t, l, rec("org-1", "s-x", "ev-x1"), rec("org-1", "s-x", "ev-x2"), rec("org-1", "s-x", "ev-x3"))
				l.Close(context.Background())
				// As after a crash: no checkpoint after seq 10. Then the edit.
				rawExec(t, h, `DELETE FROM checkpoints WHERE seq > 10`)
				rawExec(t, h, c.update)
				l2, err := h.tryLedger(writer)
				if err == nil {
					l2.Close(context.Background())
					t.Fatal("a ledger whose chain tail was altered opened")
				}
				if !errors.Is(err, ledger.ErrTampered) {
					t.Fatalf("open: %v, want ErrTampered", err)
				}
				t.Logf("refused: %v", err)
			})
		}
		t.Run("untouched", func(t *testing.T) {
			h := newHarness(t, backendNamed(h.backend))
			l := setup(t, h)
			mustAppend(t, l, rec("org-1", "s-x", "ev-x1"))
			l.Close(context.Background())
			rawExec(t, h, `DELETE FROM checkpoints WHERE seq > 10`)
			mustVerify(t, h.ledger(t, writer))
		})
	})
}

// rawExec runs a statement on the database of a closed ledger.
func rawExec(t *testing.T, h *harness, q string) {
	t.Helper()
	st, err := h.open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.WriteDB().ExecContext(context.Background(), q); err != nil {
		t.Fatal(err)
	}
}
