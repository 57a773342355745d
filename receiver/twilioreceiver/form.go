package twilioreceiver

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/consentry/consentry/internal/ccaas"
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

// repeatable names the parameters Twilio sends more than once in one
// callback: Conversations lists each address of a group conversation in
// MessagingBinding.Address. Any other name sent twice is refused: Twilio
// never does it, and since its signing string has no separators, a
// repeated pair signs exactly like a single one.
var repeatable = map[string]bool{"MessagingBinding.Address": true}

// parseForm decodes a form body. Unlike url.ParseQuery it keeps the order of
// parameters and refuses (rather than drops) a malformed escape, a name
// sent twice that Twilio never repeats, and a repeated name and value.
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
	return f, f.checkRepeats()
}

// checkRepeats refuses repeated names, except those Twilio repeats, and
// repeated pairs.
func (f *form) checkRepeats() error {
	if len(f.params) < 2 {
		return nil
	}
	sorted := slices.Clone(f.params)
	sortParams(sorted)
	for i := 1; i < len(sorted); i++ {
		p, prev := sorted[i], sorted[i-1]
		if p.key == prev.key && (p.value == prev.value || !repeatable[p.key]) {
			return errForm("parameter " + strconv.Quote(strings.ToValidUTF8(p.key, "\uFFFD")) + " is sent more than once, which Twilio never does")
		}
	}
	return nil
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

// signedID is the event id of a form callback: kind and a hash of exactly
// what Twilio signed (every name and value, sorted), so that one signature
// can never become two events. Twilio's signing string concatenates names
// and values without separators, so a parse of the same signed bytes with
// a boundary moved (RecordingStatus=completed as RecordingStatusc=ompleted)
// has the same id, and is a duplicate of the original, whatever it seems to
// say. withoutRetries leaves out the retry counter of Conversations
// webhooks (RetryCount followed by its digits, found in the signed bytes
// themselves, not in the parse), so that a retry is a duplicate too.
func (f *form) signedID(kind string, withoutRetries bool) string {
	signed := f.canonical()
	if withoutRetries {
		signed = retryCount.ReplaceAll(signed, nil)
	}
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(signed)
	return kind + ":" + hex.EncodeToString(h.Sum(nil)[:16])
}

// retryCount is Conversations' retry counter in a signing string.
var retryCount = regexp.MustCompile(`RetryCount[0-9]+`)

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
	raw := make(map[string]any, len(f.params))
	for _, p := range f.params {
		key, val := validUTF8(p.key), validUTF8(p.value)
		switch prev := raw[key].(type) {
		case nil:
			raw[key] = val
		case string:
			raw[key] = []any{prev, val}
		case []any:
			raw[key] = append(prev, val)
		}
	}
	ccaas.PutMap(m, raw)
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
