package ledger_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/sqlite"
)

var secrets = [][]byte{
	[]byte("+14155550123"),
	[]byte("4155550123"),
	[]byte("jane.doe@example.com"),
	[]byte("my partner hurts me and I need help tonight"),
}

func piiRecord(i int) ledger.Record {
	body := fmt.Sprintf(`{"eventType":"message.received","from":"+14155550123","email":"jane.doe@example.com",`+
		`"text":"my partner hurts me and I need help tonight","n":%d,"padding":"%0800d"}`, i, i)
	r := rec("org-1", "subj-pseudonymous-key", fmt.Sprintf("ev-%d", i))
	r.Payload = []byte(body)
	return r
}

// TestNoPlaintextAtRest stores records full of personal data and searches
// every byte the ledger wrote: the SQLite files (database, WAL) while open
// and after close, and on both backends every payload and wrapped key.
func TestNoPlaintextAtRest(t *testing.T) {
	t.Run("sqlite files", func(t *testing.T) {
		dir := t.TempDir()
		ctx := context.Background()
		st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "ledger.db")})
		if err != nil {
			t.Fatal(err)
		}
		l, err := ledger.Open(ctx, st, ledger.Options{KEKs: []ledger.KEK{{Key: newKey()}}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			mustAppend(t, l, piiRecord(i))
		}
		res := mustAppend(t, l, piiRecord(99))
		got, err := l.Get(ctx, res[0].ID)
		if err != nil || !bytes.Contains(got.Payload, secrets[0]) {
			t.Fatal("sanity: payload not readable", err)
		}
		scanDir(t, dir) // database and WAL, while open
		l.Close(ctx)
		scanDir(t, dir)
	})
	forEachBackend(t, func(t *testing.T, h *harness) {
		l := h.ledger(t)
		for i := range 20 {
			mustAppend(t, l, piiRecord(i))
		}
		db := l.Store().WriteDB()
		for _, q := range []string{`SELECT nonce, ciphertext FROM payloads`, `SELECT wrapped, wrapped FROM data_keys`} {
			rows, err := db.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				var a, b []byte
				if err := rows.Scan(&a, &b); err != nil {
					t.Fatal(err)
				}
				for _, s := range secrets {
					if bytes.Contains(a, s) || bytes.Contains(b, s) {
						t.Fatalf("%q found in plaintext by %s", s, q)
					}
				}
				n++
			}
			rows.Close()
			if n == 0 {
				t.Fatalf("%s: no rows", q)
			}
		}
		scanTextColumns(t, db)
	})
}

func scanDir(t *testing.T, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	total := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		total += len(b)
		for _, s := range secrets {
			if bytes.Contains(b, s) {
				t.Fatalf("%q found in %s", s, filepath.Base(f))
			}
		}
	}
	if total < 50*800 {
		t.Fatalf("only %d bytes on disk: the search saw nothing", total)
	}
}

func scanTextColumns(t *testing.T, db *sql.DB) {
	t.Helper()
	rows, err := db.Query(`SELECT id, tenant, vendor, event_id, event_name, subject_key, interaction_id, reasons, consent_status FROM records`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var cols [9]string
		if err := rows.Scan(&cols[0], &cols[1], &cols[2], &cols[3], &cols[4], &cols[5], &cols[6], &cols[7], &cols[8]); err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			for _, s := range secrets {
				if bytes.Contains([]byte(c), s) {
					t.Fatalf("%q found in metadata", s)
				}
			}
		}
	}
}
