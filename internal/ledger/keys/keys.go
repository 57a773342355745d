// Package keys manages the consent ledger's key-encryption keys (KEKs): it
// parses them, wraps and unwraps per-subject data keys with AES-256-GCM,
// and derives the default checkpoint signing key from a KEK with HKDF.
//
// Several KEKs can be configured at once, each with an id. One is active
// and wraps new data keys; the others only unwrap data keys wrapped before
// a rotation, until RewrapDataKeys (package ledger) has rewrapped them all.
package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Size is the size of every key this package handles: KEKs and data keys
// are AES-256 keys.
const Size = 32

// ParseKey parses a 32-byte key written in hex (64 digits) or base64
// (standard or URL alphabet, padded or not). Surrounding white space, as
// left by a key file's trailing newline, is ignored.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("key is empty")
	}
	if len(s) == 2*Size {
		if b, err := hex.DecodeString(s); err == nil {
			return b, checkRandom(b)
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != Size {
			return nil, fmt.Errorf("key decodes to %d bytes, want %d", len(b), Size)
		}
		return b, checkRandom(b)
	}
	return nil, fmt.Errorf("key is neither 64 hex digits nor base64 of %d bytes", Size)
}

// ErrNotRandom refuses a key that is one byte repeated: all zeros (an
// unset buffer, a placeholder copied from an example) is no secret at all.
var ErrNotRandom = errors.New("key is one byte repeated (all zeros?), not a random key: generate one with openssl rand -hex 32")

func checkRandom(b []byte) error {
	for _, c := range b[1:] {
		if c != b[0] {
			return nil
		}
	}
	return ErrNotRandom
}

// KEK is a key-encryption key and its id. The id is stored next to every
// data key the KEK wraps; when empty, KeyID(Key) is used.
type KEK struct {
	ID  string
	Key []byte
}

// KeyID is the default id of a KEK: "kek-" and the first 4 bytes of a hash
// of the key, in hex.
func KeyID(key []byte) string {
	s := sha256.Sum256(append([]byte("consentry.ledger.kek-id.v1\x00"), key...))
	return "kek-" + hex.EncodeToString(s[:4])
}

// Keyring holds the configured KEKs.
type Keyring struct {
	active string
	order  []string
	aeads  map[string]cipher.AEAD
	raw    map[string][]byte
}

// NewKeyring builds a keyring. active names the KEK that wraps new data
// keys; empty means the first one.
func NewKeyring(keks []KEK, active string) (*Keyring, error) {
	if len(keks) == 0 {
		return nil, errors.New("no key-encryption key configured")
	}
	k := &Keyring{aeads: map[string]cipher.AEAD{}, raw: map[string][]byte{}}
	for i, kek := range keks {
		if len(kek.Key) != Size {
			return nil, fmt.Errorf("key-encryption key %d is %d bytes, want %d", i, len(kek.Key), Size)
		}
		if err := checkRandom(kek.Key); err != nil {
			return nil, fmt.Errorf("key-encryption key %d: %w", i, err)
		}
		id := kek.ID
		if id == "" {
			id = KeyID(kek.Key)
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("key-encryption key id %q configured twice", id)
		}
		a, err := newGCM(kek.Key)
		if err != nil {
			return nil, err
		}
		k.aeads[id] = a
		k.raw[id] = append([]byte(nil), kek.Key...)
		k.order = append(k.order, id)
	}
	if active == "" {
		active = k.order[0]
	}
	if _, ok := k.aeads[active]; !ok {
		return nil, fmt.Errorf("active key-encryption key %q is not configured", active)
	}
	k.active = active
	return k, nil
}

// ActiveID returns the id of the KEK that wraps new data keys.
func (k *Keyring) ActiveID() string { return k.active }

// IDs returns the configured KEK ids, in configuration order.
func (k *Keyring) IDs() []string { return append([]string(nil), k.order...) }

// Has reports whether a KEK with this id is configured.
func (k *Keyring) Has(id string) bool { _, ok := k.aeads[id]; return ok }

