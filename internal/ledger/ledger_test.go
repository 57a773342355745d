package ledger_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/chain"
)

func TestAppendGetList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		l := h.ledger(t)
		in := []ledger.Record{rec("org-1", "subj-1", "ev-1"), rec("org-1", "", "ev-2"), rec("org-2", "subj-1", "ev-3")}
		in[1].Reasons = nil
		in[2].Vendor = "twilio"
		res := mustAppend(t, l, in...)
		for i, r := range res {
			if r.Duplicate || r.ID == "" {
				t.Fatalf("result %d: %+v", i, r)
			}
			got, err := l.Get(ctx, r.ID)
			if err != nil {
				t.Fatalf("get %d: %v", i, err)
			}
			if !bytes.Equal(got.Payload, in[i].Payload) {
				t.Fatalf("record %d: payload differs", i)
			}
			m := got.RecordMeta
			if m.Tenant != in[i].Tenant || m.Vendor != in[i].Vendor || m.EventID != in[i].EventID || m.SubjectKey != in[i].SubjectKey ||
				m.EventName != in[i].EventName || m.InteractionID != in[i].InteractionID || !m.OccurredAt.Equal(in[i].OccurredAt) ||
				m.WriterID != l.WriterID() || m.Seq != uint64(i+1) || m.ReceivedAt.IsZero() || m.StoredAt.IsZero() || m.Erased {
				t.Fatalf("record %d: metadata %+v", i, m)
			}
			if want := in[i].Reasons; want != nil && !slices.Equal(m.Reasons, want) {
				t.Fatalf("record %d: reasons %v", i, m.Reasons)
			}
			if ledger.RecordDigest(&m) != got.Digest {
				t.Fatalf("record %d: digest", i)
			}
		}
		if _, err := l.Get(ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV"); !errors.Is(err, ledger.ErrNotFound) {
			t.Fatalf("get missing: %v", err)
		}
		page, err := l.List(ctx, ledger.Filter{}, ledger.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) != 3 || page.NextToken != "" || page.Records[0].ID != res[2].ID {
			t.Fatalf("list: %+v", page)
		}
		// Invalid input is reported per record and stores nothing.
		bad, err := l.Append(ctx, []ledger.Record{{Tenant: "t", Vendor: "v"}, rec("org-1", "s", "ev-4")})
		if err != nil || !errors.Is(bad[0].Err, ledger.ErrInvalid) || bad[1].Err != nil || bad[1].ID == "" {
			t.Fatalf("invalid input: %+v, %v", bad, err)
		}
		mustVerify(t, l)
	})
}

func TestDedup(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		l := h.ledger(t)
		a := rec("org-1", "subj-1", "ev-1")
		res := mustAppend(t, l, a, rec("org-1", "subj-1", "ev-2"), a)
		if res[0].Duplicate || res[1].Duplicate || !res[2].Duplicate || res[2].ID != res[0].ID {
			t.Fatalf("in-call duplicates: %+v", res)
		}
		// A retry, hours later, with another payload: stored once.
		retry := rec("org-1", "subj-1", "ev-1")
		res2 := mustAppend(t, l, retry)
		if !res2[0].Duplicate || res2[0].ID != res[0].ID {
			t.Fatalf("retry: %+v", res2)
		}
		// Same event id under another vendor or tenant is another event.
		other := rec("org-2", "subj-1", "ev-1")
		other2 := rec("org-1", "subj-1", "ev-1")
		other2.Vendor = "talkdesk"
		res3 := mustAppend(t, l, other, other2)
		if res3[0].Duplicate || res3[1].Duplicate {
			t.Fatalf("other keys: %+v", res3)
		}
		// Concurrent retries of one event: stored once.
		var wg sync.WaitGroup
		ids := make([]string, 16)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := l.Append(ctx, []ledger.Record{rec("org-3", "s", "same")})
				if err != nil {
					t.Error(err)
					return
				}
				ids[i] = r[0].ID
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("concurrent retries stored twice: %v", ids)
			}
		}
		if n := queryInt(t, l, `SELECT count(*) FROM records`); n != 5 {
			t.Fatalf("%d records stored, want 5", n)
		}
		if m := l.Metrics(); m.Duplicates < 2+15 {
			t.Fatalf("metrics: %+v", m)
		}
		mustVerify(t, l)
	})
}

