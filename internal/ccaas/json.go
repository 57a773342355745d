package ccaas

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// MaxJSONDepth bounds nesting of vendor JSON; pdata refuses deeper values
// (nested AnyValue depth 100), and no vendor payload comes close.
const MaxJSONDepth = 64

// MaxJSONKeys bounds the keys of one JSON object. Vendor objects have a few
// hundred at most; the bound keeps the cost of a hostile body (65,000
// properties fit in 1 MiB) predictable, and a body above it is refused
// with 400 and a message that names the bound.
const MaxJSONKeys = 10000

// DecodeJSON parses one JSON value (object or array, or a scalar) keeping
// numbers exact (json.Number), with the values encoding/json would give for
// `any` with UseNumber. Trailing data after the value is an error, and so is
// nesting deeper than MaxJSONDepth.
func DecodeJSON(b []byte) (any, error) {
	p := jsonParser{b: b}
	v, err := p.value()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	p.skipSpace()
	if p.i != len(b) {
		return nil, errors.New("invalid JSON: data after the top-level value")
	}
	return v, nil
}

// PutValue stores a decoded JSON value into dst. Integers that fit int64 stay
// integers; other numbers become doubles.
func PutValue(dst pcommon.Value, v any) {
	switch t := v.(type) {
	case nil:
		// leave dst empty
	case string:
		dst.SetStr(t)
	case bool:
		dst.SetBool(t)
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			dst.SetInt(i)
		} else if f, err := t.Float64(); err == nil {
			dst.SetDouble(f)
		} else {
			dst.SetStr(string(t))
		}
	case float64:
		dst.SetDouble(t)
	case map[string]any:
		PutMap(dst.SetEmptyMap(), t)
	case []any:
		s := dst.SetEmptySlice()
		s.EnsureCapacity(len(t))
		for _, e := range t {
			PutValue(s.AppendEmpty(), e)
		}
	default:
		dst.SetStr(fmt.Sprint(t))
	}
}

// PutMap copies a decoded JSON object into dst, in time linear in its keys
// (pcommon.Map.PutEmpty looks for an existing key first, so adding keys one
// by one costs quadratic time on wide objects).
func PutMap(dst pcommon.Map, m map[string]any) {
	if len(m) <= smallMap || dst.Len() > 0 {
		dst.EnsureCapacity(dst.Len() + len(m))
		for k, v := range m {
			PutValue(dst.PutEmpty(k), v)
		}
		return
	}
	// The keys of a Go map are distinct: lay them out in one pass, then
	// fill each value in place.
	keys := make(map[string]any, len(m))
	for k := range m {
		keys[k] = nil
	}
	_ = dst.FromRaw(keys) // nil values cannot fail
	for k, v := range dst.All() {
		PutValue(v, m[k])
	}
}

// smallMap is the size below which adding keys one by one is cheaper than
// laying them out first.
const smallMap = 32

// Get walks a decoded JSON object along path and returns what is there (nil
// when any step is missing or not an object).
func Get(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[p]
	}
	return cur
}

// Lookup finds a dot-separated path in a decoded JSON object, as users
// write paths in configuration ("consent.recording"): the whole path as a
// key first, then its first segment as a key and the rest inside that
// value, so that keys which themselves contain dots still resolve. It
// returns nil when nothing is there.
func Lookup(m map[string]any, path string) any {
	for depth := 0; depth < MaxJSONDepth && m != nil; depth++ {
		if v, ok := m[path]; ok {
			return v
		}
		head, rest, found := strings.Cut(path, ".")
		if !found {
			return nil
		}
		m, _ = m[head].(map[string]any)
		path = rest
	}
	return nil
}

// Str returns the value at path as a string: strings as they are, numbers
// and booleans in their JSON spelling, anything else "".
func Str(m map[string]any, path ...string) string {
	switch t := Get(m, path...).(type) {
	case string:
		return t
	case json.Number:
		return string(t)
	case bool:
		return strconv.FormatBool(t)
	default:
		return ""
	}
}

// Obj returns the object at path, or nil.
func Obj(m map[string]any, path ...string) map[string]any {
	o, _ := Get(m, path...).(map[string]any)
	return o
}

// Arr returns the array at path, or nil.
func Arr(m map[string]any, path ...string) []any {
	a, _ := Get(m, path...).([]any)
	return a
}

// Int returns the integer at path (a JSON number, or a string of digits as
// template-based webhooks send), and whether there was one.
func Int(m map[string]any, path ...string) (int64, bool) {
	switch t := Get(m, path...).(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(t), 10, 64)
		return i, err == nil
	case string:
		i, err := strconv.ParseInt(t, 10, 64)
		return i, err == nil
	default:
		return 0, false
	}
}

// Bool returns the boolean at path, accepting "true"/"false" strings.
func Bool(m map[string]any, path ...string) (bool, bool) {
	switch t := Get(m, path...).(type) {
	case bool:
		return t, true
	case string:
		b, err := strconv.ParseBool(t)
		return b, err == nil
	default:
		return false, false
	}
}

// Size counts the values in a decoded JSON value (objects and arrays count
// as one each, plus their contents), stopping once it passes limit.
func Size(v any, limit int) int {
	n := 1
	switch t := v.(type) {
	case map[string]any:
		for _, e := range t {
			if n > limit {
				break
			}
			n += Size(e, limit-n)
		}
	case []any:
		for _, e := range t {
			if n > limit {
				break
			}
			n += Size(e, limit-n)
		}
	}
	return n
}

// CheckFanOut bounds what one request may make of the parts of its body
// that every one of its events gets a copy of (a Segment batch's context,
// the rest of a webhook around each of its results): copies of shared
// values, in total, at most the body's size in bytes. Each JSON value takes
// at least two bytes, so the records of a request stay linear in its size;
// real deliveries are far below (a batch's context is a few dozen values).
func CheckFanOut(copies int, shared any, bodyLen int) error {
	if copies <= 1 || shared == nil {
		return nil
	}
	budget := max(bodyLen, 4096)
	if size := Size(shared, budget/copies+1); copies*size > budget {
		return fmt.Errorf("the %d events of this request would each get a copy of %d shared values, more than the body's size allows (%d values in all): send fewer events per request or a smaller shared part", copies, size, budget)
	}
	return nil
}
