package keys

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestParseKey(t *testing.T) {
	k := bytes.Repeat([]byte{0xab, 0x01}, 16)
	for _, s := range []string{
		hex.EncodeToString(k),
		"  " + hex.EncodeToString(k) + "\n",
		base64.StdEncoding.EncodeToString(k),
		base64.RawStdEncoding.EncodeToString(k),
		base64.URLEncoding.EncodeToString(k),
		base64.RawURLEncoding.EncodeToString(k) + "\r\n",
	} {
		got, err := ParseKey(s)
		if err != nil || !bytes.Equal(got, k) {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "   ", "abcd", hex.EncodeToString(k[:31]), base64.StdEncoding.EncodeToString(append(k, 1)), "not a key at all, not a key at all, not a key at all, not a key!"} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
}

func FuzzParseKey(f *testing.F) {
	f.Add("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	f.Add("ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8=")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err == nil && len(k) != Size {
			t.Fatalf("ParseKey(%q) returned %d bytes", s, len(k))
		}
	})
}

func TestKeyring(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1, 9}, 16), bytes.Repeat([]byte{2, 9}, 16)
	if _, err := NewKeyring(nil, ""); err == nil {
		t.Fatal("empty keyring accepted")
	}
	if _, err := NewKeyring([]KEK{{Key: k1[:16]}}, ""); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := NewKeyring([]KEK{{ID: "a", Key: k1}, {ID: "a", Key: k2}}, ""); err == nil {
		t.Fatal("duplicate id accepted")
	}
	if _, err := NewKeyring([]KEK{{ID: "a", Key: k1}}, "b"); err == nil {
		t.Fatal("unknown active id accepted")
	}
	old, err := NewKeyring([]KEK{{Key: k1}}, "")
	if err != nil || old.ActiveID() != KeyID(k1) {
		t.Fatal(err, old.ActiveID())
	}
	dk, _ := NewDataKey()
	aad := []byte("tenant/subject/dk")
	id, w, err := old.Wrap(dk, aad)
	if err != nil || id != KeyID(k1) || bytes.Contains(w, dk) {
		t.Fatal(err)
	}
	both, _ := NewKeyring([]KEK{{ID: "new", Key: k2}, {Key: k1}}, "new")
	got, err := both.Unwrap(id, w, aad)
	if err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("unwrap with the old KEK: %v", err)
	}
	if _, err := both.Unwrap(id, w, []byte("other/subject")); err == nil {
		t.Fatal("unwrapped with another owner's aad")
	}
	w2 := append([]byte(nil), w...)
	w2[len(w2)-1] ^= 1
	if _, err := both.Unwrap(id, w2, aad); err == nil {
		t.Fatal("altered wrapped key accepted")
	}
	onlyNew, _ := NewKeyring([]KEK{{ID: "new", Key: k2}}, "")
	if _, err := onlyNew.Unwrap(id, w, aad); !errors.Is(err, ErrUnknownKEK) {
		t.Fatalf("unknown KEK: %v", err)
	}
	if _, err := onlyNew.Unwrap("new", w[:10], aad); err == nil {
		t.Fatal("truncated key accepted")
	}
}

func TestSigningKeys(t *testing.T) {
	k := bytes.Repeat([]byte{7}, 32)
	a, b := DeriveSigningKey(k), DeriveSigningKey(k)
	if !a.Equal(b) || a.Equal(DeriveSigningKey(bytes.Repeat([]byte{8}, 32))) {
		t.Fatal("derivation is not deterministic per KEK")
	}
	seed := a.Seed()
	for _, in := range [][]byte{seed, a, []byte(hex.EncodeToString(seed)), []byte(base64.StdEncoding.EncodeToString(a) + "\n")} {
		got, err := ParseSigningKey(in)
		if err != nil || !got.Equal(a) {
			t.Fatalf("ParseSigningKey(%q): %v", in, err)
		}
	}
	bad := append(ed25519.PrivateKey(nil), a...)
	bad[40] ^= 1
	if _, err := ParseSigningKey(bad); err == nil {
		t.Fatal("inconsistent private key accepted")
	}
	if _, err := ParseSigningKey([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func FuzzParseSigningKey(f *testing.F) {
	f.Add([]byte("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"))
	f.Add(bytes.Repeat([]byte{1}, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseSigningKey(b)
		if err == nil && len(k) != ed25519.PrivateKeySize {
			t.Fatalf("bad key length %d", len(k))
		}
	})
}

// TestAllZeroLedgerKeyRefused: an all-zero key-encryption key (or any one
// byte repeated) is no secret: refused when parsed and when configured.
func TestAllZeroLedgerKeyRefused(t *testing.T) {
	for _, s := range []string{strings.Repeat("0", 64), strings.Repeat("ab", 32), base64.StdEncoding.EncodeToString(make([]byte, Size))} {
		if _, err := ParseKey(s); !errors.Is(err, ErrNotRandom) {
			t.Errorf("ParseKey(%q): %v, want ErrNotRandom", s, err)
		}
	}
	if _, err := NewKeyring([]KEK{{ID: "k", Key: make([]byte, Size)}}, ""); !errors.Is(err, ErrNotRandom) {
		t.Errorf("NewKeyring with a zero key: %v", err)
	}
}