func TestConcurrentAppend(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		l := h.ledger(t, func(o *ledger.Options) { o.CheckpointEvery = 500 })
		const workers, calls, per = 24, 20, 4
		var mu sync.Mutex
		seen := map[string]bool{}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := range calls {
					var recs []ledger.Record
					for i := range per {
						// Every worker also sends one event another worker sends.
						id := fmt.Sprintf("w%d-c%d-%d", w, c, i)
						if i == per-1 {
							id = fmt.Sprintf("shared-c%d", c)
						}
						recs = append(recs, rec("org-1", fmt.Sprintf("subj-%d", (w+i)%7), id))
					}
					res, err := l.Append(ctx, recs)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, r := range res {
						if !r.Duplicate {
							if seen[r.ID] {
								t.Errorf("id %s returned twice as new", r.ID)
							}
							seen[r.ID] = true
						}
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		want := workers*calls*(per-1) + calls
		if len(seen) != want {
			t.Fatalf("%d records stored, want %d", len(seen), want)
		}
		if n := queryInt(t, l, `SELECT count(*) FROM records`); n != int64(want) {
			t.Fatalf("%d rows, want %d", n, want)
		}
		m := l.Metrics()
		if m.Batches >= int64(workers*calls) {
			t.Errorf("no group commit: %d batches for %d calls", m.Batches, workers*calls)
		}
		t.Logf("metrics: %+v", m)
		rep := mustVerify(t, l)
		if rep.Records != int64(want) || rep.Writers[0].LastSeq != uint64(want) || rep.Writers[0].Checkpoints == 0 {
			t.Fatalf("report: %+v", rep)
		}
	})
}

func TestGroupCommit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		// A long linger and a small batch: 40 callers must need exactly
		// ceil(40/10) commits, each caller returning only after its own,
		// and a full batch must not wait for the linger. The linger is far
		// longer than four commits take even on a loaded machine, so that
		// waiting for it, not slowness, is what the time bound catches.
		const linger = 30 * time.Second
		l := h.ledger(t, func(o *ledger.Options) {
			o.BatchRows = 10
			o.BatchLinger = linger
		})
		before := l.Metrics().Batches
		var wg sync.WaitGroup
		start := time.Now()
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := l.Append(ctx, []ledger.Record{rec("org-1", "s", fmt.Sprintf("ev-%d", i))})
				if err != nil {
					t.Error(err)
					return
				}
				// Durable when Append returns: readable at once.
				if _, err := l.Get(ctx, res[0].ID); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if d := time.Since(start); d > linger/2 {
			t.Errorf("full batches waited for the linger: %v", d)
		}
		if n := l.Metrics().Batches - before; n != 4 {
			t.Errorf("%d commits for 40 rows in batches of 10, want 4", n)
		}
	})
}

