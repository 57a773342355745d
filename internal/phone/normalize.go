package phone

import (
	"strings"
	"unicode/utf8"
)

// maxScanDigits bounds the digits Normalize collects: 15 (the E.164 maximum)
// plus a leading "00" international prefix.
const maxScanDigits = 17

// uriSchemes are the prefixes Normalize strips, matched case-insensitively.
// sip marks schemes whose user part ends at '@'.
var uriSchemes = [...]struct {
	prefix string
	sip    bool
}{
	{"tel:", false},
	{"sip:", true},
	{"sips:", true},
	{"whatsapp:", false},
	{"sms:", false},
}

// Normalize turns a phone identifier as vendors send it into E.164 ("+15555550520").
// It strips URI schemes and prefixes "tel:", "sip:", "sips:", "whatsapp:", "sms:" (case-insensitive), a SIP URI's
// user part before '@' and any ';params', visual separators (spaces, dots, dashes, parentheses, NBSP), and a leading "00" international prefix.
// NANP numbers written without +1 (10 digits, area code and exchange first digits 2-9) or as 1+10 digits become +1XXXXXXXXXX.
// It returns ok=false for anything that is not a plausible E.164 number (fewer than 8 or more than 15 digits, letters, unknown calling code, empty).
//
// Further rules, in the order they apply:
//   - Surrounding white space and one pair of enclosing angle brackets ("<sip:...>") are removed.
//   - After a URI scheme, everything from the first ';' or '?' on is dropped (tel: and sip: parameters,
//     sms: query). Without a scheme, '@', ';' and '?' are not accepted, so e-mail addresses are rejected.
//   - Separators are ASCII space, tab, '.', '-', '/', '(' and ')', and the Unicode spaces and dashes
//     U+00A0, U+2007, U+2009, U+202F, U+3000, U+2010–U+2015 and U+2212. Any other character, including
//     letters (vanity numbers, "ext"), makes the input invalid.
//   - '+' is accepted only before the first digit.
//   - In an international number (one written with '+' or "00"), a parenthesised trunk prefix "(0)" after
//     the country code is dropped: "+44 (0) 20 7946 0958" becomes "+442079460958". A bare trunk 0
//     ("+44 020 ...") is kept, as E.164 gives no general way to tell it from a significant 0 (Italy).
//   - Digits written without '+' or "00" are accepted only in the two NANP shapes above; any other
//     national number is rejected because its country cannot be known.
//   - Numbers under +1 must have exactly ten digits after the 1, with area code and exchange starting 2-9.
//
// The result is a fixed point: Normalize(e164) returns e164 unchanged. When raw is already in canonical
// form Normalize returns it without allocating; otherwise it allocates the result string once.
func Normalize(raw string) (e164 string, ok bool) {
	s := strings.TrimSpace(raw)
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	for _, sc := range uriSchemes {
		if len(s) >= len(sc.prefix) && strings.EqualFold(s[:len(sc.prefix)], sc.prefix) {
			s = s[len(sc.prefix):]
			if sc.sip {
				if i := strings.IndexByte(s, '@'); i >= 0 {
					s = s[:i]
				}
			}
			if i := strings.IndexAny(s, ";?"); i >= 0 {
				s = s[:i]
			}
			break
		}
	}

	var digits [maxScanDigits]byte
	n := 0
	plus := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(digits) {
				return "", false
			}
			digits[n] = c
			n++
			i++
		case c == '+':
			if plus || n > 0 {
				return "", false
			}
			plus = true
			i++
		case c == '(' && n > 0 && i+2 < len(s) && s[i+1] == '0' && s[i+2] == ')' &&
			(plus || (n > 2 && digits[0] == '0' && digits[1] == '0')):
			i += 3 // trunk prefix "(0)" written after the country code
		case c < utf8.RuneSelf:
			if !isASCIISeparator(c) {
				return "", false
			}
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !isUnicodeSeparator(r) {
				return "", false
			}
			i += size
		}
	}

	d := digits[:n]
	var out [1 + maxScanDigits]byte
	out[0] = '+'
	k := 1
	switch {
	case plus:
	case n >= 2 && d[0] == '0' && d[1] == '0':
		d = d[2:]
	case n == 10 && nanpShape(d):
		out[1] = '1'
		k = 2
	case n == 11 && d[0] == '1' && nanpShape(d[1:]):
	default:
		return "", false
	}
	k += copy(out[k:], d)
	if !plausible(out[1:k]) {
		return "", false
	}
	if raw == string(out[:k]) { // comparison does not allocate
		return raw, true
	}
	return string(out[:k]), true
}

// nanpShape reports whether ten digits look like a NANP number: NXX-NXX-XXXX with N in 2-9.
func nanpShape(d []byte) bool {
	return len(d) == 10 && d[0] >= '2' && d[3] >= '2'
}

// plausible reports whether ds, the digits of an E.164 number without '+', has an acceptable length,
// starts with an assigned calling code, and, under +1, has the NANP shape.
func plausible(ds []byte) bool {
	if len(ds) < 8 || len(ds) > 15 || ds[0] == '0' {
		return false
	}
	e := &callingTable[prefix3(ds[0], ds[1], ds[2])]
	if e.ccLen == 0 {
		return false
	}
	if ds[0] == '1' {
		return nanpShape(ds[1:])
	}
	return true
}

func isASCIISeparator(c byte) bool {
	switch c {
	case ' ', '\t', '.', '-', '/', '(', ')':
		return true
	}
	return false
}

func isUnicodeSeparator(r rune) bool {
	switch r {
	case '\u00a0', '\u2007', '\u2009', '\u202f', '\u3000', // no-break, figure, thin, narrow no-break, ideographic spaces
		'\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', // hyphens and dashes
		'\u2212': // minus sign
		return true
	}
	return false
}
