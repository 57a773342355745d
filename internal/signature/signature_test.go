package signature

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVerifyHMACSHA256Base64(t *testing.T) {
	body := []byte(`{"id":"m1","text":"héllo"}`)
	m := hmac.New(sha256.New, []byte("s2"))
	m.Write(body)
	sig := base64.StdEncoding.EncodeToString(m.Sum(nil))

	secrets := [][]byte{[]byte("s1"), []byte("s2")}
	assert.Equal(t, 1, VerifyHMAC(SHA256, Base64, secrets, sig, body), "second (rotated) secret matches")
	assert.Equal(t, -1, VerifyHMAC(SHA256, Base64, secrets[:1], sig, body), "a secret that did not sign")
	assert.Equal(t, -1, VerifyHMAC(SHA256, Base64, secrets, sig, append(body, ' ')), "altered body")
	assert.Equal(t, -1, VerifyHMAC(SHA256, Base64, secrets, "", body), "missing signature")
	assert.Equal(t, -1, VerifyHMAC(SHA256, Base64, secrets, "!!notbase64", body))
	assert.Equal(t, -1, VerifyHMAC(SHA256, Hex, secrets, sig, body), "wrong encoding")
	assert.Equal(t, 1, VerifyHMAC(SHA256, Base64, secrets, sig[:len(sig)-1], body), "padding dropped by the sender")
}

func TestVerifyHMACSHA1HexParts(t *testing.T) {
	m := hmac.New(sha1.New, []byte("k"))
	m.Write([]byte("https://x/y?a=1"))
	m.Write([]byte("Body"))
	sig := hex.EncodeToString(m.Sum(nil))
	assert.Equal(t, 0, VerifyHMAC(SHA1, Hex, [][]byte{[]byte("k")}, sig, []byte("https://x/y?a=1"), []byte("Body")))
	assert.Equal(t, Encode(Hex, MAC(SHA1, []byte("k"), []byte("https://x/y?a=1Body"))), sig)
}

func TestTokenSet(t *testing.T) {
	var ts TokenSet
	ts.Add("tok-a", "tenant-a")
	ts.Add("tok-a2", "tenant-a")
	ts.Add("", "nobody")
	ts.Add("tok-b", "tenant-b")
	o, ok := ts.Lookup("tok-a2")
	assert.True(t, ok)
	assert.Equal(t, "tenant-a", o)
	_, ok = ts.Lookup("tok-")
	assert.False(t, ok)
	_, ok = ts.Lookup("")
	assert.False(t, ok, "an empty token never authenticates")
	assert.Equal(t, 3, ts.Len())
}

func TestBasicSet(t *testing.T) {
	var bs BasicSet
	bs.Add("eventbridge", "old", "org-1")
	bs.Add("eventbridge", "new", "org-1")
	bs.Add("", "x", "nobody")
	o, ok := bs.Lookup("eventbridge", "new")
	assert.True(t, ok)
	assert.Equal(t, "org-1", o)
	_, ok = bs.Lookup("eventbridge", "wrong")
	assert.False(t, ok)
	_, ok = bs.Lookup("", "x")
	assert.False(t, ok)
	assert.Equal(t, 2, bs.Len())
}

func FuzzVerifyHMAC(f *testing.F) {
	f.Add([]byte(`{"a":1}`), "sha256=abc", []byte("secret"))
	f.Add([]byte{}, "", []byte("s"))
	f.Fuzz(func(t *testing.T, body []byte, provided string, secret []byte) {
		// Never panics, and a random provided value never verifies unless it
		// is the true MAC.
		good := Encode(Base64, MAC(SHA256, secret, body))
		got := VerifyHMAC(SHA256, Base64, [][]byte{secret}, provided, body)
		if got == 0 {
			dec, _ := decode(Base64, provided)
			if !hmac.Equal(dec, MAC(SHA256, secret, body)) {
				t.Fatalf("verified a wrong MAC %q (good %q)", provided, good)
			}
		}
		if VerifyHMAC(SHA256, Base64, [][]byte{secret}, good, body) != 0 {
			t.Fatalf("the true MAC did not verify")
		}
	})
}

func BenchmarkVerifyHMAC1500(b *testing.B) {
	body := make([]byte, 1500)
	secrets := [][]byte{[]byte("0123456789abcdef0123456789abcdef")}
	sig := Encode(Base64, MAC(SHA256, secrets[0], body))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if VerifyHMAC(SHA256, Base64, secrets, sig, body) != 0 {
			b.Fatal("no match")
		}
	}
}
