package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consentry/consentry/internal/evidence"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/sqlite"
)

func writeBundle(t *testing.T, dir string) (string, string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "l.db"), Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	kek := make([]byte, 32)
	rand.Read(kek)
	l, err := ledger.Open(ctx, st, ledger.Options{KEKs: []ledger.KEK{{Key: kek}}, BatchLinger: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)
	if _, err := l.Append(ctx, []ledger.Record{{Tenant: "t", Vendor: "segment", EventID: "e1", SubjectKey: "s", Payload: []byte("p")}}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := evidence.Export(ctx, l, ledger.Filter{}, false, evidence.Header{CreatedAt: time.Now(), CreatedBy: "inv", Reason: "r"}, &buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "bundle.ndjson")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, hex.EncodeToString(l.PublicKey())
}

func TestBundleVerify(t *testing.T) {
	dir := t.TempDir()
	path, pub := writeBundle(t, dir)
	var out, errb bytes.Buffer
	if code := runBundle([]string{"verify", "--public-key", pub, path}, &out, &errb); code != exitOK {
		t.Fatalf("verify: %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "VERIFIED") || !strings.Contains(out.String(), "1 records (1 anchored") {
		t.Fatalf("output: %s", out.String())
	}
	out.Reset()
	if code := runBundle([]string{"verify", dir}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "key not pinned") {
		t.Fatalf("directory: %d %s", code, out.String())
	}
	b, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.Replace(b, []byte(`"segment"`), []byte(`"genesys"`), 1), 0o600)
	out.Reset()
	if code := runBundle([]string{"verify", path}, &out, &errb); code != exitInvalid || !strings.Contains(out.String(), "NOT VERIFIED") {
		t.Fatalf("altered bundle: %d %s", code, out.String())
	}
	if code := runBundle([]string{"verify", "--public-key", "zz", path}, &out, &errb); code != exitUsage {
		t.Fatalf("bad key: %d", code)
	}
}

func TestTokenHash(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runToken([]string{"hash"}, strings.NewReader("s3cret\n"), &out, &errb); code != exitOK {
		t.Fatal(code, errb.String())
	}
	// printf %s s3cret | sha256sum
	if got := strings.TrimSpace(out.String()); got != "1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0" {
		t.Fatalf("hash %q", got)
	}
}
