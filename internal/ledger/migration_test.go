package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/sqlite"
)

// testdata/ledger-v1.db is a small SQLite ledger written by the code of
// schema version 1 (before the append-ordered write path), with the key
// below and a clock starting at fixtureStart. TestMigrateFixture opens it
// with the current code: an upgrade must keep every record readable,
// verifiable, erasable and de-duplicated.
//
// Regenerate only with the code that wrote it (it was made at commit
// "ledger: a fixture ledger written by schema version 1"):
//
//	CONSENTRY_LEDGER_WRITE_FIXTURE=1 go test -run TestWriteFixture ./internal/ledger/
const fixturePath = "testdata/ledger-v1.db"

var (
	fixtureKEK   = []byte("consentry-ledger-fixture-kek-v1!") // 32 bytes
	fixtureStart = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
)

// fixtureClock advances 1 ms per call from fixtureStart + offset.
func fixtureClock(offset time.Duration) func() time.Time {
	var n atomic.Int64
	return func() time.Time { return fixtureStart.Add(offset + time.Duration(n.Add(1))*time.Millisecond) }
}

func fixtureRecord(i int) ledger.Record {
	return ledger.Record{
		Tenant: fmt.Sprintf("org-%d", i%2), Vendor: []string{"genesys", "twilio", "segment"}[i%3],
		EventID: fmt.Sprintf("evt-%03d", i), EventName: "ccaas.interaction.ended",
		SubjectKey: fmt.Sprintf("subj-%d", i%4), InteractionID: fmt.Sprintf("conv-%d", i/2),
		Reasons: []string{"no_consent"}, ConsentStatus: "unknown",
		OccurredAt: fixtureStart.Add(-time.Duration(i) * time.Minute),
		Payload:    []byte(fmt.Sprintf("fixture payload %03d", i)),
	}
}

const fixtureRecords = 24

func TestWriteFixture(t *testing.T) {
	if os.Getenv("CONSENTRY_LEDGER_WRITE_FIXTURE") == "" {
		t.Skip("set CONSENTRY_LEDGER_WRITE_FIXTURE=1 to regenerate " + fixturePath)
	}
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "ledger.db")})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(ctx, st, ledger.Options{KEKs: []ledger.KEK{{ID: "fixture", Key: fixtureKEK}},
		WriterID: "fixture-v1", Now: fixtureClock(0)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range fixtureRecords {
		mustAppend(t, l, fixtureRecord(i))
	}
	// A retry: stored once.
	if res := mustAppend(t, l, fixtureRecord(5)); !res[0].Duplicate {
		t.Fatal("not a duplicate")
	}
	if _, _, err := l.PutConsent(ctx, ledger.Consent{Tenant: "org-1", SubjectKey: "subj-1", Status: ledger.ConsentGranted,
		Purposes: []string{"ai"}, Source: "fixture", At: fixtureStart}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AppendAccess(ctx, ledger.AccessEntry{Identity: "auditor", Method: "List", Target: "records", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	p, err := l.List(ctx, ledger.Filter{Tenant: "org-0", SubjectKey: "subj-2"}, ledger.Page{Size: 100})
	if err != nil || len(p.Records) == 0 {
		t.Fatal(err, p)
	}
	if _, err := l.MarkReleased(ctx, []string{p.Records[0].ID}, "fixture", "released in the fixture"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.EraseSubject(ctx, "org-1", "subj-3", "erased in the fixture"); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, fixtureRecord(fixtureRecords)) // after the last checkpoint: unanchored
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// A clean single file (no WAL beside it).
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "ledger.db")})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(fixturePath)
	if _, err := db.WriteDB().ExecContext(ctx, `VACUUM INTO '`+fixturePath+`'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
}

func TestMigrateFixture(t *testing.T) {
	ctx := context.Background()
	src, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ledger.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	open := func() *ledger.Ledger {
		st, err := sqlite.Open(ctx, sqlite.Config{Path: path, Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		l, err := ledger.Open(ctx, st, ledger.Options{KEKs: []ledger.KEK{{ID: "fixture", Key: fixtureKEK}},
			WriterID: "fixture-v1", Now: fixtureClock(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := open()
	rep := mustVerify(t, l)
	if rep.Entries < fixtureRecords+4 {
		t.Fatalf("verified %d entries", rep.Entries)
	}
	all, err := l.List(ctx, ledger.Filter{}, ledger.Page{Size: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Records) != fixtureRecords+1 {
		t.Fatalf("%d records listed, want %d", len(all.Records), fixtureRecords+1)
	}
	byEvent := map[string]string{}
	for _, m := range all.Records {
		byEvent[m.EventID] = m.ID
		r, err := l.Get(ctx, m.ID)
		if m.Tenant == "org-1" && m.SubjectKey == "subj-3" {
			if !errors.Is(err, ledger.ErrErased) {
				t.Fatalf("erased subject's record %s: %v", m.ID, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("get %s: %v", m.ID, err)
		}
		var i int
		fmt.Sscanf(m.EventID, "evt-%03d", &i)
		if want := fmt.Sprintf("fixture payload %03d", i); string(r.Payload) != want {
			t.Fatalf("payload of %s: %q, want %q", m.EventID, r.Payload, want)
		}
	}
	// A subject's records, by tenant and subject.
	p, err := l.List(ctx, ledger.Filter{Tenant: "org-0", SubjectKey: "subj-2"}, ledger.Page{Size: 100})
	if err != nil || len(p.Records) != 6 {
		t.Fatalf("subject list: %v, %d records", err, len(p.Records))
	}
	// Retries of events stored by the old version (within the window) are
	// duplicates of the stored record.
	for _, i := range []int{0, 7, fixtureRecords} {
		res := mustAppend(t, l, fixtureRecord(i))
		if !res[0].Duplicate || res[0].ID != byEvent[fmt.Sprintf("evt-%03d", i)] {
			t.Fatalf("retry of evt-%03d: %+v, stored as %s", i, res[0], byEvent[fmt.Sprintf("evt-%03d", i)])
		}
	}
	// New records, an erasure of a subject written by the old version.
	mustAppend(t, l, fixtureRecord(100))
	if res, err := l.EraseSubject(ctx, "org-0", "subj-2", "erased after the upgrade"); err != nil || res.Records != 6 {
		t.Fatalf("erase: %+v %v", res, err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	l = open()
	defer l.Close(ctx)
	mustVerify(t, l)
	res := mustAppend(t, l, fixtureRecord(100))
	if !res[0].Duplicate {
		t.Fatal("retry after restart stored twice")
	}
}
