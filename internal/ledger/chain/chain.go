// Package chain holds the tamper-evidence primitives of the consent ledger:
// the canonical encoding that record digests are computed over, the hash
// chain link, and ed25519-signed checkpoints and entries. It has no storage
// and no knowledge of the ledger's tables, so that an offline verifier of an
// evidence bundle can use exactly the code the ledger uses.
//
// A chain belongs to one writer (one collector replica). Entry n of a chain
// has a digest D(n) (computed from the entry's content), the link of the
// previous entry as Prev(n) (Genesis(writer) for the first entry) and its
// own link L(n) = SHA-256(Prev(n) || D(n)). A checkpoint signs
// (writer, seq, L(seq), time, previous checkpoint seq) with ed25519.
package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
)

// Size is the size of a Hash.
const Size = sha256.Size

// Hash is a SHA-256 value: a digest or a link.
type Hash [Size]byte

// String returns the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeroes.
func (h Hash) IsZero() bool { return h == Hash{} }

// FromBytes converts a 32-byte slice into a Hash.
func FromBytes(b []byte) (Hash, error) {
	var h Hash
	if len(b) != Size {
		return h, errors.New("chain: hash must be 32 bytes")
	}
	copy(h[:], b)
	return h, nil
}

// ParseHex parses a hash written in hex.
func ParseHex(s string) (Hash, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return Hash{}, err
	}
	return FromBytes(b)
}

// Genesis is the Prev of a writer's first entry: it binds the chain to the
// writer id, so that one writer's entries cannot be passed off as another's.
func Genesis(writerID string) Hash {
	e := NewEncoder("consentry.ledger.genesis.v1")
	e.String(writerID)
	return e.Sum()
}

// Link returns SHA-256(prev || digest).
func Link(prev, digest Hash) Hash {
	var buf [2 * Size]byte
	copy(buf[:Size], prev[:])
	copy(buf[Size:], digest[:])
	return sha256.Sum256(buf[:])
}

// PayloadHash is the hash of a stored payload: SHA-256(nonce || ciphertext).
// A record digest covers the payload through this hash, so that a record
// whose payload was purged by retention still verifies.
func PayloadHash(nonce, ciphertext []byte) Hash {
	h := sha256.New()
	h.Write(nonce)
	h.Write(ciphertext)
	var out Hash
	h.Sum(out[:0])
	return out
}

// Encoder builds the canonical, unambiguous byte encoding that digests are
// computed over: a domain tag, then fields in a fixed order, each string or
// byte slice prefixed by its length (uvarint), integers as 8 bytes
// big-endian, lists prefixed by their length.
type Encoder struct{ b []byte }

// NewEncoder starts an encoding with a domain-separation tag.
func NewEncoder(domain string) *Encoder {
	e := &Encoder{b: make([]byte, 0, 256)}
	e.String(domain)
	return e
}

// String appends a length-prefixed string.
func (e *Encoder) String(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

// Bytes appends a length-prefixed byte slice.
func (e *Encoder) Bytes(b []byte) {
	e.b = binary.AppendUvarint(e.b, uint64(len(b)))
	e.b = append(e.b, b...)
}

// Int64 appends v as 8 bytes big-endian.
func (e *Encoder) Int64(v int64) { e.b = binary.BigEndian.AppendUint64(e.b, uint64(v)) }

// Uint64 appends v as 8 bytes big-endian.
func (e *Encoder) Uint64(v uint64) { e.b = binary.BigEndian.AppendUint64(e.b, v) }

// Strings appends a count-prefixed list of strings.
func (e *Encoder) Strings(ss []string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(ss)))
	for _, s := range ss {
		e.String(s)
	}
}

// Hash appends a hash (fixed size, no prefix).
func (e *Encoder) Hash(h Hash) { e.b = append(e.b, h[:]...) }

// Encoded returns the encoding so far.
func (e *Encoder) Encoded() []byte { return e.b }

// Sum returns SHA-256 of the encoding.
func (e *Encoder) Sum() Hash { return sha256.Sum256(e.b) }
