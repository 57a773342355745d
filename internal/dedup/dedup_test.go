package dedup

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeClock struct{ t time.Time }

func (f *fakeClock) now() time.Time { return f.t }

func newTestCache(maxEntries int, ttl time.Duration) (*Cache, *fakeClock) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	c := New(maxEntries, ttl)
	c.now = clk.now
	return c, clk
}

func TestSeenAfterAdd(t *testing.T) {
	c, _ := newTestCache(1000, time.Hour)
	assert.False(t, c.Seen("genesys/org/evt-1"))
	c.Add("genesys/org/evt-1")
	assert.True(t, c.Seen("genesys/org/evt-1"))
	assert.False(t, c.Seen("genesys/org/evt-2"))
	assert.False(t, c.Seen(""), "the empty key is never a duplicate")
}

func TestExpiry(t *testing.T) {
	c, clk := newTestCache(1000, time.Hour)
	c.Add("a")
	clk.t = clk.t.Add(59 * time.Minute)
	assert.True(t, c.Seen("a"))
	clk.t = clk.t.Add(2 * time.Minute)
	assert.False(t, c.Seen("a"), "expired after the TTL")
	c.Add("a")
	assert.True(t, c.Seen("a"), "a key can be added again once expired")
}

func TestRefreshKeepsKeyAlive(t *testing.T) {
	c, clk := newTestCache(1000, time.Hour)
	c.Add("a")
	clk.t = clk.t.Add(50 * time.Minute)
	c.Add("a")
	clk.t = clk.t.Add(50 * time.Minute)
	c.Add("b") // sweeps the first ring slot of "a"; the refreshed entry must survive
	assert.True(t, c.Seen("a"))
}

func TestBoundedEvictsOldest(t *testing.T) {
	c, _ := newTestCache(shardCount*4, time.Hour)
	for i := range 10_000 {
		c.Add(fmt.Sprintf("k%d", i))
	}
	assert.LessOrEqual(t, c.Len(), shardCount*4)
	assert.True(t, c.Seen("k9999"), "the newest key is kept")
	assert.False(t, c.Seen("k0"), "the oldest key is evicted")
}

// TestSizedByUse: a cache allows for many entries but holds memory for
// those it has; growing keeps the oldest-first eviction.
func TestSizedByUse(t *testing.T) {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	c, _ := newTestCache(1_000_000, time.Hour)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	assert.Less(t, int64(m1.HeapAlloc)-int64(m0.HeapAlloc), int64(256<<10), "an empty cache for a million entries")
	for i := range 3000 {
		c.Add(fmt.Sprintf("k%d", i))
	}
	for i := range 3000 {
		require.True(t, c.Seen(fmt.Sprintf("k%d", i)))
	}
	runtime.KeepAlive(c)

	small, _ := newTestCache(shardCount*40, time.Hour) // grows 16, 32, 40 per shard
	for i := range 10_000 {
		small.Add(fmt.Sprintf("k%d", i))
	}
	assert.LessOrEqual(t, small.Len(), shardCount*40)
	assert.True(t, small.Seen("k9999"), "the newest key is kept")
	assert.False(t, small.Seen("k0"), "the oldest key is evicted")
}

// TestMemoryPerEntry: what a full cache costs, as the receivers' READMEs
// state it (about 60-65 bytes an entry: the key's two hashes, its expiry,
// the map's slot and the eviction order), so that operators can size
// dedup.max_entries; a regression past 80 bytes fails.
func TestMemoryPerEntry(t *testing.T) {
	const n = 200_000
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	c, _ := newTestCache(n, time.Hour)
	for i := range n {
		c.Add(fmt.Sprintf("tenant/vendor/event-%d", i))
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	held := c.Len()
	per := float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / float64(held)
	t.Logf("%.1f bytes an entry with %d entries", per, held)
	assert.GreaterOrEqual(t, held, n*99/100, "per-shard bounds evict a little early, no more")
	assert.Greater(t, per, 32.0, "the two 64-bit hashes and the expiry alone take 24 bytes")
	assert.Less(t, per, 80.0)
	runtime.KeepAlive(c)
}

func TestNilCache(t *testing.T) {
	var c *Cache
	c.Add("x")
	assert.False(t, c.Seen("x"))
	assert.Equal(t, 0, c.Len())
}

func TestConcurrent(t *testing.T) {
	c := New(100_000, time.Hour)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5000 {
				k := fmt.Sprintf("%d-%d", g, i)
				c.Add(k)
				require.True(t, c.Seen(k))
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 40_000, c.Len())
}

func BenchmarkSeenAdd(b *testing.B) {
	c := New(200_000, time.Hour)
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = fmt.Sprintf("genesys/8f5d1c7e-0b1a-4c61-9a57-2b2d9b7a%04d", i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			k := keys[i%len(keys)]
			if !c.Seen(k) {
				c.Add(k)
			}
			i++
		}
	})
}
