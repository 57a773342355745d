package twilioreceiver

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// maxFormParams bounds the parameters of one callback. Twilio sends a few
// dozen; the limit keeps a hostile body from costing a sort of millions.
const maxFormParams = 1000

type param struct{ key, value string }

// form is an application/x-www-form-urlencoded body with every value kept,
// in the order received (Twilio's signature covers repeated keys too).
type form struct {
	params []param
}

// errForm is a body that is not valid form encoding.
type errForm string

func (e errForm) Error() string { return string(e) }

// parseForm decodes a form body. Unlike url.ParseQuery it keeps the order of
// parameters and refuses (rather than drops) a malformed escape.
func parseForm(body []byte) (*form, error) {
	s := string(body)
	f := &form{params: make([]param, 0, strings.Count(s, "&")+1)}
	for s != "" {
		var kv string
		kv, s, _ = strings.Cut(s, "&")
		if kv == "" {
			continue
		}
		if len(f.params) == maxFormParams {
			return nil, errForm("the form has more than 1000 parameters")
		}
		k, v, _ := strings.Cut(kv, "=")
		key, err := unescape(k)
		if err != nil {
			return nil, errForm("the form has an invalid %-escape in a parameter name")
		}
		val, err := unescape(v)
		if err != nil {
			return nil, errForm("the form has an invalid %-escape in the value of " + strings.ToValidUTF8(key, "\uFFFD"))
		}
		f.params = append(f.params, param{key, val})
	}
	return f, nil
}

// unescape decodes one form component; most need no decoding, and those
// are returned as they are (a substring of the body, no copy).
func unescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	return url.QueryUnescape(s)
}

// get returns the first value of key, or "".
func (f *form) get(key string) string {
	for i := range f.params {
		if f.params[i].key == key {
			return f.params[i].value
		}
	}
	return ""
}

// canonical is what Twilio appends to the URL before signing: every
// parameter name followed by its value, sorted by name; a name with several
// values contributes each distinct value once, in sorted order (the
// behaviour of Twilio's Node.js library; for single values every Twilio
// library agrees).
func (f *form) canonical() []byte {
	if len(f.params) == 0 {
		return nil
	}
	sorted := slices.Clone(f.params)
	sortParams(sorted)
	sorted = slices.Compact(sorted)
	n := 0
	for _, p := range sorted {
		n += len(p.key) + len(p.value)
	}
	out := make([]byte, 0, n)
	for _, p := range sorted {
		out = append(out, p.key...)
		out = append(out, p.value...)
	}
	return out
}

// digest is a short stable hash of the parameters (in canonical order)
// without the named one: it tells a retry of a callback (same parameters)
// from a new one. skip names a parameter that changes between retries
// (Conversations' RetryCount).
func (f *form) digest(skip string) string {
	sorted := make([]param, 0, len(f.params))
	for _, p := range f.params {
		if p.key != skip {
			sorted = append(sorted, p)
		}
	}
	sortParams(sorted)
	h := sha256.New()
	for _, p := range sorted {
		// NUL separators: unlike Twilio's signing string, unambiguous.
		h.Write([]byte(p.key))
		h.Write([]byte{0})
		h.Write([]byte(p.value))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// sortParams orders parameters by name, then value, byte-wise.
func sortParams(ps []param) {
	slices.SortFunc(ps, func(a, b param) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
}

// putBody writes the form into m: one string per parameter, or a list of
// strings for a parameter sent several times, in the order received.
// Invalid UTF-8 is replaced, as encoding/json does for JSON bodies.
func (f *form) putBody(m pcommon.Map) {
	m.EnsureCapacity(len(f.params))
	for i, p := range f.params {
		key := validUTF8(p.key)
		if _, seen := m.Get(key); seen {
			continue
		}
		n := 0
		for _, q := range f.params[i:] {
			if q.key == p.key {
				n++
			}
		}
		if n == 1 {
			m.PutStr(key, validUTF8(p.value))
			continue
		}
		s := m.PutEmptySlice(key)
		s.EnsureCapacity(n)
		for _, q := range f.params[i:] {
			if q.key == p.key {
				s.AppendEmpty().SetStr(validUTF8(q.value))
			}
		}
	}
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
