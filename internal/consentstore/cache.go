package consentstore

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// CacheConfig configures a Cache.
type CacheConfig struct {
	// TTL is how long a subject's records are served from the cache. It
	// bounds how stale a lookup can be when records change without going
	// through this cache and the store is not a Notifier.
	TTL time.Duration
	// NegativeTTL is how long "this subject has no records" is served from
	// the cache. Most subjects have no records, so this keeps most lookups
	// off the store; it also bounds how long consent recorded elsewhere
	// takes to be seen for a subject never seen with consent before.
	NegativeTTL time.Duration
	// MaxEntries bounds the number of cached subjects; beyond it, arbitrary
	// entries are evicted (an evicted subject is simply looked up again).
	MaxEntries int
}

// Result says how a lookup was answered.
type Result int

// Lookup results.
const (
	Hit         Result = iota // served from the cache: the subject has records
	NegativeHit               // served from the cache: the subject has no records
	Miss                      // read from the store
	Error                     // the store failed
)

func (r Result) String() string {
	switch r {
	case Hit:
		return "hit"
	case NegativeHit:
		return "negative_hit"
	case Miss:
		return "miss"
	default:
		return "error"
	}
}

const cacheShards = 64

// Cache is a read-through cache in front of a Store. It caches positive
// and negative answers for their TTLs, never caches errors, and drops a
// subject's entry when a record is appended through it, or when the store
// (a Notifier) reports a change. It implements Store itself.
type Cache struct {
	store  Store
	ttl    int64
	negTTL int64
	now    func() time.Time
	seed   maphash.Seed
	shards [cacheShards]cacheShard
	unsub  func()
	clock  *coarseClock

	hits, negHits, misses, errs atomic.Int64
}

type cacheShard struct {
	mu  sync.RWMutex
	m   map[Key]cacheEntry
	max int
	// gen is bumped by every invalidation, so that a lookup that read the
	// store before an append cannot put its stale answer back afterwards.
	gen uint64
}

type cacheEntry struct {
	recs    []Record
	expires int64 // unix nanoseconds
}

var _ Store = (*Cache)(nil)

// NewCache returns a cache in front of store. If store implements Notifier,
// the cache subscribes to it until Close.
func NewCache(store Store, cfg CacheConfig) *Cache {
	c := &Cache{store: store, ttl: int64(cfg.TTL), negTTL: int64(cfg.NegativeTTL), seed: maphash.MakeSeed()}
	c.clock = newCoarseClock(clockResolution)
	c.now = c.clock.now
	perShard := cfg.MaxEntries / cacheShards
	if perShard < 1 {
		perShard = 1
	}
	for i := range c.shards {
		c.shards[i].m = make(map[Key]cacheEntry)
		c.shards[i].max = perShard
	}
	if n, ok := store.(Notifier); ok {
		c.unsub = n.Subscribe(c.Invalidate)
	}
	return c
}

// Close unsubscribes from the store's notifications and stops the cache's
// clock.
func (c *Cache) Close() {
	if c.unsub != nil {
		c.unsub()
		c.unsub = nil
	}
	c.clock.stop()
}

// clockResolution is the precision of the TTLs: reading the clock on every
// lookup costs more than the rest of a hit.
const clockResolution = 100 * time.Millisecond

// coarseClock is a clock updated by a ticker.
type coarseClock struct {
	t    atomic.Int64
	done chan struct{}
	once sync.Once
}

func newCoarseClock(res time.Duration) *coarseClock {
	c := &coarseClock{done: make(chan struct{})}
	c.t.Store(time.Now().UnixNano())
	go func() {
		tk := time.NewTicker(res)
		defer tk.Stop()
		for {
			select {
			case <-c.done:
				return
			case t := <-tk.C:
				c.t.Store(t.UnixNano())
			}
		}
	}()
	return c
}

func (c *coarseClock) now() time.Time { return time.Unix(0, c.t.Load()) }

func (c *coarseClock) stop() { c.once.Do(func() { close(c.done) }) }

// Store is the store behind the cache.
func (c *Cache) Store() Store { return c.store }

func (c *Cache) shard(k Key) *cacheShard {
	return &c.shards[maphash.String(c.seed, k.Subject)%cacheShards]
}

// Lookup implements Store.
func (c *Cache) Lookup(ctx context.Context, k Key) ([]Record, error) {
	recs, _, err := c.LookupResult(ctx, k)
	return recs, err
}

// LookupResult is Lookup, also saying how it was answered.
func (c *Cache) LookupResult(ctx context.Context, k Key) ([]Record, Result, error) {
	s := c.shard(k)
	now := c.now().UnixNano()
	s.mu.RLock()
	e, ok := s.m[k]
	gen := s.gen
	s.mu.RUnlock()
	if ok && now < e.expires {
		if len(e.recs) == 0 {
			c.negHits.Add(1)
			return nil, NegativeHit, nil
		}
		c.hits.Add(1)
		return e.recs, Hit, nil
	}
	recs, err := c.store.Lookup(ctx, k)
	if err != nil {
		c.errs.Add(1)
		return nil, Error, err
	}
	c.misses.Add(1)
	ttl := c.ttl
	if len(recs) == 0 {
		ttl = c.negTTL
	}
	if ttl > 0 {
		s.mu.Lock()
		if s.gen == gen {
			if _, exists := s.m[k]; !exists && len(s.m) >= s.max {
				for victim := range s.m { // an arbitrary entry
					delete(s.m, victim)
					break
				}
			}
			s.m[k] = cacheEntry{recs: recs, expires: now + ttl}
		}
		s.mu.Unlock()
	}
	return recs, Miss, nil
}

// Append writes through to the store and drops the subject's entry.
func (c *Cache) Append(ctx context.Context, rec Record) error {
	err := c.store.Append(ctx, rec)
	c.Invalidate(rec.Key)
	return err
}

// Invalidate drops a subject's entry; the zero Key drops every entry.
func (c *Cache) Invalidate(k Key) {
	if k == (Key{}) {
		for i := range c.shards {
			s := &c.shards[i]
			s.mu.Lock()
			clear(s.m)
			s.gen++
			s.mu.Unlock()
		}
		return
	}
	s := c.shard(k)
	s.mu.Lock()
	delete(s.m, k)
	s.gen++
	s.mu.Unlock()
}

// Len is the number of cached subjects (expired entries included until
// they are replaced or evicted).
func (c *Cache) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// Stats are the cache's counters since it was created.
type Stats struct {
	Hits, NegativeHits, Misses, Errors int64
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	return Stats{Hits: c.hits.Load(), NegativeHits: c.negHits.Load(), Misses: c.misses.Load(), Errors: c.errs.Load()}
}
