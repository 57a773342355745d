package phone

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string // "" means ok=false
	}{
		// Already canonical.
		{"e164 US", "+14155550100", "+14155550100"},
		{"e164 brief example", "+15555550520", "+15555550520"},
		{"e164 GB", "+442079460958", "+442079460958"},

		// URI schemes and SIP user parts.
		{"tel", "tel:+14155550100", "+14155550100"},
		{"tel separators", "tel:+1-415-555-0100", "+14155550100"},
		{"tel upper-case scheme", "TEL:+14155550100", "+14155550100"},
		{"tel ext param", "tel:+1-415-555-0100;ext=123", "+14155550100"},
		{"tel phone-context", "tel:4155550100;phone-context=+1", "+14155550100"},
		{"sip user=phone", "sip:+14155550100@gw.example.com;user=phone", "+14155550100"},
		{"sip port and transport", "sip:+14155550100@10.0.0.1:5060;transport=udp", "+14155550100"},
		{"sip user params", "sip:+14155550100;npdi;rn=+14155550000@host", "+14155550100"},
		{"sip headers", "sip:+14155550100@host?X-Foo=bar", "+14155550100"},
		{"sips", "sips:+442079460958@secure.example.com", "+442079460958"},
		{"sip mixed case", "SiP:+14155550100@host", "+14155550100"},
		{"sip angle brackets", "<sip:+14155550100@host>", "+14155550100"},
		{"sip national NANP", "sip:4155550100@host", "+14155550100"},
		{"whatsapp", "whatsapp:+447700900123", "+447700900123"},
		{"whatsapp upper", "WhatsApp:+447700900123", "+447700900123"},
		{"sms with body", "sms:+14155550100?body=hi", "+14155550100"},

		// Visual separators.
		{"NANP parens", "(415) 555-0100", "+14155550100"},
		{"NANP dots", "415.555.0100", "+14155550100"},
		{"NANP 1-dashes", "1-415-555-0100", "+14155550100"},
		{"NANP 1 spaces", "1 415 555 0100", "+14155550100"},
		{"NANP bare 10", "4155550100", "+14155550100"},
		{"NANP bare 11", "14155550100", "+14155550100"},
		{"NANP plus spaced", "+1 (415) 555-0100", "+14155550100"},
		{"NBSP", "+44\u00a020\u00a07946\u00a00958", "+442079460958"},
		{"narrow NBSP and en dash", "+33\u202f1\u202f42\u201368\u201353\u201300", "+33142685300"},
		{"slash", "+49 30/1234567", "+49301234567"},
		{"surrounding white space", "  \t+14155550100\n", "+14155550100"},

		// International prefixes and the trunk "(0)".
		{"00 prefix", "0044 20 7946 0958", "+442079460958"},
		{"00 NANP", "001 415 555 0100", "+14155550100"},
		{"trunk (0) stripped", "+44 (0) 20 7946 0958", "+442079460958"},
		{"trunk (0) no spaces", "+44(0)2079460958", "+442079460958"},
		{"trunk (0) after 00", "0044 (0)20 7946 0958", "+442079460958"},
		{"trunk (0) DE", "+49 (0)30 1234567", "+49301234567"},
		{"Italian leading 0 kept", "+39 06 6982 1234", "+390669821234"},
		{"bare trunk 0 kept", "+44 020 7946 0958", "+4402079460958"},

		// Other countries.
		{"RU", "+7 495 123-45-67", "+74951234567"},
		{"KZ", "+7 701 123 4567", "+77011234567"},
		{"JP", "+81 3-1234-5678", "+81312345678"},
		{"IN", "+91 98765 43210", "+919876543210"},
		{"BR", "+55 11 91234-5678", "+5511912345678"},
		{"8 digits (Niue-length edge)", "+68312345", "+68312345"},
		{"15 digits", "+882123456789012", "+882123456789012"},

		// Rejected.
		{"empty", "", ""},
		{"spaces only", "   ", ""},
		{"plus only", "+", ""},
		{"scheme only", "tel:", ""},
		{"email", "alice@example.com", ""},
		{"mailto", "mailto:alice@example.com", ""},
		{"digits with at", "4155550100@example.com", ""},
		{"sip with name", "sip:alice@example.com", ""},
		{"letters", "+1 415 CALL NOW", ""},
		{"vanity", "1-800-FLOWERS", ""},
		{"extension word", "+14155550100 ext 12", ""},
		{"garbage", "not a number", ""},
		{"semicolon without scheme", "+14155550100;ext=1", ""},
		{"too short", "+4412345", ""},
		{"too short 7", "+1234567", ""},
		{"too long", "+4412345678901234", ""},
		{"too long 00", "0044123456789012345", ""},
		{"way too many digits", strings.Repeat("9", 40), ""},
		{"leading zero cc", "+0441234567890", ""},
		{"unknown calling code 999", "+99912345678", ""},
		{"unknown calling code 210", "+21012345678", ""},
		{"double plus", "++14155550100", ""},
		{"plus in middle", "1+4155550100", ""},
		{"NANP area code 1xx", "+11155550100", ""},
		{"NANP exchange 0xx", "+14150550100", ""},
		{"NANP too short", "+1415555010", ""},
		{"NANP too long", "+141555501000", ""},
		{"bare national non-NANP", "020 7946 0958", ""},
		{"bare 10 bad exchange", "4151550100", ""},
		{"bare international without plus", "442079460958", ""},
		{"bare 9 digits", "415555010", ""},
		{"control char", "+1415555\x000100", ""},
		{"newline inside", "+1415\n5550100", ""},
		{"invalid utf8", "+1415\xff5550100", ""},
		{"fullwidth digits", "+１４１５５５５０１００", ""},
		{"unbalanced bracket", "<sip:+14155550100@host", ""},
		{"trunk (0) national", "(0) 20 7946 0958", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Normalize(tt.raw)
			if tt.want == "" {
				if ok || got != "" {
					t.Fatalf("Normalize(%q) = %q, %v; want rejection", tt.raw, got, ok)
				}
				return
			}
			if !ok || got != tt.want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q, true", tt.raw, got, ok, tt.want)
			}
			if again, ok := Normalize(got); !ok || again != got {
				t.Fatalf("Normalize(%q) = %q, %v; not a fixed point", got, again, ok)
			}
		})
	}
}