// Wrap encrypts a data key under the active KEK. aad binds the wrapped key
// to its owner (tenant, subject, data key id); the same aad must be given to
// Unwrap.
func (k *Keyring) Wrap(dataKey, aad []byte) (kekID string, wrapped []byte, err error) {
	a := k.aeads[k.active]
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(dataKey)+a.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, err
	}
	return k.active, a.Seal(nonce, nonce, dataKey, aad), nil
}

// ErrUnknownKEK is returned by Unwrap for a data key wrapped by a KEK that
// is not configured.
var ErrUnknownKEK = errors.New("data key is wrapped by a key-encryption key that is not configured")

// Unwrap decrypts a data key wrapped by the KEK kekID.
func (k *Keyring) Unwrap(kekID string, wrapped, aad []byte) ([]byte, error) {
	a, ok := k.aeads[kekID]
	if !ok {
		return nil, fmt.Errorf("%w (%q)", ErrUnknownKEK, kekID)
	}
	if len(wrapped) < a.NonceSize()+a.Overhead() {
		return nil, errors.New("wrapped data key is truncated")
	}
	n := a.NonceSize()
	dk, err := a.Open(nil, wrapped[:n], wrapped[n:], aad)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key with %q: %w", kekID, err)
	}
	return dk, nil
}

// SigningKeys derives an ed25519 signing key from each configured KEK (see
// DeriveSigningKey), keyed by KEK id.
func (k *Keyring) SigningKeys() map[string]ed25519.PrivateKey {
	out := make(map[string]ed25519.PrivateKey, len(k.raw))
	for id, raw := range k.raw {
		out[id] = DeriveSigningKey(raw)
	}
	return out
}

// DeriveSigningKey derives the ed25519 checkpoint signing key from a KEK with
// HKDF-SHA256 (info "consentry.ledger.checkpoint-signing.v1"). The result is
// deterministic, so every replica that shares the KEK signs with the same
// key and verifiers need only the public key.
func DeriveSigningKey(kek []byte) ed25519.PrivateKey {
	seed, err := hkdf.Key(sha256.New, kek, nil, "consentry.ledger.checkpoint-signing.v1", ed25519.SeedSize)
	if err != nil {
		panic(err) // only for lengths hkdf cannot produce
	}
	return ed25519.NewKeyFromSeed(seed)
}

// NewDataKey returns a fresh random data key.
func NewDataKey() ([]byte, error) {
	dk := make([]byte, Size)
	if _, err := rand.Read(dk); err != nil {
		return nil, err
	}
	return dk, nil
}

// NewAEAD returns AES-256-GCM for a data key.
func NewAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != Size {
		return nil, fmt.Errorf("data key is %d bytes, want %d", len(key), Size)
	}
	return newGCM(key)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// ParseSigningKey accepts an ed25519 seed (32 bytes) or private key (64
// bytes), written in hex or base64, or raw.
func ParseSigningKey(b []byte) (ed25519.PrivateKey, error) {
	s := strings.TrimSpace(string(b))
	for _, dec := range []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString, base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString} {
		if d, err := dec(s); err == nil && (len(d) == ed25519.SeedSize || len(d) == ed25519.PrivateKeySize) {
			return rawSigningKey(d)
		}
	}
	return rawSigningKey(b)
}

func rawSigningKey(b []byte) (ed25519.PrivateKey, error) {
	switch len(b) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	case ed25519.PrivateKeySize:
		priv := ed25519.PrivateKey(append([]byte(nil), b...))
		if !ed25519.NewKeyFromSeed(priv.Seed()).Equal(priv) {
			return nil, errors.New("signing key: the public half does not match the seed")
		}
		return priv, nil
	}
	return nil, fmt.Errorf("signing key must be a %d-byte ed25519 seed or a %d-byte private key, raw, hex or base64", ed25519.SeedSize, ed25519.PrivateKeySize)
}