func TestListFiltersAndPaging(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		l := h.ledger(t)
		day := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		var recs []ledger.Record
		for i := range 45 {
			r := rec(fmt.Sprintf("org-%d", i%3), fmt.Sprintf("subj-%d", i%5), fmt.Sprintf("ev-%d", i))
			r.Vendor = []string{"genesys", "twilio", "segment"}[i%3]
			r.EventName = []string{"ccaas.interaction.started", "ccaas.recording.available"}[i%2]
			r.Reasons = [][]string{{"no_consent"}, {"sensitive_tenant", "no_consent"}, {"undisclosed_processor"}, {"under_score_%"}}[i%4]
			r.InteractionID = fmt.Sprintf("conv-%d", i%9)
			r.OccurredAt = day.Add(time.Duration(i) * 6 * time.Hour)
			recs = append(recs, r)
		}
		mustAppend(t, l, recs...)
		count := func(f ledger.Filter) int {
			t.Helper()
			n := 0
			tok := ""
			pages := 0
			for {
				p, err := l.List(ctx, f, ledger.Page{Size: 7, Token: tok})
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for i := 1; i < len(p.Records); i++ {
					if p.Records[i].ID >= p.Records[i-1].ID {
						t.Fatal("not newest first")
					}
				}
				n += len(p.Records)
				if p.NextToken == "" {
					break
				}
				tok = p.NextToken
			}
			return n
		}
		cases := []struct {
			f    ledger.Filter
			want int
		}{
			{ledger.Filter{}, 45},
			{ledger.Filter{Tenant: "org-1"}, 15},
			{ledger.Filter{Vendor: "twilio"}, 15},
			{ledger.Filter{Reason: "no_consent"}, 23},
			{ledger.Filter{Reason: "sensitive_tenant"}, 11},
			{ledger.Filter{Reason: "under_score_%"}, 11},
			{ledger.Filter{Reason: "under"}, 0},
			{ledger.Filter{EventName: "ccaas.recording.available"}, 22},
			{ledger.Filter{SubjectKey: "subj-2"}, 9},
			{ledger.Filter{InteractionID: "conv-4"}, 5},
			{ledger.Filter{OccurredFrom: day.Add(24 * time.Hour), OccurredTo: day.Add(48 * time.Hour)}, 4},
			{ledger.Filter{Tenant: "org-0", OccurredFrom: day.Add(24 * time.Hour)}, 13},
			{ledger.Filter{Tenant: "org-0", Vendor: "genesys", Reason: "no_consent", SubjectKey: "subj-0"}, 1},
		}
		for _, c := range cases {
			if got := count(c.f); got != c.want {
				t.Errorf("filter %+v: %d records, want %d", c.f, got, c.want)
			}
		}
		p, err := l.List(ctx, ledger.Filter{Tenant: "org-1"}, ledger.Page{Size: 2})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.List(ctx, ledger.Filter{Tenant: "org-2"}, ledger.Page{Size: 2, Token: p.NextToken}); !errors.Is(err, ledger.ErrBadPageToken) {
			t.Fatalf("token of another query: %v", err)
		}
		if _, err := l.List(ctx, ledger.Filter{}, ledger.Page{Token: "garbage!"}); !errors.Is(err, ledger.ErrBadPageToken) {
			t.Fatalf("garbage token: %v", err)
		}

		st, err := l.Stats(ctx, ledger.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Total != 45 || len(st.ByVendor) != 3 || st.ByVendor[0] != (ledger.Count{Key: "genesys", Count: 15}) ||
			len(st.ByTenant) != 3 || st.ByTenant[2] != (ledger.Count{Key: "org-2", Count: 15}) {
			t.Fatalf("stats: %+v", st)
		}
		wantReasons := []ledger.Count{{Key: "no_consent", Count: 23}, {Key: "sensitive_tenant", Count: 11}, {Key: "under_score_%", Count: 11}, {Key: "undisclosed_processor", Count: 11}}
		if !slices.Equal(st.ByReason, wantReasons) {
			t.Fatalf("by reason: %+v", st.ByReason)
		}
		if len(st.ByDay) != 12 || st.ByDay[0] != (ledger.Count{Key: "2026-05-01", Count: 2}) || st.ByDay[1] != (ledger.Count{Key: "2026-05-02", Count: 4}) {
			t.Fatalf("by day: %+v", st.ByDay)
		}
		st, err = l.Stats(ctx, ledger.Filter{Vendor: "segment"})
		if err != nil || st.Total != 15 || len(st.ByVendor) != 1 {
			t.Fatalf("filtered stats: %+v %v", st, err)
		}
	})
}

func TestListByStoredTime(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		t0 := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
		l := h.ledger(t)
		for i := range 6 {
			h.clock.set(t0.Add(time.Duration(i) * time.Hour))
			mustAppend(t, l, rec(fmt.Sprintf("org-%d", i%2), "s", fmt.Sprintf("ev-%d", i)))
		}
		for _, c := range []struct {
			f    ledger.Filter
			want int
		}{
			{ledger.Filter{From: t0.Add(2 * time.Hour)}, 4},
			{ledger.Filter{To: t0.Add(2 * time.Hour)}, 2},
			{ledger.Filter{From: t0.Add(time.Hour), To: t0.Add(5 * time.Hour)}, 4},
			{ledger.Filter{Tenant: "org-1", From: t0.Add(time.Hour), To: t0.Add(5 * time.Hour)}, 2},
		} {
			p, err := l.List(ctx, c.f, ledger.Page{})
			if err != nil || len(p.Records) != c.want {
				t.Errorf("%+v: %d records, want %d (%v)", c.f, len(p.Records), c.want, err)
			}
			for _, r := range p.Records {
				if (!c.f.From.IsZero() && r.StoredAt.Before(c.f.From)) || (!c.f.To.IsZero() && !r.StoredAt.Before(c.f.To)) {
					t.Errorf("stored at %v outside %+v", r.StoredAt, c.f)
				}
			}
		}
	})
}

