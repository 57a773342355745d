package signature

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func genKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemOf(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func signDER(t testing.TB, k *ecdsa.PrivateKey, body []byte) []byte {
	t.Helper()
	d := sha512.Sum512(body)
	sig, err := ecdsa.SignASN1(rand.Reader, k, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func signRaw(t testing.TB, k *ecdsa.PrivateKey, body []byte) []byte {
	t.Helper()
	d := sha512.Sum512(body)
	r, s, err := ecdsa.Sign(rand.Reader, k, d[:])
	if err != nil {
		t.Fatal(err)
	}
	size := (k.Curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	r.FillBytes(out[:size])
	s.FillBytes(out[size:])
	return out
}

func TestECDSAVerify(t *testing.T) {
	body := []byte(`{"id":"8b62e0c6001548d7b59f8240d79cb0d7","type":"app.installed"}`)
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		t.Run(c.Params().Name, func(t *testing.T) {
			k := genKey(t, c)
			other := genKey(t, c)
			var keys ECDSAKeys
			if err := keys.AddText("current", pemOf(t, &k.PublicKey)); err != nil {
				t.Fatal(err)
			}
			if err := keys.AddText("other", pemOf(t, &other.PublicKey)); err != nil {
				t.Fatal(err)
			}
			der := hex.EncodeToString(signDER(t, k, body))
			raw := hex.EncodeToString(signRaw(t, k, body))
			for name, tc := range map[string]struct {
				id, sig string
				body    []byte
				want    bool
			}{
				"DER hex":              {"current", der, body, true},
				"DER upper-case hex":   {"current", strings.ToUpper(der), body, true},
				"raw r||s hex":         {"current", raw, body, true},
				"surrounding space":    {"current", " " + der + "\n", body, true},
				"wrong key id":         {"other", der, body, false},
				"unknown key id":       {"nope", der, body, false},
				"empty key id":         {"", der, body, false},
				"body altered":         {"current", der, append(bytes.Clone(body), ' '), false},
				"empty body":           {"current", der, nil, false},
				"not hex":              {"current", "zz" + der[2:], body, false},
				"odd length":           {"current", der[1:], body, false},
				"truncated":            {"current", der[:len(der)-2], body, false},
				"empty signature":      {"current", "", body, false},
				"too long":             {"current", strings.Repeat("00", 300), body, false},
				"raw with one bit off": {"current", flipHex(raw), body, false},
			} {
				if got := keys.Verify(crypto.SHA512, Hex, tc.id, tc.sig, tc.body); got != tc.want {
					t.Errorf("%s: got %v, want %v", name, got, tc.want)
				}
			}
			// The hash is part of the check.
			if keys.Verify(crypto.SHA256, Hex, "current", der, body) {
				t.Error("a SHA-512 signature verified as SHA-256")
			}
			// Several body parts are hashed as their concatenation.
			if !keys.Verify(crypto.SHA512, Hex, "current", der, body[:10], body[10:]) {
				t.Error("split body did not verify")
			}
			// Base64 encoding.
			b64 := base64.StdEncoding.EncodeToString(signDER(t, k, body))
			if !keys.Verify(crypto.SHA512, Base64, "current", b64, body) {
				t.Error("base64 DER did not verify")
			}
		})
	}
}

func flipHex(s string) string {
	b, _ := hex.DecodeString(s)
	b[len(b)-1] ^= 1
	return hex.EncodeToString(b)
}

func TestECDSAZeroSignatureRefused(t *testing.T) {
	k := genKey(t, elliptic.P256())
	var keys ECDSAKeys
	if err := keys.Add("k", &k.PublicKey); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []string{strings.Repeat("00", 64), "3006020100020100", "3000"} {
		if keys.Verify(crypto.SHA512, Hex, "k", sig, []byte("x")) {
			t.Errorf("degenerate signature %s verified", sig)
		}
	}
	if VerifyECDSA(nil, crypto.SHA512, []byte{1}, nil) {
		t.Error("nil key verified")
	}
	if VerifyECDSA(&k.PublicKey, crypto.Hash(0), signDER(t, k, nil)) {
		t.Error("unavailable hash verified")
	}
}

func TestParseECDSAPublicKeyForms(t *testing.T) {
	k := genKey(t, elliptic.P256())
	p := pemOf(t, &k.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	bare := base64.StdEncoding.EncodeToString(der)
	folded := strings.Join(strings.Fields(p), " ") // what a YAML plain scalar makes of the file
	lines := strings.Split(strings.TrimSpace(p), "\n")
	crlf := strings.Join(lines, "\r\n")

	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}))

	for name, text := range map[string]string{"pem": p, "bare base64": bare, "folded": folded, "crlf": crlf, "certificate": cert, "indented": "\n   " + p} {
		pub, err := ParseECDSAPublicKey(text)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !pub.Equal(&k.PublicKey) {
			t.Errorf("%s: parsed a different key", name)
		}
	}

	rk, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	epub, _, _ := ed25519.GenerateKey(rand.Reader)
	privDER, _ := x509.MarshalECPrivateKey(k)
	for name, text := range map[string]string{
		"empty":        "  ",
		"rsa":          pemOf(t, &rk.PublicKey),
		"ed25519":      pemOf(t, epub),
		"private key":  string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: privDER})),
		"not base64":   "not a key!",
		"garbage der":  base64.StdEncoding.EncodeToString([]byte("hello")),
		"no end":       "-----BEGIN PUBLIC KEY-----\n" + bare,
		"two blocks":   p + p,
		"bad armour":   "-----BEGIN PUBLIC KEY" + bare,
		"stray dashes": bare + "-----",
		"encrypted":    "-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n" + bare + "\n-----END PUBLIC KEY-----",
	} {
		if _, err := ParseECDSAPublicKey(text); err == nil {
			t.Errorf("%s: parsed without error", name)
		} else if strings.Contains(err.Error(), bare[:20]) {
			t.Errorf("%s: the error echoes key material: %v", name, err)
		}
	}
}