func TestNormalizeCanonicalDoesNotAllocate(t *testing.T) {
	in := "+14155550100"
	allocs := testing.AllocsPerRun(100, func() {
		if out, ok := Normalize(in); !ok || out != in {
			t.Fatalf("Normalize(%q) = %q, %v", in, out, ok)
		}
	})
	if allocs != 0 {
		t.Fatalf("Normalize of canonical input allocated %v times, want 0", allocs)
	}
	allocs = testing.AllocsPerRun(100, func() { Normalize("(415) 555-0100") })
	if allocs > 1 {
		t.Fatalf("Normalize allocated %v times, want at most 1", allocs)
	}
}

var e164Pattern = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"", "+", "+14155550100", "tel:+1-415-555-0100;ext=1", "sip:+14155550100@host;user=phone",
		"<sips:+442079460958@h>", "whatsapp:+447700900123", "sms:+14155550100?body=x", "(415) 555-0100",
		"415.555.0100", "1-415-555-0100", "0044 20 7946 0958", "+44 (0) 20 7946 0958", "0044(0)20",
		"alice@example.com", "+7 701 123 4567", "+44\u00a020\u202f7946\u20130958", "+99912345678",
		"00(0)1", "+(0)44", "\xff", strings.Repeat("0", 20),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, ok := Normalize(raw)
		if !ok {
			if out != "" {
				t.Fatalf("Normalize(%q) = %q, false; want empty output when not ok", raw, out)
			}
			return
		}
		if !e164Pattern.MatchString(out) {
			t.Fatalf("Normalize(%q) = %q, not E.164", raw, out)
		}
		again, ok := Normalize(out)
		if !ok || again != out {
			t.Fatalf("Normalize(%q) = %q, %v; Normalize(%q) is not a fixed point", out, again, ok, raw)
		}
		// Lookup must accept every normalised number without panicking.
		c, r := Lookup(out)
		if c != "" && !isAlpha2(c) {
			t.Fatalf("Lookup(%q) country %q", out, c)
		}
		if r != "" && !utf8.ValidString(r) {
			t.Fatalf("Lookup(%q) region %q", out, r)
		}
	})
}

func BenchmarkNormalizeAndLookup(b *testing.B) {
	inputs := []string{
		"(415) 555-0100",
		"sip:+14165550100@gw.example.com;user=phone",
		"whatsapp:+447700900123",
		"+14155550100",
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e, ok := Normalize(inputs[i%len(inputs)])
		if !ok {
			b.Fatal("normalise failed")
		}
		c, _ := Lookup(e)
		if c == "" {
			b.Fatal("lookup failed")
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if c, r := Lookup("+14155550100"); c != "US" || r != "US-CA" {
			b.Fatal(c, r)
		}
	}
}