func TestExportVerifiesOffline(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		l := h.ledger(t)
		var in []ledger.Record
		for i := range 30 {
			in = append(in, rec("org-1", fmt.Sprintf("s-%d", i%4), fmt.Sprintf("ev-%d", i)))
		}
		mustAppend(t, l, in...)
		if _, err := l.EraseSubject(ctx, "org-1", "s-3", "test"); err != nil {
			t.Fatal(err)
		}
		cp, err := l.Checkpoint(ctx)
		if err != nil || cp == nil {
			t.Fatal(cp, err)
		}
		byEvent := map[string][]byte{}
		for _, r := range in {
			byEvent[r.EventID] = r.Payload
		}
		var got []ledger.ExportedRecord
		err = l.Export(ctx, ledger.Filter{Tenant: "org-1"}, ledger.ExportOptions{Decrypt: true, Ciphertext: true}, func(e *ledger.ExportedRecord) error {
			got = append(got, *e)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 30 {
			t.Fatalf("%d exported", len(got))
		}
		// Offline: digests, links, payload hashes, the chain and the
		// checkpoint, with nothing but the export and the public key.
		links := map[uint64]chain.Hash{}
		prevs := map[uint64]chain.Hash{}
		err = l.ChainEntries(ctx, l.WriterID(), 1, 0, func(e *ledger.ChainEntry) error {
			if chain.Link(e.Prev, e.Digest) != e.Link {
				t.Errorf("chain entry %d", e.Seq)
			}
			links[e.Seq], prevs[e.Seq] = e.Link, e.Prev
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for seq := uint64(2); seq <= uint64(len(links)); seq++ {
			if prevs[seq] != links[seq-1] {
				t.Fatalf("chain broken at %d", seq)
			}
		}
		if links[cp.Seq] != cp.Head || !cp.Verify(l.PublicKey()) {
			t.Fatal("checkpoint does not verify")
		}
		for i, e := range got {
			if i > 0 && e.Meta.ID <= got[i-1].Meta.ID {
				t.Fatal("export not oldest first")
			}
			if ledger.RecordDigest(&e.Meta) != e.Digest || chain.Link(e.Prev, e.Digest) != e.Link || links[e.Meta.Seq] != e.Link ||
				chain.PayloadHash(e.Nonce, e.Ciphertext) != e.Meta.PayloadHash {
				t.Fatalf("record %s does not verify offline", e.Meta.ID)
			}
			if e.Meta.SubjectKey == "s-3" {
				if e.Payload != nil || e.Unreadable != "erased" {
					t.Fatalf("erased record exported readable")
				}
			} else if !bytes.Equal(e.Payload, byEvent[e.Meta.EventID]) {
				t.Fatalf("record %s payload", e.Meta.ID)
			}
		}
		cps, err := l.LatestCheckpoints(ctx)
		if err != nil || len(cps) != 1 || cps[0].Seq != cp.Seq {
			t.Fatalf("latest checkpoints: %+v %v", cps, err)
		}
	})
}

func TestRelease(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		l := h.ledger(t)
		res := mustAppend(t, l, rec("org-1", "a", "1"), rec("org-1", "a", "2"), rec("org-1", "b", "3"))
		got, err := l.MarkReleased(ctx, []string{res[0].ID, res[1].ID, "nope"}, "custodian@example", "consent recorded")
		if err != nil || len(got) != 2 {
			t.Fatalf("release: %v %v", got, err)
		}
		again, err := l.MarkReleased(ctx, []string{res[0].ID}, "x", "y")
		if err != nil || len(again) != 0 {
			t.Fatalf("release twice: %v %v", again, err)
		}
		p, err := l.List(ctx, ledger.Filter{Released: ledger.UnreleasedOnly}, ledger.Page{})
		if err != nil || len(p.Records) != 1 || p.Records[0].ID != res[2].ID {
			t.Fatalf("unreleased: %+v %v", p, err)
		}
		p, err = l.List(ctx, ledger.Filter{Released: ledger.ReleasedOnly, SubjectKey: "a"}, ledger.Page{})
		if err != nil || len(p.Records) != 2 || p.Records[0].ReleasedAt.IsZero() {
			t.Fatalf("released: %+v %v", p, err)
		}
		rep := mustVerify(t, l)
		if rep.Events != 1 {
			t.Fatalf("release event: %+v", rep)
		}
	})
}

