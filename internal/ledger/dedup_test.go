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

// TestDedupWindow: on SQLite a retry is recognised from memory (the tail)
// and, once the tail has moved, from the dedup table, across restarts,
// for at least the window; an older copy is stored again as a new record,
// and both verify.
func TestDedupWindow(t *testing.T) {
	h := newHarness(t, backend{"sqlite", sqliteDB})
	ctx := context.Background()
	t0 := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	h.clock.set(t0)
	window := func(o *ledger.Options) { o.DedupWindow = time.Hour }
	l := h.ledger(t, window)
	var first []ledger.AppendResult
	for i := range 30 {
		first = append(first, mustAppend(t, l, rec("org-1", "s", fmt.Sprintf("ev-%d", i)))...)
	}
	check := func(l *ledger.Ledger, what string) {
		t.Helper()
		for i := range 30 {
			r := mustAppend(t, l, rec("org-1", "s", fmt.Sprintf("ev-%d", i)))
			if !r[0].Duplicate || r[0].ID != first[i].ID {
				t.Fatalf("%s: retry of ev-%d: %+v, first stored as %s", what, i, r[0], first[i].ID)
			}
		}
	}
	check(l, "from the tail")
	if n := queryInt(t, l, `SELECT count(*) FROM dedup`); n != 0 {
		t.Fatalf("%d entries in the dedup table before a run", n)
	}
	// The idle writer moves the tail into the table within seconds.
	deadline := time.Now().Add(10 * time.Second)
	for queryInt(t, l, `SELECT count(*) FROM dedup`) != 30 {
		if time.Now().After(deadline) {
			t.Fatalf("dedup table holds %d entries", queryInt(t, l, `SELECT count(*) FROM dedup`))
		}
		time.Sleep(50 * time.Millisecond)
	}
	check(l, "from the table")
	l.Close(ctx)
	l = h.ledger(t, window)
	check(l, "after a restart")
	// Within the window (and up to twice it): still duplicates.
	h.clock.set(t0.Add(time.Hour + 59*time.Minute))
	check(l, "59 minutes past the window")
	// Older than twice the window: stored again, as a new record.
	h.clock.set(t0.Add(3 * time.Hour))
	r := mustAppend(t, l, rec("org-1", "s", "ev-0"))
	if r[0].Duplicate || r[0].ID == first[0].ID {
		t.Fatalf("a copy older than the window: %+v", r[0])
	}
	if r2 := mustAppend(t, l, rec("org-1", "s", "ev-0")); !r2[0].Duplicate || r2[0].ID != r[0].ID {
		t.Fatalf("its retry: %+v", r2[0])
	}
	mustVerify(t, l)
	if n := queryInt(t, l, `SELECT count(*) FROM records WHERE event_id = 'ev-0'`); n != 2 {
		t.Fatalf("%d copies of ev-0", n)
	}
}

// TestDedupTailRebuilt: records stored while the dedup table lags behind
// (runs held back) are recognised after a restart, from the records
// themselves; nothing is written to the table twice.
func TestDedupTailRebuilt(t *testing.T) {
	t.Setenv("CONSENTRY_LEDGER_TEST_SIDE_HOLD", "1h")
	h := newHarness(t, backend{"sqlite", sqliteDB})
	ctx := context.Background()
	l := h.ledger(t)
	var first []ledger.AppendResult
	for i := range 50 {
		first = append(first, mustAppend(t, l, rec("org-1", fmt.Sprintf("s%d", i%7), fmt.Sprintf("ev-%d", i)))...)
	}
	if n := queryInt(t, l, `SELECT count(*) FROM dedup`); n != 0 {
		t.Fatalf("%d entries in the held dedup table", n)
	}
	l.Close(ctx)
	t.Setenv("CONSENTRY_LEDGER_TEST_SIDE_HOLD", "")
	l = h.ledger(t)
	for i := range 50 {
		r := mustAppend(t, l, rec("org-1", fmt.Sprintf("s%d", i%7), fmt.Sprintf("ev-%d", i)))
		if !r[0].Duplicate || r[0].ID != first[i].ID {
			t.Fatalf("retry of ev-%d after restart: %+v", i, r[0])
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for queryInt(t, l, `SELECT count(*) FROM dedup`) != 50 {
		if time.Now().After(deadline) {
			t.Fatalf("dedup table holds %d entries", queryInt(t, l, `SELECT count(*) FROM dedup`))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := queryInt(t, l, `SELECT count(*) FROM records`); n != 50 {
		t.Fatalf("%d records", n)
	}
	mustVerify(t, l)
}

// TestSubjectKeysTail: a subject's records are listed, counted and erased
// whether its data keys are in subject_keys yet or only in the tail after
// the table's mark; Verify reports a key the table claims to cover but
// lacks (erasure would miss it).
func TestSubjectKeysTail(t *testing.T) {
	for _, held := range []bool{true, false} {
		t.Run(fmt.Sprintf("held=%v", held), func(t *testing.T) {
			if held {
				t.Setenv("CONSENTRY_LEDGER_TEST_SIDE_HOLD", "1h")
			}
			h := newHarness(t, backend{"sqlite", sqliteDB})
			ctx := context.Background()
			l := h.ledger(t, func(o *ledger.Options) { o.KeyCacheSize = 1 }) // a new key almost every record
			for i := range 40 {
				mustAppend(t, l, rec("org-1", fmt.Sprintf("s%d", i%4), fmt.Sprintf("ev-%d", i)))
			}
			inTable := queryInt(t, l, `SELECT count(*) FROM subject_keys`)
			if !held {
				deadline := time.Now().Add(10 * time.Second)
				for inTable != queryInt(t, l, `SELECT count(*) FROM data_keys`) {
					if time.Now().After(deadline) {
						t.Fatalf("subject_keys holds %d keys", inTable)
					}
					time.Sleep(50 * time.Millisecond)
					inTable = queryInt(t, l, `SELECT count(*) FROM subject_keys`)
				}
			} else if inTable != 0 {
				t.Fatalf("held subject_keys holds %d keys", inTable)
			}
			p, err := l.List(ctx, ledger.Filter{Tenant: "org-1", SubjectKey: "s1"}, ledger.Page{Size: 100})
			if err != nil || len(p.Records) != 10 {
				t.Fatalf("list: %v, %d records", err, len(p.Records))
			}
			p, err = l.List(ctx, ledger.Filter{SubjectKeys: []string{"s0", "s3", "nobody"}}, ledger.Page{Size: 100})
			if err != nil || len(p.Records) != 20 {
				t.Fatalf("list of several subjects: %v, %d records", err, len(p.Records))
			}
			res, err := l.EraseSubject(ctx, "org-1", "s2", "test")
			if err != nil || res.Records != 10 || res.KeysDestroyed < 2 {
				t.Fatalf("erase: %+v %v", res, err)
			}
			p, _ = l.List(ctx, ledger.Filter{Tenant: "org-1", SubjectKey: "s2"}, ledger.Page{Size: 100})
			for _, m := range p.Records {
				if _, err := l.Get(ctx, m.ID); !errors.Is(err, ledger.ErrErased) {
					t.Fatalf("record of the erased subject: %v", err)
				}
			}
			mustVerify(t, l)
			if !held {
				exec(t, l, `DELETE FROM subject_keys WHERE dk_id IN (SELECT dk_id FROM data_keys WHERE subject_key = 's3' LIMIT 1)`)
				rep, err := l.Verify(ctx)
				if err != nil || rep.OK || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Detail, "erasure would miss it") {
					t.Fatalf("verify of a subject_keys entry deleted: %v %+v", err, rep)
				}
			}
		})
	}
}
