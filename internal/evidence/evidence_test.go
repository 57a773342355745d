package evidence

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/sqlite"
)

func bundle(t *testing.T) ([]byte, ed25519.PublicKey) {
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
	t.Cleanup(func() { l.Close(ctx) })
	var recs []ledger.Record
	for i := range 6 {
		recs = append(recs, ledger.Record{Tenant: "t", Vendor: "twilio", EventID: fmt.Sprint(i), SubjectKey: fmt.Sprint("s", i%2),
			Reasons: []string{"no_consent"}, OccurredAt: time.Unix(1700000000, 123456789), Payload: []byte("payload " + fmt.Sprint(i))})
	}
	if _, err := l.Append(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AppendAccess(ctx, ledger.AccessEntry{Identity: "x", Method: "m"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.EraseSubject(ctx, "t", "s1", "request"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	m, err := Export(ctx, l, ledger.Filter{Tenant: "t"}, true, Header{CreatedAt: time.Now(), CreatedBy: "me", Reason: "test"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if m.Records != 6 || m.SHA256 == "" {
		t.Fatalf("manifest %+v", m)
	}
	return buf.Bytes(), l.PublicKey()
}

func TestExportVerifies(t *testing.T) {
	b, pub := bundle(t)
	rep, err := Verify(bytes.NewReader(b), Options{PublicKeys: []ed25519.PublicKey{pub}})
	if err != nil || !rep.OK {
		t.Fatalf("%v %+v", err, rep)
	}
	if rep.Records != 6 || rep.Anchored != 6 || rep.Unreadable["erased"] != 3 || rep.WithPayload != 3 || rep.Checkpoints != 1 {
		t.Fatalf("report %+v", rep)
	}
}

// mutate rewrites the first line of type typ with fn.
func mutate(t *testing.T, b []byte, typ string, fn func(map[string]any)) []byte {
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	for i, l := range lines {
		var m map[string]any
		json.Unmarshal(l, &m)
		if m["type"] == typ {
			fn(m)
			lines[i], _ = json.Marshal(m)
			break
		}
	}
	return append(bytes.Join(lines, []byte("\n")), '\n')
}

// reseal recomputes the manifest, as a forger would.
func reseal(t *testing.T, b []byte) []byte {
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.headerOK = true
	for _, l := range lines[:len(lines)-1] {
		var m map[string]any
		json.Unmarshal(l, &m)
		w.h.Write(append(l, '\n'))
		w.m.Lines++
		buf.Write(append(l, '\n'))
		switch m["type"] {
		case TypeRecord:
			w.m.Records++
		case TypeChain:
			w.m.ChainEntries++
		case TypeCheckpoint:
			w.m.Checkpoints++
		}
	}
	w.Close()
	return buf.Bytes()
}

func TestTamperDetected(t *testing.T) {
	b, _ := bundle(t)
	other, _, _ := ed25519.GenerateKey(rand.Reader) // a public key
	for _, c := range []struct {
		name string
		b    []byte
		opts Options
		want string
	}{
		{"ciphertext byte", reseal(t, mutate(t, b, TypeRecord, func(m map[string]any) {
			ct := m["ciphertext"].(string)
			m["ciphertext"] = "A" + ct[1:]
			if ct[0] == 'A' {
				m["ciphertext"] = "B" + ct[1:]
			}
		})), Options{}, "ciphertext does not match"},
		{"metadata", reseal(t, mutate(t, b, TypeRecord, func(m map[string]any) { m["meta"].(map[string]any)["tenant"] = "other" })), Options{}, "metadata does not match"},
		{"reasons", reseal(t, mutate(t, b, TypeRecord, func(m map[string]any) { m["meta"].(map[string]any)["reasons"] = []string{} })), Options{}, "metadata does not match"},
		{"chain entry", reseal(t, mutate(t, b, TypeChain, func(m map[string]any) { m["kind"] = "access" })), Options{}, "does not match chain entry"},
		{"manifest", mutate(t, b, TypeRecord, func(m map[string]any) { m["unreadable"] = "x" }), Options{}, "SHA-256 of the bundle"},
		{"truncated", b[:bytes.LastIndex(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))+1], Options{}, "no manifest"},
		{"checkpoint head", reseal(t, mutate(t, b, TypeCheckpoint, func(m map[string]any) { m["seq"] = m["seq"].(float64) - 1 })), Options{}, "checkpoint"},
		{"other key", b, Options{PublicKeys: []ed25519.PublicKey{other}}, "not trusted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Verify(bytes.NewReader(c.b), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || !strings.Contains(strings.Join(rep.Problems, "\n"), c.want) {
				t.Fatalf("want a problem with %q, got OK=%v %q", c.want, rep.OK, rep.Problems)
			}
		})
	}
	if _, err := Verify(strings.NewReader(`{"type":"record"}`+"\n"), Options{}); err == nil {
		t.Fatal("a bundle without header accepted")
	}
}