func TestRestartContinuesChain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		mods := func(o *ledger.Options) { o.WriterID = "replica-a" }
		if h.backend == "sqlite" {
			mods = func(*ledger.Options) {} // the writer id lives in the database
		}
		l := h.ledger(t, mods)
		first := mustAppend(t, l, rec("org-1", "s", "1"), rec("org-1", "s", "2"))
		writer := l.WriterID()
		if err := l.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(ctx, []ledger.Record{rec("org-1", "s", "x")}); !errors.Is(err, ledger.ErrClosed) || !ledger.IsRetryable(err) {
			t.Fatalf("append after close: %v", err)
		}
		l = h.ledger(t, mods)
		if l.WriterID() != writer {
			t.Fatalf("writer id changed: %s -> %s", writer, l.WriterID())
		}
		res := mustAppend(t, l, rec("org-1", "s", "2"), rec("org-1", "s", "3"))
		if !res[0].Duplicate || res[0].ID != first[1].ID {
			t.Fatalf("duplicate across restart: %+v", res)
		}
		got, err := l.Get(ctx, res[1].ID)
		if err != nil || got.Seq != 3 {
			t.Fatalf("seq after restart: %+v %v", got, err)
		}
		rep := mustVerify(t, l)
		if len(rep.Writers) != 1 || rep.Writers[0].LastSeq != 3 || rep.Writers[0].Checkpoints < 1 {
			t.Fatalf("report: %+v", rep.Writers)
		}
		l.Close(ctx)
		l = h.ledger(t, mods)
		rep = mustVerify(t, l)
		if rep.Writers[0].Unanchored != 0 {
			t.Fatalf("unanchored after a clean close: %+v", rep.Writers[0])
		}
	})
}

func TestConsentRecords(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		l := h.ledger(t)
		at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
		c := ledger.Consent{
			ID: "genesys/ev-9", Tenant: "genesys/org-1", SubjectKey: "subj-1", Status: ledger.ConsentGranted,
			Purposes: []string{"analytics.reporting", "essential.service"}, Source: "consent_event",
			Vendor: "genesys", EventID: "ev-9", Signal: "signal:recording=granted", NoticeID: "notice@3",
			Details: []byte(`{"processors":["genesys"]}`), At: at, ExpiresAt: at.AddDate(1, 0, 0),
		}
		id, dup, err := l.PutConsent(ctx, c)
		if err != nil || dup || id != c.ID {
			t.Fatalf("put: %v %v %v", id, dup, err)
		}
		if _, dup, err = l.PutConsent(ctx, c); err != nil || !dup {
			t.Fatalf("put again: %v %v", dup, err)
		}
		later := ledger.Consent{Tenant: "genesys/org-1", SubjectKey: "subj-1", Status: ledger.ConsentWithdrawn,
			Purposes: []string{"analytics"}, Source: "api", Caller: "custodian@example", At: at.Add(time.Hour)}
		earlier := ledger.Consent{Tenant: "genesys/org-1", SubjectKey: "subj-1", Status: ledger.ConsentDenied, At: at.Add(-time.Hour)}
		for _, x := range []ledger.Consent{later, earlier, {Tenant: "genesys/org-1", SubjectKey: "subj-2", Status: ledger.ConsentGranted}} {
			if id, _, err := l.PutConsent(ctx, x); err != nil || id == "" {
				t.Fatal(id, err)
			}
		}
		if _, _, err := l.PutConsent(ctx, ledger.Consent{Tenant: "t", SubjectKey: "s", Status: "maybe"}); !errors.Is(err, ledger.ErrInvalid) {
			t.Fatalf("bad status: %v", err)
		}
		got, err := l.LookupConsents(ctx, "genesys/org-1", "subj-1")
		if err != nil || len(got) != 3 {
			t.Fatalf("lookup: %+v %v", got, err)
		}
		if got[0].Status != ledger.ConsentDenied || got[2].Status != ledger.ConsentWithdrawn || got[2].Caller != "custodian@example" {
			t.Fatalf("order: %+v", got)
		}
		g := got[1]
		if g.ID != c.ID || !g.At.Equal(at) || !g.ExpiresAt.Equal(c.ExpiresAt) || !slices.Equal(g.Purposes, c.Purposes) ||
			string(g.Details) != string(c.Details) || g.Signal != c.Signal || g.NoticeID != c.NoticeID || g.RecordedAt.IsZero() || g.Seq == 0 {
			t.Fatalf("round trip: %+v", g)
		}
		var all []ledger.Consent
		tok := ""
		for {
			p, err := l.ListConsents(ctx, ledger.ConsentFilter{Tenant: "genesys/org-1"}, ledger.Page{Size: 2, Token: tok})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, p.Consents...)
			if tok = p.NextToken; tok == "" {
				break
			}
		}
		if len(all) != 4 {
			t.Fatalf("list: %d", len(all))
		}
		// Seen by another replica at once (PostgreSQL: another writer).
		if h.backend == "postgres" {
			l2 := h.ledger(t, func(o *ledger.Options) { o.WriterID = "replica-2" })
			got2, err := l2.LookupConsents(ctx, "genesys/org-1", "subj-1")
			if err != nil || len(got2) != 3 {
				t.Fatalf("other replica: %d %v", len(got2), err)
			}
		}
		rep := mustVerify(t, l)
		if rep.Consents != 4 {
			t.Fatalf("report: %+v", rep)
		}
		exec(t, l, `UPDATE consents SET status = 'granted' WHERE id = $1`, got[2].ID)
		rep, _ = l.Verify(ctx)
		if rep.OK || rep.Problems[0].Kind != ledger.Altered || rep.Problems[0].Ref != got[2].ID {
			t.Fatalf("altered consent not detected: %+v", rep.Problems)
		}
	})
}

