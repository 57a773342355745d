package subject

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/consentry/consentry/internal/phone"
)

// IDType says what kind of identifier a subject key was derived from. It is part of the
// HMAC input, so the same string under two types gives two unrelated keys.
type IDType string

const (
	IDTypePhone  IDType = "phone"
	IDTypeEmail  IDType = "email"
	IDTypeOpaque IDType = "opaque" // vendor user id, anonymous id, external contact id...
)

// Errors returned by Normalize, Detect, KeyRaw and NewKeyer. They never include the identifier
// itself, so they are safe to log.
var (
	ErrEmpty        = errors.New("subject: empty identifier")
	ErrInvalidPhone = errors.New("subject: not a valid phone number")
	ErrInvalidEmail = errors.New("subject: not a valid e-mail address")
	ErrUnknownType  = errors.New("subject: unknown identifier type")
	ErrShortSalt    = errors.New("subject: salt must be at least 16 bytes")
)

// Normalize returns the canonical form of an identifier: E.164 for phones (via phone.Normalize), lower-cased and trimmed for emails
// (also strips "mailto:"; reject strings without exactly one '@' or with spaces), trimmed for opaque ids (reject empty).
// Detect guesses the type when the caller does not know it: an '@' with a dot in the domain -> email, a phone.Normalize success -> phone, else opaque.
//
// E-mail details: a "mailto:" prefix (any case) and its "?query" are removed; the address is
// rejected if it contains white space or control characters, is not valid UTF-8, has an empty local
// part or domain, has one of :;,<>()[]\" in it (quoted local parts and display names are not
// supported), or a domain that starts or ends with '.' or contains "..". Lower-casing uses Unicode
// case mapping; no other Unicode normalisation is applied.
//
// Opaque ids are only trimmed of surrounding white space: their case and inner content are kept.
func Normalize(t IDType, raw string) (string, error) {
	switch t {
	case IDTypePhone:
		if e, ok := phone.Normalize(raw); ok {
			return e, nil
		}
		if strings.TrimSpace(raw) == "" {
			return "", ErrEmpty
		}
		return "", ErrInvalidPhone
	case IDTypeEmail:
		return normalizeEmail(raw)
	case IDTypeOpaque:
		s := strings.TrimSpace(raw)
		if s == "" {
			return "", ErrEmpty
		}
		return s, nil
	}
	return "", ErrUnknownType
}

// Detect guesses the type of raw and returns it with the normalised identifier.
//
// The phone test runs first: the only strings both tests accept are SIP URIs such as
// "sip:+14155550100@pbx.example.com", which are phone numbers. A string with an '@' and a dotted
// domain that is not a valid e-mail address (two '@', spaces, ...) is returned as opaque, as is any
// other non-empty string. Numeric vendor ids in a NANP shape (ten digits, or 1 + ten digits) are
// indistinguishable from phone numbers and are detected as phones; callers that know the type
// should use Normalize instead.
func Detect(raw string) (IDType, string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", "", ErrEmpty
	}
	if e, ok := phone.Normalize(s); ok {
		return IDTypePhone, e, nil
	}
	if looksLikeEmail(s) {
		if e, err := normalizeEmail(s); err == nil {
			return IDTypeEmail, e, nil
		}
	}
	return IDTypeOpaque, s, nil
}

// looksLikeEmail reports whether s has an '@' followed by a domain containing a dot.
func looksLikeEmail(s string) bool {
	i := strings.LastIndexByte(s, '@')
	return i >= 0 && strings.Contains(s[i+1:], ".")
}

func normalizeEmail(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	const mailto = "mailto:"
	if len(s) >= len(mailto) && strings.EqualFold(s[:len(mailto)], mailto) {
		s = s[len(mailto):]
		if i := strings.IndexByte(s, '?'); i >= 0 {
			s = s[:i]
		}
	}
	if s == "" {
		return "", ErrEmpty
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return "", ErrInvalidEmail
	}
	if !utf8.ValidString(s) || strings.ContainsAny(s, `:;,<>()[]\"`) {
		return "", ErrInvalidEmail
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", ErrInvalidEmail
		}
	}
	domain := s[at+1:]
	if domain[0] == '.' || domain[len(domain)-1] == '.' || strings.Contains(domain, "..") {
		return "", ErrInvalidEmail
	}
	return strings.ToLower(s), nil
}
