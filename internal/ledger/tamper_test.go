package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/chain"
)

// tamperSetup stores 10 records (seq 1..10) and a checkpoint at seq 10.
func tamperSetup(t *testing.T, h *harness) (*ledger.Ledger, []ledger.AppendResult) {
	t.Helper()
	l := h.ledger(t)
	var recs []ledger.Record
	for i := range 10 {
		recs = append(recs, rec("org-1", fmt.Sprintf("s-%d", i%3), fmt.Sprintf("ev-%d", i)))
	}
	res := mustAppend(t, l, recs...)
	if _, err := l.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, l)
	return l, res
}

// problems runs Verify and returns its problems, failing if it passed.
func problems(t *testing.T, l *ledger.Ledger) []ledger.Problem {
	t.Helper()
	rep, err := l.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Problems) == 0 {
		t.Fatal("tampering not detected")
	}
	for _, p := range rep.Problems {
		t.Logf("detected: %s", p)
	}
	return rep.Problems
}

func expectOnly(t *testing.T, ps []ledger.Problem, kind ledger.ProblemKind, ref string, seq uint64) {
	t.Helper()
	for _, p := range ps {
		if p.Kind != kind || (ref != "" && p.Ref != ref) || (seq != 0 && p.Seq != seq) {
			t.Fatalf("unexpected problem %s (want %s ref %q seq %d)", p, kind, ref, seq)
		}
	}
}

func flipByte(t *testing.T, l *ledger.Ledger, query, update string, id string, at int) {
	t.Helper()
	var b []byte
	if err := l.Store().WriteDB().QueryRowContext(context.Background(), query, id).Scan(&b); err != nil {
		t.Fatal(err)
	}
	b[at%len(b)] ^= 0x01
	if n := exec(t, l, update, b, id); n != 1 {
		t.Fatalf("tamper updated %d rows", n)
	}
}

func TestTamperCiphertextByte(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		l, res := tamperSetup(t, h)
		id := res[4].ID
		flipByte(t, l, `SELECT p.ciphertext FROM payloads p JOIN records r ON r.rid = p.rid WHERE r.id = $1`,
			`UPDATE payloads SET ciphertext = $1 WHERE rid = (SELECT rid FROM records WHERE id = $2)`, id, 777)
		expectOnly(t, problems(t, l), ledger.Altered, id, 5)
		if _, err := l.Get(context.Background(), id); !errors.Is(err, ledger.ErrTampered) {
			t.Fatalf("get of a tampered record: %v", err)
		}
	})
}

func TestTamperNonceByte(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		l, res := tamperSetup(t, h)
		id := res[2].ID
		flipByte(t, l, `SELECT p.nonce FROM payloads p JOIN records r ON r.rid = p.rid WHERE r.id = $1`,
			`UPDATE payloads SET nonce = $1 WHERE rid = (SELECT rid FROM records WHERE id = $2)`, id, 3)
		expectOnly(t, problems(t, l), ledger.Altered, id, 3)
	})
}

func TestTamperMetadata(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		for _, c := range []struct{ col, val string }{
			{"event_name", "ccaas.interaction.endeD"},
			{"vendor", "gEnesys"},
			{"subject_key", "s-9"},
			{"reasons", `["no_consent"]`},
			{"consent_status", "granted"},
		} {
			t.Run(c.col, func(t *testing.T) {
				l, res := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
				id := res[7].ID
				exec(t, l, `UPDATE records SET `+c.col+` = $1 WHERE id = $2`, c.val, id)
				expectOnly(t, problems(t, l), ledger.Altered, id, 8)
			})
		}
		t.Run("event_hash", func(t *testing.T) {
			l, res := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			exec(t, l, `UPDATE records SET event_hash = $1 WHERE id = $2`, []byte("0123456789abcdef"), res[3].ID)
			expectOnly(t, problems(t, l), ledger.Altered, res[3].ID, 4)
		})
		t.Run("occurred_at", func(t *testing.T) {
			l, res := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			exec(t, l, `UPDATE records SET occurred_at = occurred_at + 1 WHERE id = $1`, res[0].ID)
			expectOnly(t, problems(t, l), ledger.Altered, res[0].ID, 1)
		})
	})
}

func backendNamed(name string) backend {
	for _, b := range backends {
		if b.name == name {
			return b
		}
	}
	panic(name)
}