func TestAccessLog(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		l := h.ledger(t)
		for i := range 25 {
			e := ledger.AccessEntry{Identity: []string{"alice", "bob"}[i%2], Method: "GetRecord",
				Target: fmt.Sprintf(`{"id":"r%d"}`, i), Reason: "ticket 42", Result: "OK"}
			if i%5 == 0 {
				e.Result = "PERMISSION_DENIED"
			}
			if _, err := l.AppendAccess(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		var all []ledger.AccessEntry
		tok := ""
		pages := 0
		for {
			p, err := l.ListAccess(ctx, ledger.AccessFilter{}, ledger.Page{Size: 10, Token: tok})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			all = append(all, p.Entries...)
			if tok = p.NextToken; tok == "" {
				break
			}
		}
		if len(all) != 25 || pages != 3 || all[0].Target != `{"id":"r24"}` || all[24].Seq != 1 {
			t.Fatalf("list: %d entries in %d pages, first %+v", len(all), pages, all[0])
		}
		p, err := l.ListAccess(ctx, ledger.AccessFilter{Identity: "bob"}, ledger.Page{Size: 100})
		if err != nil || len(p.Entries) != 12 {
			t.Fatalf("by identity: %d %v", len(p.Entries), err)
		}
		rep := mustVerify(t, l)
		if rep.Access != 25 {
			t.Fatalf("report: %+v", rep)
		}
		exec(t, l, `UPDATE access_log SET result = 'TAMPERED' WHERE id = $1`, all[10].ID)
		rep, _ = l.Verify(ctx)
		if rep.OK || rep.Problems[0].Kind != ledger.Altered || rep.Problems[0].Ref != all[10].ID {
			t.Fatalf("altered access entry not detected: %+v", rep.Problems)
		}
	})
}

func TestMetadataIsRepairedNotRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		l := h.ledger(t)
		r := rec("org-1", "s", "ev-\xff\x00-1")
		r.EventName = "bad\x00name"
		r.Reasons = []string{"r\xfe"}
		res := mustAppend(t, l, r)
		got, err := l.Get(ctx, res[0].ID)
		if err != nil || !bytes.Equal(got.Payload, r.Payload) || got.EventID != "ev-\uFFFD\uFFFD-1" {
			t.Fatalf("get: %+v %v", got, err)
		}
		again := mustAppend(t, l, r)
		if !again[0].Duplicate {
			t.Fatal("repaired event id does not de-duplicate")
		}
		mustVerify(t, l)
	})
}
