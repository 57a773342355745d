package subject

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var testSalt = []byte("consentry-test-salt-0123456789ab") // 32 bytes

func newTestKeyer(t testing.TB, salt []byte) *Keyer {
	t.Helper()
	k, err := NewKeyer(salt)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		t       IDType
		raw     string
		want    string
		wantErr error
	}{
		{IDTypePhone, "+14155550100", "+14155550100", nil},
		{IDTypePhone, "(415) 555-0100", "+14155550100", nil},
		{IDTypePhone, "tel:+44 (0) 20 7946 0958", "+442079460958", nil},
		{IDTypePhone, "", "", ErrEmpty},
		{IDTypePhone, "   ", "", ErrEmpty},
		{IDTypePhone, "alice@example.com", "", ErrInvalidPhone},
		{IDTypePhone, "12345", "", ErrInvalidPhone},

		{IDTypeEmail, "alice@example.com", "alice@example.com", nil},
		{IDTypeEmail, "  Alice@Example.COM ", "alice@example.com", nil},
		{IDTypeEmail, "mailto:Alice@Example.com", "alice@example.com", nil},
		{IDTypeEmail, "MAILTO:alice@example.com?subject=hi", "alice@example.com", nil},
		{IDTypeEmail, "ÉLODIE@exemple.fr", "élodie@exemple.fr", nil},
		{IDTypeEmail, "first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk", nil},
		{IDTypeEmail, "user@localhost", "user@localhost", nil},
		{IDTypeEmail, "", "", ErrEmpty},
		{IDTypeEmail, "mailto:", "", ErrEmpty},
		{IDTypeEmail, "alice.example.com", "", ErrInvalidEmail},
		{IDTypeEmail, "alice@@example.com", "", ErrInvalidEmail},
		{IDTypeEmail, "a@b@example.com", "", ErrInvalidEmail},
		{IDTypeEmail, "alice smith@example.com", "", ErrInvalidEmail},
		{IDTypeEmail, "alice@exa mple.com", "", ErrInvalidEmail},
		{IDTypeEmail, "alice\t@example.com", "", ErrInvalidEmail},
		{IDTypeEmail, "alice@example.com\u00a0x", "", ErrInvalidEmail},
		{IDTypeEmail, "@example.com", "", ErrInvalidEmail},
		{IDTypeEmail, "alice@", "", ErrInvalidEmail},
		{IDTypeEmail, "alice@.example.com", "", ErrInvalidEmail},
		{IDTypeEmail, "alice@example.com.", "", ErrInvalidEmail},
		{IDTypeEmail, "alice@example..com", "", ErrInvalidEmail},
		{IDTypeEmail, "Alice <alice@example.com>", "", ErrInvalidEmail},
		{IDTypeEmail, "sip:alice@example.com", "", ErrInvalidEmail},
		{IDTypeEmail, "alice@exam\x00ple.com", "", ErrInvalidEmail},
		{IDTypeEmail, "alice@exam\xffple.com", "", ErrInvalidEmail},

		{IDTypeOpaque, "user-42", "user-42", nil},
		{IDTypeOpaque, "  AbC-42\n", "AbC-42", nil},
		{IDTypeOpaque, "contact 7 of 9", "contact 7 of 9", nil},
		{IDTypeOpaque, "", "", ErrEmpty},
		{IDTypeOpaque, " \t ", "", ErrEmpty},

		{IDType("fax"), "+14155550100", "", ErrUnknownType},
		{IDType(""), "x", "", ErrUnknownType},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.t, tt.raw)
		if !errors.Is(err, tt.wantErr) || got != tt.want {
			t.Errorf("Normalize(%q, %q) = %q, %v; want %q, %v", tt.t, tt.raw, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		raw      string
		wantType IDType
		want     string
		wantErr  error
	}{
		{"+14155550100", IDTypePhone, "+14155550100", nil},
		{"(415) 555-0100", IDTypePhone, "+14155550100", nil},
		{"tel:+1-415-555-0100", IDTypePhone, "+14155550100", nil},
		{"sip:+14155550100@pbx.example.com;user=phone", IDTypePhone, "+14155550100", nil},
		{"whatsapp:+447700900123", IDTypePhone, "+447700900123", nil},
		{"Alice@Example.com", IDTypeEmail, "alice@example.com", nil},
		{"mailto:bob@example.org", IDTypeEmail, "bob@example.org", nil},
		{"user@localhost", IDTypeOpaque, "user@localhost", nil}, // no dot in the domain
		{"a@@b.com", IDTypeOpaque, "a@@b.com", nil},
		{"sip:alice@example.com", IDTypeOpaque, "sip:alice@example.com", nil},
		{"user-42", IDTypeOpaque, "user-42", nil},
		{"  anon-7f3a  ", IDTypeOpaque, "anon-7f3a", nil},
		{"12345", IDTypeOpaque, "12345", nil},
		{"", "", "", ErrEmpty},
		{"   ", "", "", ErrEmpty},
	}
	for _, tt := range tests {
		typ, got, err := Detect(tt.raw)
		if !errors.Is(err, tt.wantErr) || typ != tt.wantType || got != tt.want {
			t.Errorf("Detect(%q) = %q, %q, %v; want %q, %q, %v", tt.raw, typ, got, err, tt.wantType, tt.want, tt.wantErr)
		}
		if err == nil {
			// Detect's result must be what Normalize gives for the detected type.
			n, err := Normalize(typ, tt.raw)
			if err != nil || n != got {
				t.Errorf("Normalize(%q, %q) = %q, %v; Detect gave %q", typ, tt.raw, n, err, got)
			}
		}
	}
}

