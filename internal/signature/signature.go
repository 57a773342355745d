// Package signature verifies the ways vendors authenticate webhook deliveries:
// HMAC signatures over the raw body, static header tokens (API keys) and HTTP
// Basic credentials. Every comparison of secret-derived bytes is constant-time,
// every check accepts several secrets (rotation), and a check never says which
// part of a credential was wrong.
package signature

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // vendors (Twilio, Segment) sign with HMAC-SHA1; not our choice.
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strings"
)

// Algorithm is an HMAC hash function.
type Algorithm int

const (
	SHA256 Algorithm = iota
	SHA1
)

func (a Algorithm) newHash() func() hash.Hash {
	if a == SHA1 {
		return sha1.New
	}
	return sha256.New
}

// Encoding is how a vendor writes the MAC into its header.
type Encoding int

const (
	Base64 Encoding = iota
	Hex
)

// MAC computes HMAC(secret, parts...) with the algorithm.
func MAC(alg Algorithm, secret []byte, parts ...[]byte) []byte {
	m := hmac.New(alg.newHash(), secret)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// Encode writes a MAC the way a vendor would.
func Encode(enc Encoding, mac []byte) string {
	if enc == Hex {
		return hex.EncodeToString(mac)
	}
	return base64.StdEncoding.EncodeToString(mac)
}

// decode parses a provided MAC; hex is accepted in either case.
func decode(enc Encoding, s string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	if enc == Hex {
		b, err := hex.DecodeString(s)
		return b, err == nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		// Some senders drop the padding.
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	return b, err == nil
}

// VerifyHMAC checks a provided, encoded MAC of body against each secret in
// turn and returns the index of the secret that matched, or -1. Every secret
// is tried, whether or not an earlier one matched, so the time taken does not
// reveal which secret (or whether any) matched.
func VerifyHMAC(alg Algorithm, enc Encoding, secrets [][]byte, provided string, body ...[]byte) int {
	got, ok := decode(enc, provided)
	if !ok || len(got) == 0 {
		return -1
	}
	match := -1
	for i, s := range secrets {
		if hmac.Equal(MAC(alg, s, body...), got) && match < 0 {
			match = i
		}
	}
	return match
}

// Equal compares two secrets in constant time (for their common length).
func Equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}

// TokenSet maps static bearer tokens / API keys to the owner they authenticate
// (a tenant id). Presented tokens are hashed with SHA-256 before the lookup,
// so the lookup's timing depends on the digest, never on how many leading
// bytes of a real token were guessed right.
type TokenSet struct {
	owners map[[32]byte]string
}

// Add registers token for owner. Empty tokens are ignored.
func (t *TokenSet) Add(token, owner string) {
	if token == "" {
		return
	}
	if t.owners == nil {
		t.owners = make(map[[32]byte]string)
	}
	t.owners[sha256.Sum256([]byte(token))] = owner
}

// Len is the number of registered tokens.
func (t *TokenSet) Len() int { return len(t.owners) }

// Lookup returns the owner of a presented token.
func (t *TokenSet) Lookup(token string) (string, bool) {
	if token == "" || len(t.owners) == 0 {
		return "", false
	}
	owner, ok := t.owners[sha256.Sum256([]byte(token))]
	return owner, ok
}

type basicCred struct {
	passwordDigest [32]byte
	owner          string
}

// BasicSet holds HTTP Basic credentials; several passwords per user name are
// allowed (rotation). Passwords are kept as SHA-256 digests and compared in
// constant time.
type BasicSet struct {
	users map[string][]basicCred
}

// Add registers a user name and password for owner.
func (b *BasicSet) Add(user, password, owner string) {
	if user == "" || password == "" {
		return
	}
	if b.users == nil {
		b.users = make(map[string][]basicCred)
	}
	b.users[user] = append(b.users[user], basicCred{sha256.Sum256([]byte(password)), owner})
}

// Len is the number of registered credentials.
func (b *BasicSet) Len() int {
	n := 0
	for _, c := range b.users {
		n += len(c)
	}
	return n
}

// Lookup returns the owner of a user name and password pair.
func (b *BasicSet) Lookup(user, password string) (string, bool) {
	creds := b.users[user]
	if len(creds) == 0 {
		return "", false
	}
	d := sha256.Sum256([]byte(password))
	owner, found := "", false
	for _, c := range creds {
		if subtle.ConstantTimeCompare(d[:], c.passwordDigest[:]) == 1 && !found {
			owner, found = c.owner, true
		}
	}
	return owner, found
}
