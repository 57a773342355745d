package ccaas

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"slices"
)

// DerivedID is a stable ccaas.event.id for events that carry no id of their
// own: "sha256:" and 32 hex digits of a hash over the label (a topic,
// trigger or type) and the decoded JSON body in canonical form (keys sorted,
// every value type-tagged and length-prefixed). A redelivery of the same
// event gets the same id whatever its white space or key order; two events
// that differ in any field do not. Keys listed in skip are left out of the
// top-level object (fields a vendor changes when it retries).
func DerivedID(label string, body map[string]any, skip ...string) string {
	buf := make([]byte, 0, 2048)
	buf = appendString(buf, label)
	keys := make([]string, 0, len(body))
	for k := range body {
		if !slices.Contains(skip, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	buf = binary.BigEndian.AppendUint64(append(buf, '{'), uint64(len(keys)))
	for _, k := range keys {
		buf = appendCanonical(appendString(buf, k), body[k])
	}
	sum := sha256.Sum256(buf)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// appendCanonical appends a decoded JSON value unambiguously. Depth is
// bounded by DecodeJSON.
func appendCanonical(buf []byte, v any) []byte {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		buf = binary.BigEndian.AppendUint64(append(buf, '{'), uint64(len(keys)))
		for _, k := range keys {
			buf = appendCanonical(appendString(buf, k), t[k])
		}
		return buf
	case []any:
		buf = binary.BigEndian.AppendUint64(append(buf, '['), uint64(len(t)))
		for _, e := range t {
			buf = appendCanonical(buf, e)
		}
		return buf
	case string:
		return appendString(append(buf, 's'), t)
	case json.Number:
		return appendString(append(buf, 'n'), string(t))
	case bool:
		if t {
			return append(buf, 't')
		}
		return append(buf, 'f')
	default: // nil
		return append(buf, '0')
	}
}

func appendString(buf []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint64(buf, uint64(len(s))), s...)
}
