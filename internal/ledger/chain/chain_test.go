package chain

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
	"time"
)

func TestLinkAndEncoding(t *testing.T) {
	var prev, d Hash
	prev[0], d[0] = 1, 2
	want := sha256.Sum256(append(prev[:], d[:]...))
	if Link(prev, d) != want {
		t.Fatal("link is not SHA-256(prev || digest)")
	}
	if Genesis("a") == Genesis("b") {
		t.Fatal("genesis does not depend on the writer")
	}
	// Length prefixes keep field boundaries unambiguous.
	e1, e2 := NewEncoder("x"), NewEncoder("x")
	e1.String("ab")
	e1.String("c")
	e2.String("a")
	e2.String("bc")
	if e1.Sum() == e2.Sum() {
		t.Fatal("ambiguous encoding")
	}
	e3, e4 := NewEncoder("x"), NewEncoder("x")
	e3.Strings([]string{"a", "b"})
	e4.Strings([]string{"a"})
	e4.String("b")
	if e3.Sum() == e4.Sum() {
		t.Fatal("ambiguous list encoding")
	}
	if PayloadHash([]byte("n"), []byte("c")) != sha256.Sum256([]byte("nc")) {
		t.Fatal("payload hash")
	}
	h, err := ParseHex(Hash(want).String())
	if err != nil || h != want {
		t.Fatal("hex round trip", err)
	}
	if _, err := ParseHex("abcd"); err == nil {
		t.Fatal("short hash accepted")
	}
}

func TestCheckpoint(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	cp := Checkpoint{WriterID: "w", Seq: 10, Head: Hash{9}, At: time.Unix(0, 123), PrevSeq: 5}
	cp.Sign(priv)
	pub := priv.Public().(ed25519.PublicKey)
	if cp.KeyID != KeyID(pub) || !cp.Verify(pub) {
		t.Fatal("checkpoint does not verify")
	}
	for _, mod := range []func(c *Checkpoint){
		func(c *Checkpoint) { c.Seq++ },
		func(c *Checkpoint) { c.Head[3] ^= 1 },
		func(c *Checkpoint) { c.WriterID = "v" },
		func(c *Checkpoint) { c.At = c.At.Add(1) },
		func(c *Checkpoint) { c.PrevSeq = 4 },
		func(c *Checkpoint) { c.Signature = bytes.Clone(c.Signature); c.Signature[0] ^= 1 },
	} {
		c := cp
		mod(&c)
		if c.Verify(pub) {
			t.Fatal("altered checkpoint verifies")
		}
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if cp.Verify(other) || cp.Verify(nil) {
		t.Fatal("verifies under another key")
	}
	if bytes.Equal(EntryMessage("w", 1, "erase", Hash{}), EntryMessage("w", 1, "purge", Hash{})) {
		t.Fatal("entry message ignores the kind")
	}
}