var keyPattern = regexp.MustCompile(`^sk1_[0-9a-f]{32}$`)

// referenceKey computes a key independently of Keyer.
func referenceKey(salt []byte, t IDType, normalised string) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(string(t) + ":" + normalised))
	return "sk1_" + hex.EncodeToString(m.Sum(nil))[:32]
}

func TestKnownAnswer(t *testing.T) {
	k := newTestKeyer(t, testSalt)
	tests := []struct {
		t          IDType
		normalised string
		pinned     string // computed outside Go (Python hmac) to pin the format across versions
	}{
		{IDTypePhone, "+14155550100", "sk1_9422b10fa9779fad355e95494ca0f42e"},
		{IDTypeEmail, "alice@example.com", "sk1_4ec92312499e5d1fff38900a91a97b52"},
		{IDTypeOpaque, "user-42", "sk1_6d51e82f43c1cd245bce7191f3af1003"},
	}
	for _, tt := range tests {
		got := k.Key(tt.t, tt.normalised)
		if want := referenceKey(testSalt, tt.t, tt.normalised); got != want {
			t.Errorf("Key(%q, %q) = %q, reference %q", tt.t, tt.normalised, got, want)
		}
		if got != tt.pinned {
			t.Errorf("Key(%q, %q) = %q, pinned %q", tt.t, tt.normalised, got, tt.pinned)
		}
		if !keyPattern.MatchString(got) || len(got) != 36 {
			t.Errorf("Key(%q, %q) = %q: bad format", tt.t, tt.normalised, got)
		}
	}
}

func TestSamePhoneFiveWaysOneKey(t *testing.T) {
	k := newTestKeyer(t, testSalt)
	forms := []string{
		"+14155550100",
		"(415) 555-0100",
		"1-415-555-0100",
		"tel:+1.415.555.0100",
		"sip:+14155550100@gw.example.com;user=phone",
		"001 415 555 0100",
		"whatsapp:+1 415 555 0100",
	}
	want := referenceKey(testSalt, IDTypePhone, "+14155550100")
	for _, f := range forms {
		key, n, err := k.KeyRaw(IDTypePhone, f)
		if err != nil || n != "+14155550100" || key != want {
			t.Errorf("KeyRaw(phone, %q) = %q, %q, %v; want %q", f, key, n, err, want)
		}
	}
}

func TestEmailCaseOneKey(t *testing.T) {
	k := newTestKeyer(t, testSalt)
	want := k.Key(IDTypeEmail, "alice@example.com")
	for _, f := range []string{"alice@example.com", "Alice@Example.com", "ALICE@EXAMPLE.COM", " mailto:Alice@example.COM "} {
		key, _, err := k.KeyRaw(IDTypeEmail, f)
		if err != nil || key != want {
			t.Errorf("KeyRaw(email, %q) = %q, %v; want %q", f, key, err, want)
		}
	}
}

