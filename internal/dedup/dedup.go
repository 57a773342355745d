// Package dedup remembers which vendor events were already accepted, so that
// a vendor's retry of an event we acknowledged is answered without producing
// a second record.
//
// The cache is bounded (oldest entries are evicted first) and every entry
// expires after a TTL. Keys are stored as 128-bit hashes, so memory per entry
// is fixed (about 60-65 bytes with the map and the eviction order;
// TestMemoryPerEntry) whatever the vendor's id length. A false positive
// would drop an event, so two independent 64-bit hashes are used: with a
// million entries the chance of any collision is below 1e-26.
//
// The ledger adds a durable check later; this cache only spares the pipeline
// the common case of a retry arriving seconds or hours after the first try.
package dedup

import (
	"hash/maphash"
	"sync"
	"time"
)

const shardCount = 64

type key struct{ a, b uint64 }

type entry struct {
	k       key
	expires int64
}

type shard struct {
	mu    sync.Mutex
	items map[key]int64 // key -> expiry, unix nanoseconds
	ring  []entry       // insertion order; ring[head] is the oldest
	head  int
	size  int
	max   int // the ring grows (doubling) up to max entries
}

// Cache is a bounded, expiring set of event keys. It is safe for concurrent use.
// A nil *Cache remembers nothing.
type Cache struct {
	ttl    time.Duration
	seedA  maphash.Seed
	seedB  maphash.Seed
	shards [shardCount]shard
	now    func() time.Time
}

// New returns a cache holding at most maxEntries keys for ttl each.
// maxEntries is rounded up to a multiple of the shard count.
func New(maxEntries int, ttl time.Duration) *Cache {
	if maxEntries < shardCount {
		maxEntries = shardCount
	}
	per := (maxEntries + shardCount - 1) / shardCount
	c := &Cache{ttl: ttl, seedA: maphash.MakeSeed(), seedB: maphash.MakeSeed(), now: time.Now}
	for i := range c.shards {
		// Sized by use: an idle receiver holds a few KiB, not maxEntries.
		c.shards[i].items = map[key]int64{}
		c.shards[i].max = per
	}
	return c
}

func (c *Cache) hash(s string) key {
	return key{maphash.String(c.seedA, s), maphash.String(c.seedB, s)}
}

// Seen reports whether k was added and has not expired or been evicted.
func (c *Cache) Seen(k string) bool {
	if c == nil || k == "" {
		return false
	}
	h := c.hash(k)
	sh := &c.shards[h.a%shardCount]
	now := c.now().UnixNano()
	sh.mu.Lock()
	exp, ok := sh.items[h]
	sh.mu.Unlock()
	return ok && exp > now
}

// Add remembers k for the cache's TTL. Adding a key again refreshes it.
func (c *Cache) Add(k string) {
	if c == nil || k == "" {
		return
	}
	h := c.hash(k)
	sh := &c.shards[h.a%shardCount]
	now := c.now()
	exp := now.Add(c.ttl).UnixNano()
	nowNano := now.UnixNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	// Drop expired entries from the old end first; they are in expiry order.
	for sh.size > 0 {
		old := sh.ring[sh.head]
		if old.expires > nowNano {
			break
		}
		sh.evictOldest()
	}
	if sh.size == len(sh.ring) {
		if len(sh.ring) < sh.max {
			sh.grow()
		} else {
			sh.evictOldest()
		}
	}
	sh.items[h] = exp
	tail := (sh.head + sh.size) % len(sh.ring)
	sh.ring[tail] = entry{k: h, expires: exp}
	sh.size++
}

// grow doubles the ring (up to max), keeping the entries in order.
func (sh *shard) grow() {
	ring := make([]entry, min(sh.max, max(16, 2*len(sh.ring))))
	for i := range sh.size {
		ring[i] = sh.ring[(sh.head+i)%len(sh.ring)]
	}
	sh.ring, sh.head = ring, 0
}

// evictOldest removes the oldest ring entry; the map entry goes only if it
// still belongs to that ring slot (a refreshed key has a later expiry).
func (sh *shard) evictOldest() {
	old := sh.ring[sh.head]
	if exp, ok := sh.items[old.k]; ok && exp == old.expires {
		delete(sh.items, old.k)
	}
	sh.head = (sh.head + 1) % len(sh.ring)
	sh.size--
}

// Len is the number of live keys (expired keys not yet swept may be counted).
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		c.shards[i].mu.Lock()
		n += len(c.shards[i].items)
		c.shards[i].mu.Unlock()
	}
	return n
}
