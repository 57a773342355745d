package subject

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
)

const (
	// KeyPrefix starts every key; it names the derivation scheme so that keys made with a
	// later scheme (or salt generation) can be told apart and rotated.
	KeyPrefix = "sk1_"
	// MinSaltLen is the shortest salt NewKeyer accepts, in bytes.
	MinSaltLen = 16

	keyHexLen = 32 // 128 bits of the HMAC, hex-encoded
	keyLen    = len(KeyPrefix) + keyHexLen
	// maxPooledBuf caps the scratch buffer a pooled state keeps between calls.
	maxPooledBuf = 1024
)

// Keyer derives keys: HMAC-SHA256(salt, string(type) + ":" + normalised), hex-encoded, truncated to 32 hex chars (128 bits), prefixed "sk1_" (version tag for later rotation).
// Keys are stable across processes for the same salt. The salt must be at least 16 bytes; NewKeyer errors otherwise.
// Keyer must be safe for concurrent use and cheap (pool the HMAC state: sync.Pool of hash.Hash created by hmac.New, Reset() between uses).
//
// A key is a pseudonym, not an anonymisation: anyone holding the salt can recompute the key of a
// guessed identifier, and phone numbers are easy to enumerate. Keep the salt secret.
//
// The zero Keyer is not usable; create one with NewKeyer.
type Keyer struct {
	pool sync.Pool // of *keyState
}

type keyState struct {
	mac hash.Hash
	buf []byte // type + ":" + normalised
	sum [sha256.Size]byte
}

// NewKeyer returns a Keyer for salt. It keeps its own copy of salt, so the caller may reuse or
// wipe the slice afterwards.
//
// Use a random salt (32 bytes from crypto/rand is a good choice). HMAC pads keys shorter than the
// SHA-256 block (64 bytes) with zero bytes, so salts that differ only in trailing zero bytes
// produce the same keys.
func NewKeyer(salt []byte) (*Keyer, error) {
	if len(salt) < MinSaltLen {
		return nil, ErrShortSalt
	}
	s := append([]byte(nil), salt...)
	k := &Keyer{}
	k.pool.New = func() any {
		return &keyState{mac: hmac.New(sha256.New, s), buf: make([]byte, 0, 64)}
	}
	return k, nil
}

// Key returns the key of an identifier already in canonical form (as returned by Normalize or
// Detect). It does not normalise: keys of non-canonical input will not match. It allocates only
// the returned string.
func (k *Keyer) Key(t IDType, normalised string) string {
	if k == nil || k.pool.New == nil {
		panic("subject: Keyer used without NewKeyer")
	}
	st := k.pool.Get().(*keyState)
	st.buf = append(st.buf[:0], t...)
	st.buf = append(st.buf, ':')
	st.buf = append(st.buf, normalised...)
	st.mac.Reset()
	st.mac.Write(st.buf)
	sum := st.mac.Sum(st.sum[:0])

	var out [keyLen]byte
	copy(out[:], KeyPrefix)
	hex.Encode(out[len(KeyPrefix):], sum[:keyHexLen/2])

	clear(st.buf) // do not keep the identifier around in pooled memory
	if cap(st.buf) > maxPooledBuf {
		st.buf = nil
	}
	k.pool.Put(st)
	return string(out[:])
}

// KeyRaw = Normalize + Key.
func (k *Keyer) KeyRaw(t IDType, raw string) (key string, normalised string, err error) {
	normalised, err = Normalize(t, raw)
	if err != nil {
		return "", "", err
	}
	return k.Key(t, normalised), normalised, nil
}