func TestDifferentSaltsDifferentKeys(t *testing.T) {
	a := newTestKeyer(t, testSalt)
	b := newTestKeyer(t, []byte("another-salt-of-sufficient-size!"))
	c := newTestKeyer(t, append(append([]byte(nil), testSalt...), '!')) // one byte longer
	for _, id := range []struct {
		t IDType
		n string
	}{{IDTypePhone, "+14155550100"}, {IDTypeEmail, "alice@example.com"}, {IDTypeOpaque, "user-42"}} {
		ka, kb, kc := a.Key(id.t, id.n), b.Key(id.t, id.n), c.Key(id.t, id.n)
		if ka == kb || ka == kc || kb == kc {
			t.Errorf("keys for %s %q collide across salts: %s %s %s", id.t, id.n, ka, kb, kc)
		}
	}
}

func TestKeysStableAcrossKeyers(t *testing.T) {
	a := newTestKeyer(t, testSalt)
	b := newTestKeyer(t, append([]byte(nil), testSalt...))
	if ka, kb := a.Key(IDTypePhone, "+14155550100"), b.Key(IDTypePhone, "+14155550100"); ka != kb {
		t.Fatalf("same salt, different keys: %s %s", ka, kb)
	}
	// Repeated use of one Keyer (pooled state) gives the same answer.
	first := a.Key(IDTypeOpaque, "user-42")
	for i := 0; i < 100; i++ {
		a.Key(IDTypeEmail, fmt.Sprintf("u%d@example.com", i))
		if got := a.Key(IDTypeOpaque, "user-42"); got != first {
			t.Fatalf("key changed on reuse: %s then %s", first, got)
		}
	}
}

func TestSaltIsCopied(t *testing.T) {
	salt := append([]byte(nil), testSalt...)
	k := newTestKeyer(t, salt)
	before := k.Key(IDTypePhone, "+14155550100")
	for i := range salt {
		salt[i] = 0
	}
	if after := k.Key(IDTypePhone, "+14155550100"); after != before {
		t.Fatalf("changing the caller's salt slice changed keys: %s -> %s", before, after)
	}
}

func TestTypeIsPartOfKey(t *testing.T) {
	k := newTestKeyer(t, testSalt)
	p, o := k.Key(IDTypePhone, "+14155550100"), k.Key(IDTypeOpaque, "+14155550100")
	if p == o {
		t.Fatal("phone and opaque keys of the same string collide")
	}
}

func TestKeyNeverContainsIdentifier(t *testing.T) {
	k := newTestKeyer(t, testSalt)
	ids := []struct {
		t   IDType
		raw string
	}{
		{IDTypePhone, "(415) 555-0100"},
		{IDTypePhone, "+442079460958"},
		{IDTypeEmail, "Alice@Example.com"},
		{IDTypeOpaque, "user-42"},
		{IDTypeOpaque, "a"},
	}
	for _, id := range ids {
		key, n, err := k.KeyRaw(id.t, id.raw)
		if err != nil {
			t.Fatal(err)
		}
		if !keyPattern.MatchString(key) {
			t.Errorf("key %q has bad format", key)
		}
		body := strings.TrimPrefix(key, KeyPrefix)
		digits := strings.TrimPrefix(n, "+")
		for _, part := range []string{n, digits, strings.ToLower(id.raw)} {
			if len(part) >= 4 && strings.Contains(strings.ToLower(body), strings.ToLower(part)) {
				t.Errorf("key %q contains identifier part %q", key, part)
			}
		}
		if strings.ContainsAny(body, "@+") {
			t.Errorf("key %q contains identifier characters", key)
		}
	}
}

func TestShortSaltRejected(t *testing.T) {
	for _, n := range []int{0, 1, 8, 15} {
		k, err := NewKeyer(make([]byte, n))
		if !errors.Is(err, ErrShortSalt) || k != nil {
			t.Errorf("NewKeyer(%d bytes) = %v, %v; want ErrShortSalt", n, k, err)
		}
	}
	if _, err := NewKeyer(nil); !errors.Is(err, ErrShortSalt) {
		t.Errorf("NewKeyer(nil) = %v; want ErrShortSalt", err)
	}
	if _, err := NewKeyer(make([]byte, MinSaltLen)); err != nil {
		t.Errorf("NewKeyer(16 bytes) = %v", err)
	}
}

