package consentstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	ctx  = context.Background()
	t0   = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	keyA = Key{Scope: "genesys/org", Subject: "sk1_a"}
	keyB = Key{Scope: "genesys/org", Subject: "sk1_b"}
)

func record(id string, k Key, at time.Time) Record {
	return Record{ID: id, Key: k, Granted: []string{"analytics"}, Source: SourceAPI, At: at}
}

func TestMemoryOrdersByTimeAndIgnoresDuplicates(t *testing.T) {
	m := NewMemory()
	require.NoError(t, m.Append(ctx, record("b", keyA, t0.Add(time.Minute))))
	require.NoError(t, m.Append(ctx, record("a", keyA, t0)))
	require.NoError(t, m.Append(ctx, record("c", keyA, t0.Add(time.Minute))))
	require.NoError(t, m.Append(ctx, record("a", keyA, t0.Add(time.Hour))), "a retry is a no-op")
	recs, err := m.Lookup(ctx, keyA)
	require.NoError(t, err)
	ids := []string{}
	for _, r := range recs {
		ids = append(ids, r.ID)
		assert.False(t, r.RecordedAt.IsZero())
	}
	assert.Equal(t, []string{"a", "b", "c"}, ids, "oldest first, equal times in insertion order")
	assert.Equal(t, 3, m.Len())

	recs, err = m.Lookup(ctx, keyB)
	require.NoError(t, err)
	assert.Empty(t, recs)

	assert.ErrorIs(t, m.Append(ctx, Record{ID: "x"}), ErrInvalidRecord)
}

func TestMemoryLookupsAreSnapshots(t *testing.T) {
	m := NewMemory()
	require.NoError(t, m.Append(ctx, record("a", keyA, t0)))
	snap, _ := m.Lookup(ctx, keyA)
	require.NoError(t, m.Append(ctx, record("b", keyA, t0.Add(-time.Hour))))
	assert.Len(t, snap, 1)
	assert.Equal(t, "a", snap[0].ID, "a slice handed out never changes")
}

func TestSourceStrength(t *testing.T) {
	assert.Greater(t, SourceAPI.Strength(), SourceConsentEvent.Strength())
	assert.Greater(t, SourceConsentEvent.Strength(), SourceSignal.Strength())
	assert.Equal(t, SourceSignal.Strength(), SourceOptOut.Strength())
	assert.Greater(t, SourceSignal.Strength(), SourceNotice.Strength())
	assert.Zero(t, Source("other").Strength())
}

// countingStore counts lookups and can fail.
type countingStore struct {
	Store
	lookups atomic.Int64
	fail    atomic.Bool
}

func (c *countingStore) Lookup(ctx context.Context, k Key) ([]Record, error) {
	c.lookups.Add(1)
	if c.fail.Load() {
		return nil, errors.New("unavailable")
	}
	return c.Store.Lookup(ctx, k)
}

// plainStore hides Memory's Notifier.
type plainStore struct{ m *Memory }

func (p plainStore) Lookup(ctx context.Context, k Key) ([]Record, error) { return p.m.Lookup(ctx, k) }
func (p plainStore) Append(ctx context.Context, r Record) error          { return p.m.Append(ctx, r) }

func newCache(t *testing.T, store Store, cfg CacheConfig) (*Cache, *time.Time) {
	c := NewCache(store, cfg)
	t.Cleanup(c.Close)
	now := t0
	c.now = func() time.Time { return now }
	return c, &now
}

func TestCacheHitsMissesAndTTLs(t *testing.T) {
	mem := NewMemory()
	cs := &countingStore{Store: plainStore{mem}}
	c, now := newCache(t, cs, CacheConfig{TTL: time.Minute, NegativeTTL: 10 * time.Second, MaxEntries: 100})

	_, res, err := c.LookupResult(ctx, keyA)
	require.NoError(t, err)
	assert.Equal(t, Miss, res)
	_, res, _ = c.LookupResult(ctx, keyA)
	assert.Equal(t, NegativeHit, res, "no records is cached too")
	assert.EqualValues(t, 1, cs.lookups.Load())

	*now = now.Add(11 * time.Second)
	_, res, _ = c.LookupResult(ctx, keyA)
	assert.Equal(t, Miss, res, "the negative TTL is short")

	// A write through the cache invalidates at once.
	require.NoError(t, c.Append(ctx, record("r1", keyA, t0)))
	recs, res, _ := c.LookupResult(ctx, keyA)
	assert.Equal(t, Miss, res)
	require.Len(t, recs, 1)
	recs, res, _ = c.LookupResult(ctx, keyA)
	assert.Equal(t, Hit, res)
	assert.Len(t, recs, 1)

	// A write elsewhere is seen after the TTL (the store is no Notifier).
	require.NoError(t, mem.Append(ctx, record("r2", keyA, t0)))
	recs, _, _ = c.LookupResult(ctx, keyA)
	assert.Len(t, recs, 1)
	*now = now.Add(61 * time.Second)
	recs, _, _ = c.LookupResult(ctx, keyA)
	assert.Len(t, recs, 2)

	// Errors are never cached.
	cs.fail.Store(true)
	_, res, err = c.LookupResult(ctx, keyB)
	assert.Error(t, err)
	assert.Equal(t, Error, res)
	cs.fail.Store(false)
	_, res, err = c.LookupResult(ctx, keyB)
	require.NoError(t, err)
	assert.Equal(t, Miss, res)

	assert.Equal(t, Stats{Hits: 2, NegativeHits: 1, Misses: 5, Errors: 1}, c.Stats())
}