func TestTamperRemoved(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		t.Run("chain entry", func(t *testing.T) {
			l, res := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			exec(t, l, `DELETE FROM chain WHERE seq = 4`)
			ps := problems(t, l)
			expectOnly(t, ps, ledger.Removed, "", 4)
			if !strings.Contains(ps[0].Detail, "entry 4 is missing") || ps[len(ps)-1].Ref != res[3].ID {
				t.Fatalf("problems: %v", ps)
			}
		})
		t.Run("record row", func(t *testing.T) {
			l, res := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			exec(t, l, `DELETE FROM payloads WHERE rid = (SELECT rid FROM records WHERE id = $1)`, res[5].ID)
			exec(t, l, `DELETE FROM records WHERE id = $1`, res[5].ID)
			expectOnly(t, problems(t, l), ledger.Removed, res[5].ID, 6)
		})
		t.Run("payload only", func(t *testing.T) {
			l, res := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			exec(t, l, `DELETE FROM payloads WHERE rid = (SELECT rid FROM records WHERE id = $1)`, res[1].ID)
			expectOnly(t, problems(t, l), ledger.Removed, res[1].ID, 2)
			exec(t, l, `UPDATE records SET purged_at = 1 WHERE id = $1`, res[1].ID)
			expectOnly(t, problems(t, l), ledger.Removed, res[1].ID, 2) // no signed purge covers it
		})
		t.Run("renumbered", func(t *testing.T) {
			l, res := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			// Delete entry 4 and its record, renumber 5..10 to 4..9 (and the
			// records' back-references): no gap left, but the chain breaks.
			exec(t, l, `DELETE FROM payloads WHERE rid = (SELECT rid FROM records WHERE id = $1)`, res[3].ID)
			exec(t, l, `DELETE FROM records WHERE id = $1`, res[3].ID)
			exec(t, l, `DELETE FROM chain WHERE seq = 4`)
			for s := 5; s <= 10; s++ {
				exec(t, l, `UPDATE chain SET seq = $1 WHERE seq = $2`, s-1, s)
				exec(t, l, `UPDATE records SET seq = $1 WHERE seq = $2`, s-1, s)
			}
			ps := problems(t, l)
			var removed, truncated bool
			for _, p := range ps {
				removed = removed || (p.Kind == ledger.Removed && p.Seq == 4 && p.Ref == res[4].ID)
				truncated = truncated || (p.Kind == ledger.Removed && p.Seq == 10)
			}
			if !removed || !truncated {
				t.Fatalf("problems: %v", ps)
			}
		})
		t.Run("tail", func(t *testing.T) {
			l, res := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			exec(t, l, `DELETE FROM chain WHERE seq >= 9`)
			exec(t, l, `DELETE FROM payloads WHERE rid IN (SELECT rid FROM records WHERE seq >= 9)`)
			exec(t, l, `DELETE FROM records WHERE seq >= 9`)
			ps := problems(t, l)
			expectOnly(t, ps, ledger.Removed, "", 10)
			if !strings.Contains(ps[0].Detail, "chain ends at seq 8") {
				t.Fatalf("problems: %v", ps)
			}
			_ = res
		})
	})
}

func TestTamperReordered(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		t.Run("swap chain entries", func(t *testing.T) {
			l, res := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			exec(t, l, `UPDATE chain SET seq = -3 WHERE seq = 3`)
			exec(t, l, `UPDATE chain SET seq = 3 WHERE seq = 7`)
			exec(t, l, `UPDATE chain SET seq = 7 WHERE seq = -3`)
			ps := problems(t, l)
			expectOnly(t, ps, ledger.Reordered, "", 0)
			refs := map[string]bool{}
			for _, p := range ps {
				refs[p.Ref] = true
			}
			if !refs[res[2].ID] || !refs[res[6].ID] {
				t.Fatalf("swapped records not named: %v", ps)
			}
		})
		t.Run("swap record rows", func(t *testing.T) {
			l, res := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			// Exchange which chain entries two records claim.
			exec(t, l, `UPDATE records SET seq = -2 WHERE id = $1`, res[1].ID)
			exec(t, l, `UPDATE records SET seq = 2 WHERE id = $1`, res[8].ID)
			exec(t, l, `UPDATE records SET seq = 9 WHERE id = $1`, res[1].ID)
			expectOnly(t, problems(t, l), ledger.Reordered, "", 0)
		})
		t.Run("swap chain refs", func(t *testing.T) {
			l, res := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			exec(t, l, `UPDATE chain SET ref = 'x' WHERE seq = 2`)
			exec(t, l, `UPDATE chain SET ref = $1 WHERE seq = 2`, res[5].ID)
			exec(t, l, `UPDATE chain SET ref = $1 WHERE seq = 6`, res[1].ID)
			ps := problems(t, l)
			expectOnly(t, ps, ledger.Reordered, "", 0)
		})
	})
}

func TestTamperInserted(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		l, res := tamperSetup(t, h)
		exec(t, l, `INSERT INTO records (id, tenant, vendor, event_id, event_name, subject_key, interaction_id, reasons, consent_status,
			occurred_at, received_at, dk_id, payload_hash, writer_id, seq, event_hash)
			SELECT 'FORGED', tenant, vendor, 'forged-event', event_name, subject_key, interaction_id, reasons, 'granted',
			occurred_at, received_at, dk_id, payload_hash, writer_id, seq, $2 FROM records WHERE id = $1`, res[0].ID, []byte("0123456789abcdef"))
		expectOnly(t, problems(t, l), ledger.Inserted, "FORGED", 1)
	})
}

