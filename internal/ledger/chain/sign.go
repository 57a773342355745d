package chain

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Checkpoint is a signed statement that a writer's chain had head Head at
// sequence number Seq at time At. PrevSeq is the Seq of the writer's
// previous checkpoint (0 for its first), so that a deleted checkpoint in the
// middle of a writer's history is detected.
type Checkpoint struct {
	WriterID  string
	Seq       uint64
	Head      Hash
	At        time.Time
	PrevSeq   uint64
	KeyID     string
	Signature []byte
}

// Message returns the bytes that are signed.
func (c *Checkpoint) Message() []byte {
	e := NewEncoder("consentry.ledger.checkpoint.v1")
	e.String(c.WriterID)
	e.Uint64(c.Seq)
	e.Hash(c.Head)
	e.Int64(c.At.UnixNano())
	e.Uint64(c.PrevSeq)
	return e.Encoded()
}

// Sign signs the checkpoint with priv and sets KeyID and Signature.
func (c *Checkpoint) Sign(priv ed25519.PrivateKey) {
	pub := priv.Public().(ed25519.PublicKey)
	c.KeyID = KeyID(pub)
	c.Signature = ed25519.Sign(priv, c.Message())
}

// Verify reports whether the checkpoint's signature is valid under pub.
func (c *Checkpoint) Verify(pub ed25519.PublicKey) bool {
	return len(pub) == ed25519.PublicKeySize && len(c.Signature) == ed25519.SignatureSize &&
		ed25519.Verify(pub, c.Message(), c.Signature)
}

// EntryMessage is what a signed chain entry (a tombstone: erasure, purge,
// release) signs: the entry's place in its writer's chain and its digest.
func EntryMessage(writerID string, seq uint64, kind string, digest Hash) []byte {
	e := NewEncoder("consentry.ledger.entry.v1")
	e.String(writerID)
	e.Uint64(seq)
	e.String(kind)
	e.Hash(digest)
	return e.Encoded()
}

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}
