package gpp

import "strings"

// bitWriter is a test-only encoder for building edge-case strings. It is
// deliberately naive and shares no code with the decoder.
type bitWriter struct{ bits []byte }

func (w *bitWriter) uint(v uint64, n int) *bitWriter {
	for i := n - 1; i >= 0; i-- {
		w.bits = append(w.bits, byte(v>>uint(i)&1))
	}
	return w
}

func (w *bitWriter) bool(b bool) *bitWriter {
	if b {
		return w.uint(1, 1)
	}
	return w.uint(0, 1)
}

// raw appends '0'/'1' characters; anything else is ignored.
func (w *bitWriter) raw(s string) *bitWriter {
	for _, c := range s {
		if c == '0' || c == '1' {
			w.bits = append(w.bits, byte(c-'0'))
		}
	}
	return w
}

// fib appends the Fibonacci code of v >= 1, following the encoding steps in
// the GPP Consent String Specification ("About Fibonacci Encoding").
func (w *bitWriter) fib(v int) *bitWriter {
	w.raw(fibCode(v))
	return w
}

func fibCode(v int) string {
	fibs := []int{1, 2}
	for fibs[len(fibs)-1] <= v {
		fibs = append(fibs, fibs[len(fibs)-1]+fibs[len(fibs)-2])
	}
	code := make([]byte, len(fibs))
	for i := range code {
		code[i] = '0'
	}
	last := 0
	for i := len(fibs) - 1; i >= 0 && v > 0; i-- {
		if fibs[i] <= v {
			code[i] = '1'
			v -= fibs[i]
			if i > last {
				last = i
			}
		}
	}
	return string(code[:last+1]) + "1"
}

// String pads with zero bits to a multiple of 6 and encodes as base64url.
func (w *bitWriter) String() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var sb strings.Builder
	for i := 0; i < len(w.bits); i += 6 {
		v := 0
		for j := 0; j < 6; j++ {
			v <<= 1
			if i+j < len(w.bits) {
				v |= int(w.bits[i+j])
			}
		}
		sb.WriteByte(alphabet[v])
	}
	return sb.String()
}

// header encodes a GPP header listing ids (ascending) with the same grouping
// rule as the reference encoders: runs of consecutive IDs become groups.
func header(ids ...int) string {
	w := (&bitWriter{}).uint(HeaderType, 6).uint(HeaderVersion, 6)
	type group struct{ lo, hi int }
	var groups []group
	for _, id := range ids {
		if n := len(groups); n > 0 && groups[n-1].hi+1 == id {
			groups[n-1].hi = id
			continue
		}
		groups = append(groups, group{id, id})
	}
	w.uint(uint64(len(groups)), 12)
	last := 0
	for _, g := range groups {
		if g.lo == g.hi {
			w.bool(false).fib(g.lo - last)
		} else {
			w.bool(true).fib(g.lo - last).fib(g.hi - g.lo)
		}
		last = g.hi
	}
	return w.String()
}
