package ledger

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/consentry/consentry/internal/ledger/keys"
)

// TestKeyCacheBytes: the data-key cache stays within its byte bound, and
// the bound is honest: the heap the cached keys hold is within the
// estimate (dataKeyOverhead is calibrated by this test).
func TestKeyCacheBytes(t *testing.T) {
	ring, err := keys.NewKeyring([]KEK{{ID: "k", Key: []byte("consentry-ledger-keycache-test!!")}}, "")
	if err != nil {
		t.Fatal(err)
	}
	const maxBytes = 4 << 20
	l := &Ledger{opts: Options{DataKeyMaxAge: time.Hour}, now: time.Now, keys: newKeyCache(1<<30, maxBytes), ring: ring}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	const n = 50000
	for i := range n {
		if _, err := l.subjectKey("tenant-0001", "sk1_"+strconv.Itoa(1e9+i)); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	held := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
	c := l.keys
	t.Logf("%d keys cached, %d bytes estimated, %d bytes of heap held (%d per key)", len(c.m), c.bytes, held, held/int64(len(c.m)))
	if c.bytes > maxBytes || len(c.m) == 0 || len(c.m) == n {
		t.Fatalf("%d keys, %d bytes: the bound did not hold", len(c.m), c.bytes)
	}
	if held > c.bytes*5/4 {
		t.Fatalf("the cache holds %d bytes of heap for an estimate of %d: raise dataKeyOverhead", held, c.bytes)
	}
	runtime.KeepAlive(l)
}
