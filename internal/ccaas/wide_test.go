package ccaas

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// wideObject is a JSON object of n keys.
func wideObject(n int) []byte {
	var b strings.Builder
	b.Grow(n * 16)
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

func wideMap(n int) map[string]any {
	m := make(map[string]any, n)
	for i := range n {
		m["k"+strconv.Itoa(i)] = "v"
	}
	return m
}

// TestWideObjectMapCost: copying a decoded object into a pcommon.Map costs
// time linear in its keys. Building it key by key with PutEmpty scanned the
// map for every key: 65,000 properties (under the 1 MiB body limit, through
// the public Segment write key) took 10 s of CPU (30 s on this machine).
// Linear, it takes tens of milliseconds; the bound (3 s) leaves room for a
// loaded machine and none for a quadratic build. BenchmarkWideObject shows
// the cost per key from 10,000 to 100,000 keys.
func TestWideObjectMapCost(t *testing.T) {
	const bound = 3 * time.Second
	m := wideMap(65000)
	done := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		PutMap(pcommon.NewMap(), m)
		done <- time.Since(start)
	}()
	select {
	case d := <-done:
		t.Logf("65,000 keys in %v", d)
	case <-time.After(bound):
		t.Fatalf("65,000 keys: still building the map after %v: the build is not linear", bound)
	}
	dst := pcommon.NewMap()
	PutMap(dst, map[string]any{"a": "x", "b": map[string]any{"c": []any{"d"}}})
	if got := dst.AsRaw(); fmt.Sprint(got) != "map[a:x b:map[c:[d]]]" {
		t.Fatalf("PutMap gave %v", got)
	}
	wide := pcommon.NewMap()
	PutMap(wide, map[string]any{"n": json.Number("7"), "s": "x"})
	PutMap(wide, wideMap(100))
	if v, _ := wide.Get("n"); wide.Len() != 102 || v.Int() != 7 {
		t.Fatalf("PutMap into a non-empty map: %d keys, n=%v", wide.Len(), v.AsRaw())
	}
}

// TestWideObjectKeyCap: an object with more than MaxJSONKeys keys is
// refused, with an error that says so (the receivers answer 400).
func TestWideObjectKeyCap(t *testing.T) {
	if _, err := DecodeJSON(wideObject(MaxJSONKeys)); err != nil {
		t.Fatalf("%d keys must be accepted: %v", MaxJSONKeys, err)
	}
	_, err := DecodeJSON(wideObject(MaxJSONKeys + 1))
	if err == nil || !strings.Contains(err.Error(), "more than "+strconv.Itoa(MaxJSONKeys)+" keys") {
		t.Fatalf("%d keys: got %v, want a refusal naming the cap", MaxJSONKeys+1, err)
	}
	// The cap is per object: many objects below it are fine.
	many := "[" + strings.Repeat(string(wideObject(MaxJSONKeys/2))+",", 3) + "{}]"
	if _, err := DecodeJSON([]byte(many)); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkWideObject shows the cost of wide objects is linear in the
// keys: ns/key stays flat from 10,000 to 100,000 keys.
//
//   - putmap: one decoded object of N keys copied into a pcommon.Map (no
//     cap applies here);
//   - request: what a receiver does with a body of N keys in objects of
//     MaxJSONKeys keys (the most the parser accepts per object): decode,
//     then copy each object into a log record's body.
func BenchmarkWideObject(b *testing.B) {
	for _, n := range []int{10000, 50000, 100000} {
		b.Run(fmt.Sprintf("putmap/keys=%d", n), func(b *testing.B) {
			m := wideMap(n)
			b.ReportAllocs()
			for b.Loop() {
				PutMap(pcommon.NewMap(), m)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/key")
		})
		b.Run(fmt.Sprintf("request/keys=%d", n), func(b *testing.B) {
			parts := make([]string, 0, n/MaxJSONKeys)
			for range n / MaxJSONKeys {
				parts = append(parts, string(wideObject(MaxJSONKeys)))
			}
			body := []byte("[" + strings.Join(parts, ",") + "]")
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				v, err := DecodeJSON(body)
				if err != nil {
					b.Fatal(err)
				}
				for _, o := range v.([]any) {
					PutMap(pcommon.NewMap(), o.(map[string]any))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/key")
		})
	}
}

// TestFanOutIsBounded: a request whose events each get a copy of a shared
// part of the body (a Segment batch's context) may not multiply its size:
// 1,000 events with a context of 1,000 keys would be a million values from
// about 20 KB.
func TestFanOutIsBounded(t *testing.T) {
	ctx := wideMap(1000)
	if err := CheckFanOut(1000, ctx, 20000); err == nil || !strings.Contains(err.Error(), "1000 events") {
		t.Fatalf("a 1000 x 1000 fan-out: %v", err)
	}
	if err := CheckFanOut(100, map[string]any{"library": map[string]any{"name": "analytics.js", "version": "2"}, "ip": "x"}, 30000); err != nil {
		t.Fatalf("a real batch context: %v", err)
	}
	if err := CheckFanOut(1, ctx, 10); err != nil {
		t.Fatal(err)
	}
	if n := Size(map[string]any{"a": []any{1, 2}, "b": "c"}, 100); n != 5 {
		t.Fatalf("Size = %d", n)
	}
}
