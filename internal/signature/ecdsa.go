package signature

import (
	"crypto"
	"crypto/ecdsa"
	_ "crypto/sha256" // registers SHA-224/256 for crypto.Hash.New
	_ "crypto/sha512" // registers SHA-384/512 for crypto.Hash.New
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// maxECDSASignatureLen bounds an encoded signature before it is decoded: a
// DER signature on P-521 is at most 139 bytes (278 hex digits). Anything much
// longer is refused without work.
const maxECDSASignatureLen = 512

// ECDSAKeys holds the ECDSA public keys a vendor signs deliveries with, by
// the key id the vendor names in each request (Talkdesk's
// X-Hub-Ecdsa-Signature-Id, for example). Keys and ids are public; nothing
// here is secret, so lookups need not be constant-time. A request naming a
// key id that is not configured fails: there is no fallback to "any key".
//
// The zero value is an empty set ready to use.
type ECDSAKeys struct {
	keys map[string]*ecdsa.PublicKey
}

// Add registers a public key under id. Ids must be unique and non-empty.
func (k *ECDSAKeys) Add(id string, pub *ecdsa.PublicKey) error {
	if id == "" {
		return errors.New("empty key id")
	}
	if pub == nil || pub.Curve == nil {
		return fmt.Errorf("key %q: no public key", id)
	}
	if _, dup := k.keys[id]; dup {
		return fmt.Errorf("key id %q is configured twice", id)
	}
	if k.keys == nil {
		k.keys = make(map[string]*ecdsa.PublicKey)
	}
	k.keys[id] = pub
	return nil
}

// AddText parses a public key with ParseECDSAPublicKey and registers it.
func (k *ECDSAKeys) AddText(id, text string) error {
	pub, err := ParseECDSAPublicKey(text)
	if err != nil {
		return fmt.Errorf("key %q: %w", id, err)
	}
	return k.Add(id, pub)
}

// Len is the number of registered keys.
func (k *ECDSAKeys) Len() int { return len(k.keys) }

// Verify checks a signature made with the key named keyID over the
// concatenation of body, hashed with hash. provided is the signature as the
// vendor writes it (enc: hex or base64), in ASN.1 DER or as the fixed-size
// r||s concatenation (IEEE P1363, as in JWS). An unknown key id, an
// undecodable signature or an unavailable hash is a failed check.
func (k *ECDSAKeys) Verify(hash crypto.Hash, enc Encoding, keyID, provided string, body ...[]byte) bool {
	pub := k.keys[keyID]
	if pub == nil || len(provided) > maxECDSASignatureLen {
		return false
	}
	sig, ok := decode(enc, provided)
	if !ok || len(sig) == 0 {
		return false
	}
	return VerifyECDSA(pub, hash, sig, body...)
}

// VerifyECDSA checks a raw (decoded) ECDSA signature of the concatenation of
// body. The signature may be ASN.1 DER or r||s with each half as long as the
// curve order.
func VerifyECDSA(pub *ecdsa.PublicKey, hash crypto.Hash, sig []byte, body ...[]byte) bool {
	if pub == nil || pub.Curve == nil || !hash.Available() {
		return false
	}
	h := hash.New()
	for _, b := range body {
		h.Write(b)
	}
	digest := h.Sum(nil)
	if ecdsa.VerifyASN1(pub, digest, sig) {
		return true
	}
	size := (pub.Curve.Params().BitSize + 7) / 8
	if len(sig) != 2*size {
		return false
	}
	r := new(big.Int).SetBytes(sig[:size])
	s := new(big.Int).SetBytes(sig[size:])
	return ecdsa.Verify(pub, digest, r, s)
}

// ParseECDSAPublicKey reads an ECDSA public key (P-256, P-384 or P-521) in
// any of the forms operators paste into configuration:
//
//   - PEM "PUBLIC KEY" (PKIX SubjectPublicKeyInfo), as openssl writes it;
//   - PEM "CERTIFICATE", whose public key is used;
//   - the base64 of the DER SubjectPublicKeyInfo alone (a PEM body without
//     its armour), as key-distribution endpoints often serve it.
//
// Line breaks inside the PEM may have been folded into spaces (a PEM file
// read through a YAML plain scalar, e.g. ${file:key.pem}); that is accepted.
func ParseECDSAPublicKey(text string) (*ecdsa.PublicKey, error) {
	label, b64, err := pemBody(text)
	if err != nil {
		return nil, err
	}
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New("the key is not valid base64")
	}
	var pub any
	switch label {
	case "", "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(der)
		if err != nil {
			return nil, fmt.Errorf("not a PKIX public key: %w", err)
		}
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("not an X.509 certificate: %w", err)
		}
		pub = cert.PublicKey
	default:
		return nil, fmt.Errorf("PEM block %q is not a public key (want PUBLIC KEY or CERTIFICATE)", label)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the key is a %T, not an ECDSA public key", pub)
	}
	return ec, nil
}

// pemBody returns the label and the base64 body (white space removed) of a
// single PEM block, or ("", text without white space) when text has no PEM
// armour. It does not need line breaks to be preserved.
func pemBody(text string) (label, b64 string, err error) {
	s := strings.TrimSpace(text)
	if s == "" {
		return "", "", errors.New("empty public key")
	}
	const begin, dashes = "-----BEGIN ", "-----"
	if !strings.HasPrefix(s, begin) {
		if strings.Contains(s, dashes) {
			return "", "", errors.New("malformed PEM armour")
		}
		return "", stripSpace(s), nil
	}
	rest := s[len(begin):]
	i := strings.Index(rest, dashes)
	if i < 0 {
		return "", "", errors.New("malformed PEM armour")
	}
	label, rest = rest[:i], rest[i+len(dashes):]
	end := "-----END " + label + dashes
	j := strings.Index(rest, end)
	if j < 0 {
		return "", "", fmt.Errorf("PEM block %q has no END line", label)
	}
	if strings.TrimSpace(rest[j+len(end):]) != "" {
		return "", "", errors.New("data after the PEM block (configure one key per entry)")
	}
	body := rest[:j]
	if strings.Contains(body, ":") {
		return "", "", errors.New("encrypted or annotated PEM blocks are not supported")
	}
	return label, stripSpace(body), nil
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
}