func TestTamperCheckpoints(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		t.Run("signature", func(t *testing.T) {
			l, _ := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			flipByte(t, l, `SELECT sig FROM checkpoints WHERE writer_id = $1`, `UPDATE checkpoints SET sig = $1 WHERE writer_id = $2`, l.WriterID(), 5)
			expectOnly(t, problems(t, l), ledger.BadCheckpoint, "", 10)
		})
		t.Run("deleted", func(t *testing.T) {
			l, _ := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			mustAppend(t, l, rec("org-1", "s", "more-1"))
			if _, err := l.Checkpoint(context.Background()); err != nil {
				t.Fatal(err)
			}
			mustAppend(t, l, rec("org-1", "s", "more-2"))
			l.Checkpoint(context.Background())
			exec(t, l, `DELETE FROM checkpoints WHERE seq = 11`)
			expectOnly(t, problems(t, l), ledger.MissingCheckpoint, "", 11)
		})
		t.Run("rewritten chain", func(t *testing.T) {
			// An attacker alters a record and recomputes its digest and every
			// later link: only the signed checkpoint gives it away.
			l, res := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			ctx := context.Background()
			got, err := l.Get(ctx, res[5].ID)
			if err != nil {
				t.Fatal(err)
			}
			m := got.RecordMeta
			m.ConsentStatus = "granted"
			exec(t, l, `UPDATE records SET consent_status = 'granted' WHERE id = $1`, m.ID)
			var entries []ledger.ChainEntry
			l.ChainEntries(ctx, l.WriterID(), 1, 0, func(e *ledger.ChainEntry) error { entries = append(entries, *e); return nil })
			d := ledger.RecordDigest(&m)
			prev := entries[4].Link
			for _, e := range entries[5:] {
				if e.Seq == 6 {
					e.Digest = d
				}
				link := chain.Link(prev, e.Digest)
				exec(t, l, `UPDATE chain SET digest = $1, prev = $2, link = $3 WHERE seq = $4`, e.Digest[:], prev[:], link[:], e.Seq)
				prev = link
			}
			expectOnly(t, problems(t, l), ledger.BadCheckpoint, "", 10)
		})
	})
}

func TestTamperKeysAndTombstones(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		t.Run("key destroyed without tombstone", func(t *testing.T) {
			l, _ := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			exec(t, l, `UPDATE data_keys SET wrapped = NULL, erased_at = 1 WHERE subject_key = 's-1'`)
			expectOnly(t, problems(t, l), ledger.KeyDestroyed, "s-1", 0)
		})
		t.Run("key row deleted", func(t *testing.T) {
			l, res := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			exec(t, l, `DELETE FROM data_keys WHERE subject_key = 's-2'`)
			ps := problems(t, l)
			expectOnly(t, ps, ledger.KeyDestroyed, "", 0)
			if len(ps) != 3 || ps[0].Ref != res[2].ID {
				t.Fatalf("problems: %v", ps)
			}
		})
		t.Run("tombstone altered", func(t *testing.T) {
			l, _ := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			ctx := context.Background()
			er, err := l.EraseSubject(ctx, "org-1", "s-0", "art. 17 request")
			if err != nil {
				t.Fatal(err)
			}
			mustVerify(t, l)
			exec(t, l, `UPDATE chain SET body = $1 WHERE seq = $2`, []byte(`{"tenant":"org-1","subject_key":"s-1","key_id":"x"}`), er.Seq)
			ps := problems(t, l)
			var altered bool
			for _, p := range ps {
				altered = altered || (p.Kind == ledger.Altered && p.Seq == er.Seq)
			}
			if !altered {
				t.Fatalf("problems: %v", ps)
			}
		})
		t.Run("tombstone forged", func(t *testing.T) {
			l, _ := tamperSetup(t, newHarness(t, backendNamed(h.backend)))
			ctx := context.Background()
			er, err := l.EraseSubject(ctx, "org-1", "s-0", "art. 17 request")
			if err != nil {
				t.Fatal(err)
			}
			flipByte(t, l, `SELECT sig FROM chain WHERE writer_id = $1 AND kind = 'erase'`, `UPDATE chain SET sig = $1 WHERE writer_id = $2 AND kind = 'erase'`, l.WriterID(), 9)
			ps := problems(t, l)
			var bad bool
			for _, p := range ps {
				bad = bad || (p.Kind == ledger.BadSignature && p.Seq == er.Seq)
			}
			if !bad {
				t.Fatalf("problems: %v", ps)
			}
		})
	})
}