func TestCacheFollowsNotifier(t *testing.T) {
	mem := NewMemory()
	c, _ := newCache(t, mem, CacheConfig{TTL: time.Hour, NegativeTTL: time.Hour, MaxEntries: 100})
	recs, _ := c.Lookup(ctx, keyA)
	assert.Empty(t, recs)
	require.NoError(t, mem.Append(ctx, record("r1", keyA, t0))) // e.g. the ledger's audit API
	recs, _ = c.Lookup(ctx, keyA)
	assert.Len(t, recs, 1, "the store's notification invalidated the entry")

	c.Close()
	require.NoError(t, mem.Append(ctx, record("r2", keyA, t0)))
	recs, _ = c.Lookup(ctx, keyA)
	assert.Len(t, recs, 1, "no longer subscribed")
}

// TestCacheInvalidateAll: the zero key (notifications were lost) drops
// every entry, positive and negative.
func TestCacheInvalidateAll(t *testing.T) {
	mem := NewMemory()
	cs := &countingStore{Store: plainStore{mem}}
	c, _ := newCache(t, cs, CacheConfig{TTL: time.Hour, NegativeTTL: time.Hour, MaxEntries: 100})
	require.NoError(t, mem.Append(ctx, record("r1", keyA, t0)))
	for _, k := range []Key{keyA, keyB} {
		_, _ = c.Lookup(ctx, k)
	}
	assert.Equal(t, 2, c.Len())
	c.Invalidate(Key{})
	assert.Zero(t, c.Len())
	for _, k := range []Key{keyA, keyB} {
		_, res, _ := c.LookupResult(ctx, k)
		assert.Equal(t, Miss, res)
	}
}

func TestCacheIsBounded(t *testing.T) {
	c, _ := newCache(t, NewMemory(), CacheConfig{TTL: time.Hour, NegativeTTL: time.Hour, MaxEntries: 128})
	for i := 0; i < 10_000; i++ {
		_, _ = c.Lookup(ctx, Key{Scope: "s", Subject: fmt.Sprint(i)})
	}
	assert.LessOrEqual(t, c.Len(), 128)
	assert.Positive(t, c.Len())
}

func TestCacheZeroTTLDisablesCaching(t *testing.T) {
	cs := &countingStore{Store: NewMemory()}
	c, _ := newCache(t, cs, CacheConfig{MaxEntries: 10})
	for i := 0; i < 3; i++ {
		_, _ = c.Lookup(ctx, keyA)
	}
	assert.EqualValues(t, 3, cs.lookups.Load())
}

// A lookup that read the store before a write must not put its stale
// answer back after the write's invalidation.
func TestCacheNoStaleRepopulation(t *testing.T) {
	mem := NewMemory()
	gate := make(chan struct{})
	entered := make(chan struct{})
	slow := &slowStore{Memory: mem, gate: gate, entered: entered}
	c, _ := newCache(t, slow, CacheConfig{TTL: time.Hour, NegativeTTL: time.Hour, MaxEntries: 100})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = c.Lookup(ctx, keyA) // reads "no records", then waits
	}()
	<-entered
	require.NoError(t, c.Append(ctx, record("r1", keyA, t0)))
	close(gate)
	wg.Wait()
	slow.bypass.Store(true)
	recs, err := c.Lookup(ctx, keyA)
	require.NoError(t, err)
	assert.Len(t, recs, 1)
}

type slowStore struct {
	*Memory
	gate, entered chan struct{}
	once          sync.Once
	bypass        atomic.Bool
}

func (s *slowStore) Lookup(ctx context.Context, k Key) ([]Record, error) {
	recs, err := s.Memory.Lookup(ctx, k)
	if !s.bypass.Load() {
		s.once.Do(func() { close(s.entered); <-s.gate })
	}
	return recs, err
}

func TestCacheConcurrent(t *testing.T) {
	c, _ := newCache(t, NewMemory(), CacheConfig{TTL: time.Millisecond, NegativeTTL: time.Millisecond, MaxEntries: 64})
	c.now = time.Now
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				k := Key{Scope: "s", Subject: fmt.Sprint(i % 50)}
				if i%7 == 0 {
					_ = c.Append(ctx, record(fmt.Sprintf("%d-%d", g, i), k, t0))
				}
				_, _ = c.Lookup(ctx, k)
			}
		}(g)
	}
	wg.Wait()
}

func BenchmarkCacheHit(b *testing.B) {
	c := NewCache(NewMemory(), CacheConfig{TTL: time.Hour, NegativeTTL: time.Hour, MaxEntries: 1000})
	_ = c.Append(ctx, record("r", keyA, t0))
	_, _ = c.Lookup(ctx, keyA)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = c.Lookup(ctx, keyA)
	}
}

func BenchmarkMemoryLookup(b *testing.B) {
	m := NewMemory()
	_ = m.Append(ctx, record("r", keyA, t0))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.Lookup(ctx, keyA)
	}
}
