package ledger_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/consentry/consentry/internal/ledger"
)

func TestEraseSubject(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		l := h.ledger(t)
		res := mustAppend(t, l, rec("org-1", "alice", "1"), rec("org-1", "bob", "2"), rec("org-1", "alice", "3"), rec("org-1", "", "4"), rec("org-2", "alice", "5"))
		before, _ := l.Get(ctx, res[0].ID)
		er, err := l.EraseSubject(ctx, "org-1", "alice", "GDPR art. 17 request #7")
		if err != nil || er.KeysDestroyed != 1 || er.Records != 2 || er.Seq != 6 {
			t.Fatalf("erase: %+v %v", er, err)
		}
		for _, i := range []int{0, 2} {
			got, err := l.Get(ctx, res[i].ID)
			if !errors.Is(err, ledger.ErrErased) || got == nil || got.Payload != nil || !got.Erased || got.EventID == "" {
				t.Fatalf("get erased record: %+v %v", got, err)
			}
			if ledger.IsRetryable(err) {
				t.Fatal("erased is retryable")
			}
		}
		for _, i := range []int{1, 3, 4} { // other subject, no subject, same subject key in another tenant
			if _, err := l.Get(ctx, res[i].ID); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
		}
		p, err := l.List(ctx, ledger.Filter{SubjectKey: "alice", Tenant: "org-1"}, ledger.Page{})
		if err != nil || len(p.Records) != 2 || !p.Records[0].Erased {
			t.Fatalf("list: %+v %v", p, err)
		}
		// New records of the subject get a new key and are readable.
		again := mustAppend(t, l, rec("org-1", "alice", "6"))
		got, err := l.Get(ctx, again[0].ID)
		if err != nil || got.KeyID == before.KeyID {
			t.Fatalf("after erasure: %+v %v", got, err)
		}
		rep := mustVerify(t, l)
		if rep.Erased != 2 || rep.Events != 1 {
			t.Fatalf("report: %+v", rep)
		}
		if _, err := l.EraseSubject(ctx, "org-1", "", "x"); !errors.Is(err, ledger.ErrInvalid) {
			t.Fatalf("erase without subject: %v", err)
		}
		// The wrapped key is gone from the database, not just flagged.
		if n := queryInt(t, l, `SELECT count(*) FROM data_keys WHERE subject_key = 'alice' AND tenant = 'org-1' AND wrapped IS NOT NULL`); n != 1 {
			t.Fatalf("%d live keys for alice, want only the new one", n)
		}
	})
}

func TestEraseWhileAppending(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		l := h.ledger(t)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := l.Append(ctx, []ledger.Record{rec("org-1", "carol", fmt.Sprintf("w%d-%d", w, i))}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		for range 5 {
			time.Sleep(20 * time.Millisecond)
			if _, err := l.EraseSubject(ctx, "org-1", "carol", "test"); err != nil {
				t.Fatal(err)
			}
		}
		close(stop)
		wg.Wait()
		mustVerify(t, l)
	})
}

func TestEraseSeenByOtherReplica(t *testing.T) {
	h := newHarness(t, backendNamed("postgres"))
	ctx := context.Background()
	l1 := h.ledger(t, func(o *ledger.Options) { o.WriterID = "r1" })
	l2 := h.ledger(t, func(o *ledger.Options) { o.WriterID = "r2" })
	old := mustAppend(t, l2, rec("org-1", "dave", "1")) // r2 now caches dave's key
	if _, err := l1.EraseSubject(ctx, "org-1", "dave", "test"); err != nil {
		t.Fatal(err)
	}
	res := mustAppend(t, l2, rec("org-1", "dave", "2"))
	got, err := l2.Get(ctx, res[0].ID)
	if err != nil {
		t.Fatalf("record stored after the erasure by another replica: %v", err)
	}
	o, _ := l2.Get(ctx, old[0].ID)
	if o == nil || !o.Erased || got.KeyID == o.KeyID {
		t.Fatalf("stale key used: %+v / %+v", o, got)
	}
	rep := mustVerify(t, l1)
	if len(rep.Writers) != 2 {
		t.Fatalf("writers: %+v", rep.Writers)
	}
}

func TestPurge(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		h.clock.set(t0)
		// Retries of the purged records below come 10 days later: within
		// this window.
		l := h.ledger(t, func(o *ledger.Options) { o.DedupWindow = 30 * 24 * time.Hour })
		var old []ledger.Record
		for i := range 5 {
			old = append(old, rec("org-1", "s", fmt.Sprintf("old-%d", i)))
		}
		oldRes := mustAppend(t, l, old...)
		h.clock.set(t0.AddDate(0, 0, 10))
		newRes := mustAppend(t, l, rec("org-1", "s", "new-1"), rec("org-1", "s", "new-2"))
		pr, err := l.Purge(ctx, t0.AddDate(0, 0, 5))
		if err != nil || pr.Purged != 5 || pr.Seq != 8 {
			t.Fatalf("purge: %+v %v", pr, err)
		}
		for _, r := range oldRes {
			got, err := l.Get(ctx, r.ID)
			if !errors.Is(err, ledger.ErrPurged) || got == nil || got.PurgedAt.IsZero() {
				t.Fatalf("purged record: %+v %v", got, err)
			}
		}
		for _, r := range newRes {
			if _, err := l.Get(ctx, r.ID); err != nil {
				t.Fatal(err)
			}
		}
		if n := queryInt(t, l, `SELECT count(*) FROM payloads`); n != 2 {
			t.Fatalf("%d payloads left", n)
		}
		rep := mustVerify(t, l)
		if rep.Purged != 5 || rep.Events != 1 || rep.Records != 7 {
			t.Fatalf("report: %+v", rep)
		}
		if pr, err := l.Purge(ctx, t0.AddDate(0, 0, 5)); err != nil || pr.Purged != 0 {
			t.Fatalf("purge again: %+v %v", pr, err)
		}
		// A later purge covers the rest.
		if pr, err := l.Purge(ctx, t0.AddDate(0, 0, 11)); err != nil || pr.Purged != 2 {
			t.Fatalf("second purge: %+v %v", pr, err)
		}
		// Duplicates of purged records are still recognised.
		if r := mustAppend(t, l, old[0]); !r[0].Duplicate {
			t.Fatal("retry of a purged record stored again")
		}
		mustVerify(t, l)
	})
}

func TestKeyRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		kek1, kek2 := h.kek, newKey()
		writer := func(o *ledger.Options) { o.WriterID = "rot" }
		l := h.ledger(t, writer)
		oldPub := l.PublicKey()
		var in []ledger.Record
		for i := range 6 {
			in = append(in, rec("org-1", fmt.Sprintf("s-%d", i%3), fmt.Sprintf("ev-%d", i)))
		}
		res := mustAppend(t, l, in...)
		l.Close(ctx)

		// Step 1: the new KEK becomes active, the old one stays for unwrapping.
		both := func(o *ledger.Options) {
			writer(o)
			o.KEKs = []ledger.KEK{{ID: "kek-2", Key: kek2}, {ID: "kek-1", Key: kek1}}
			o.ActiveKEK = "kek-2"
		}
		l = h.ledger(t, both)
		if bytes.Equal(l.PublicKey(), oldPub) {
			t.Fatal("signing key did not follow the active KEK")
		}
		more := mustAppend(t, l, rec("org-1", "s-0", "ev-new"), rec("org-1", "s-new", "ev-new-2"))
		// Step 2: rewrap.
		rr, err := l.RewrapDataKeys(ctx)
		if err != nil || rr.Rewrapped != 3 || rr.Failed != 0 {
			t.Fatalf("rewrap: %+v %v", rr, err)
		}
		if n := queryInt(t, l, `SELECT count(*) FROM data_keys WHERE kek_id <> 'kek-2'`); n != 0 {
			t.Fatalf("%d keys not rewrapped", n)
		}
		if rr, err := l.RewrapDataKeys(ctx); err != nil || rr.Rewrapped != 0 {
			t.Fatalf("second rewrap: %+v %v", rr, err)
		}
		mustVerify(t, l)
		l.Close(ctx)

		// Step 3: the old KEK is removed; its signing key stays trusted.
		only2 := func(o *ledger.Options) {
			writer(o)
			o.KEKs = []ledger.KEK{{ID: "kek-2", Key: kek2}}
			o.TrustedKeys = []ed25519.PublicKey{oldPub}
		}
		l = h.ledger(t, only2)
		for i, r := range append(res, more...) {
			if _, err := l.Get(ctx, r.ID); err != nil {
				t.Fatalf("record %d after rotation: %v", i, err)
			}
		}
		mustVerify(t, l)
		l.Close(ctx)

		// Forgetting to pin the old public key makes old checkpoints unverifiable.
		l = h.ledger(t, func(o *ledger.Options) { only2(o); o.TrustedKeys = nil })
		rep, err := l.Verify(ctx)
		if err != nil || rep.OK || rep.Problems[0].Kind != ledger.BadCheckpoint {
			t.Fatalf("verify without the old public key: %+v %v", rep, err)
		}
		l.Close(ctx)

		// Without the active KEK, the new keys cannot be unwrapped.
		l = h.ledger(t, func(o *ledger.Options) { writer(o); o.WriterID = "rot-old" })
		_, err = l.Get(ctx, more[1].ID)
		if err == nil || ledger.IsRetryable(err) || errors.Is(err, ledger.ErrErased) {
			t.Fatalf("get with the wrong KEK: %v", err)
		}
	})
}

func TestDataKeyMaxAge(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		h.clock.set(t0)
		l := h.ledger(t, func(o *ledger.Options) { o.DataKeyMaxAge = time.Hour })
		a := mustAppend(t, l, rec("org-1", "erin", "1"), rec("org-1", "erin", "2"))
		h.clock.set(t0.Add(2 * time.Hour))
		b := mustAppend(t, l, rec("org-1", "erin", "3"))
		ga, _ := l.Get(ctx, a[1].ID)
		gb, _ := l.Get(ctx, b[0].ID)
		g0, _ := l.Get(ctx, a[0].ID)
		if ga.KeyID != g0.KeyID || gb.KeyID == ga.KeyID {
			t.Fatalf("keys: %s %s %s", g0.KeyID, ga.KeyID, gb.KeyID)
		}
		p, err := l.List(ctx, ledger.Filter{SubjectKey: "erin"}, ledger.Page{})
		if err != nil || len(p.Records) != 3 {
			t.Fatalf("list by subject across keys: %d %v", len(p.Records), err)
		}
		er, err := l.EraseSubject(ctx, "org-1", "erin", "test")
		if err != nil || er.KeysDestroyed != 2 || er.Records != 3 {
			t.Fatalf("erase: %+v %v", er, err)
		}
		for _, id := range []string{a[0].ID, b[0].ID} {
			if _, err := l.Get(ctx, id); !errors.Is(err, ledger.ErrErased) {
				t.Fatal(err)
			}
		}
		mustVerify(t, l)
	})
}