func TestKeyRawErrors(t *testing.T) {
	k := newTestKeyer(t, testSalt)
	for _, tt := range []struct {
		t   IDType
		raw string
		err error
	}{
		{IDTypePhone, "not a phone 555", ErrInvalidPhone},
		{IDTypeEmail, "secret person@example.com", ErrInvalidEmail},
		{IDTypeOpaque, "", ErrEmpty},
		{IDType("ssn"), "078-05-1120", ErrUnknownType},
	} {
		key, n, err := k.KeyRaw(tt.t, tt.raw)
		if !errors.Is(err, tt.err) || key != "" || n != "" {
			t.Errorf("KeyRaw(%q, %q) = %q, %q, %v; want %v", tt.t, tt.raw, key, n, err, tt.err)
		}
		if err != nil && tt.raw != "" && strings.Contains(err.Error(), tt.raw) {
			t.Errorf("error %q leaks the identifier", err)
		}
	}
}

func TestZeroKeyerPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Key on a zero Keyer did not panic")
		}
	}()
	var k Keyer
	k.Key(IDTypeOpaque, "x")
}

func TestConcurrentKeys(t *testing.T) {
	k := newTestKeyer(t, testSalt)
	const workers, per = 16, 500
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				raw := fmt.Sprintf("(415) 555-%04d", (w*per+i)%10000)
				key, n, err := k.KeyRaw(IDTypePhone, raw)
				if err != nil {
					errs <- err.Error()
					return
				}
				if want := referenceKey(testSalt, IDTypePhone, n); key != want {
					errs <- fmt.Sprintf("KeyRaw(%q) = %s, want %s", raw, key, want)
					return
				}
				email := fmt.Sprintf("User%d@Example.com", i)
				if got, want := k.Key(IDTypeEmail, strings.ToLower(email)), referenceKey(testSalt, IDTypeEmail, strings.ToLower(email)); got != want {
					errs <- fmt.Sprintf("Key(%q) = %s, want %s", email, got, want)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestKeyRawAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	k := newTestKeyer(t, testSalt)
	k.Key(IDTypePhone, "+14155550100") // warm the pool
	if a := testing.AllocsPerRun(200, func() { k.KeyRaw(IDTypePhone, "(415) 555-0100") }); a > 2 {
		t.Errorf("KeyRaw(phone) allocates %v times, want <= 2", a)
	}
	if a := testing.AllocsPerRun(200, func() { k.KeyRaw(IDTypeEmail, "Alice@Example.com") }); a > 2 {
		t.Errorf("KeyRaw(email) allocates %v times, want <= 2", a)
	}
	if a := testing.AllocsPerRun(200, func() { k.Key(IDTypePhone, "+14155550100") }); a > 1 {
		t.Errorf("Key allocates %v times, want <= 1", a)
	}
}

func BenchmarkKeyRaw(b *testing.B) {
	k := newTestKeyer(b, testSalt)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := k.KeyRaw(IDTypePhone, "(415) 555-0100"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeyRawEmail(b *testing.B) {
	k := newTestKeyer(b, testSalt)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := k.KeyRaw(IDTypeEmail, "Alice@Example.com"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeyRawParallel(b *testing.B) {
	k := newTestKeyer(b, testSalt)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := k.KeyRaw(IDTypePhone, "(415) 555-0100"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func FuzzDetect(f *testing.F) {
	for _, s := range []string{"", "+14155550100", "(415) 555-0100", "Alice@Example.com", "mailto:a@b.co",
		"sip:+14155550100@h.example", "sip:alice@example.com", "user-42", "a@@b.com", "user@localhost"} {
		f.Add(s)
	}
	k, err := NewKeyer(testSalt)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		typ, n, err := Detect(raw)
		if err != nil {
			if !errors.Is(err, ErrEmpty) || strings.TrimSpace(raw) != "" {
				t.Fatalf("Detect(%q) error %v", raw, err)
			}
			return
		}
		again, err := Normalize(typ, n)
		if err != nil || again != n {
			t.Fatalf("Normalize(%q, %q) = %q, %v; Detect output is not canonical", typ, n, again, err)
		}
		if key := k.Key(typ, n); !keyPattern.MatchString(key) {
			t.Fatalf("Key(%q, %q) = %q", typ, n, key)
		}
	})
}