func TestECDSAKeysAdd(t *testing.T) {
	k := genKey(t, elliptic.P256())
	var keys ECDSAKeys
	if keys.Verify(crypto.SHA512, Hex, "k", "00", nil) {
		t.Fatal("an empty set verified")
	}
	if err := keys.Add("", &k.PublicKey); err == nil {
		t.Error("empty id accepted")
	}
	if err := keys.Add("k", nil); err == nil {
		t.Error("nil key accepted")
	}
	if err := keys.Add("k", &k.PublicKey); err != nil {
		t.Fatal(err)
	}
	if err := keys.Add("k", &k.PublicKey); err == nil {
		t.Error("duplicate id accepted")
	}
	if err := keys.AddText("x", "nope"); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("AddText error should name the key id: %v", err)
	}
	if keys.Len() != 1 {
		t.Errorf("Len = %d", keys.Len())
	}
}

// FuzzECDSAVerify: no (key id, signature, body) verifies unless the
// signature really is the key's signature of that body.
func FuzzECDSAVerify(f *testing.F) {
	k := genKey(f, elliptic.P256())
	var keys ECDSAKeys
	if err := keys.Add("k", &k.PublicKey); err != nil {
		f.Fatal(err)
	}
	body := []byte(`{"id":"1","type":"app.installed","data":{"account_id":"a"}}`)
	good := hex.EncodeToString(signDER(f, k, body))
	f.Add("k", good, body)
	f.Add("k", hex.EncodeToString(signRaw(f, k, body)), body)
	f.Add("k", good, []byte(`{}`))
	f.Add("x", good, body)
	f.Add("k", "3006020101020101", body)
	f.Add("k", strings.Repeat("ff", 64), body)
	f.Fuzz(func(t *testing.T, id, sig string, msg []byte) {
		if !keys.Verify(crypto.SHA512, Hex, id, sig, msg) {
			return
		}
		// Anything that verified must be a genuine signature of msg: only
		// the seeds' body was ever signed, so msg must be that body.
		if id != "k" || !bytes.Equal(msg, body) {
			t.Fatalf("forged signature accepted: id=%q sig=%q body=%q", id, sig, msg)
		}
	})
}

// FuzzParseECDSAPublicKey: the parser never panics and only returns usable
// keys.
func FuzzParseECDSAPublicKey(f *testing.F) {
	k := genKey(f, elliptic.P384())
	p := pemOf(f, &k.PublicKey)
	f.Add(p)
	f.Add(strings.Join(strings.Fields(p), " "))
	f.Add("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
	f.Add("-----BEGIN -----")
	f.Add("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")
	f.Fuzz(func(t *testing.T, text string) {
		pub, err := ParseECDSAPublicKey(text)
		if err != nil {
			if pub != nil {
				t.Fatal("a key and an error")
			}
			return
		}
		if pub == nil || pub.Curve == nil || !pub.Curve.IsOnCurve(pub.X, pub.Y) { //nolint:staticcheck // checking the parser's output
			t.Fatal("parsed an unusable key")
		}
	})
}

func BenchmarkECDSAVerifyP256SHA512(b *testing.B) {
	k := genKey(b, elliptic.P256())
	var keys ECDSAKeys
	_ = keys.Add("k", &k.PublicKey)
	body := bytes.Repeat([]byte("x"), 1500)
	sig := hex.EncodeToString(signDER(b, k, body))
	b.ReportAllocs()
	for b.Loop() {
		if !keys.Verify(crypto.SHA512, Hex, "k", sig, body) {
			b.Fatal("did not verify")
		}
	}
}
