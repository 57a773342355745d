package consentprocessor

import (
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/consentry/consentry/internal/consentledger"
)

// interactionMemory remembers, per vendor, tenant and interaction id, the
// subject key and location seen on earlier records, so that records that
// carry only the interaction id (Genesys transcription, attribute and
// analytics events) can be decided. It is bounded: each shard keeps at most
// max/shards interactions and evicts the oldest inserted first; an entry
// expires ttl after the last record that refreshed it. It is per collector
// instance; replicas that share a PostgreSQL ledger also share what they
// learn through it (shared.go), and this memory caches what they recall.
type interactionMemory struct {
	seed   maphash.Seed
	ttl    int64
	shards []interactionShard
}

type interactionKey struct{ vendor, tenant, interaction string }

type interactionEntry struct {
	subject, country, region, source string
	hints                            []string
	expires                          int64
	// shared is the expiry last written to the shared memory (0: never).
	shared int64
	// missUntil: the shared memory did not know the interaction when it
	// was last asked; it is not asked again before then.
	missUntil int64
}

// observation is what observe did.
type observation struct {
	// filled: something the record lacked was filled in.
	filled bool
	// recall: the record lacks its subject and this memory does not know
	// it; the shared memory may (it was not asked about it lately).
	recall bool
	// share: what was learned should be written to the shared memory (a
	// new interaction, a new subject or location, or an expiry that has
	// moved on by a quarter of the ttl since it was last written).
	share bool
	// learned is the entry after learning, when share is set.
	learned interactionEntry
}

// place is what the memory keeps of a record's location: the customer's
// primary hint (country, region, source) and every party's hints.
type place struct {
	country, region, source *string
	hints                   *[]string
}

func (p place) empty() bool { return *p.country == "" && *p.region == "" && len(*p.hints) == 0 }

// interactionShard keeps its entries by value in a ring of slots, in
// insertion order (the oldest is the next to evict), found through a map
// from the key's 64-bit hash to the slot. Remembering a new interaction, as
// nearly every webhook does, so allocates nothing once the ring is full
// (until then only its amortised growth), and the index holds no pointers
// for the garbage collector to scan. Two keys with the same hash (about
// once in 2^64) share an index entry: the newer replaces the older, which
// is forgotten early, as an eviction would.
type interactionShard struct {
	mu    sync.Mutex
	index map[uint64]int32 // key hash -> slot
	slots []interactionSlot
	max   int // slots at most: then the ring wraps
	next  int // the slot to overwrite next once full
}

type interactionSlot struct {
	key  interactionKey
	hash uint64
	interactionEntry
}

const interactionShards = 32

func newInteractionMemory(maxEntries int, ttl time.Duration) *interactionMemory {
	if maxEntries <= 0 {
		return nil
	}
	n := interactionShards
	if maxEntries < n {
		n = 1
	}
	per := maxEntries / n
	m := &interactionMemory{seed: maphash.MakeSeed(), ttl: int64(ttl), shards: make([]interactionShard, n)}
	for i := range m.shards {
		m.shards[i].index = make(map[uint64]int32)
		m.shards[i].max = per
	}
	return m
}

// locate returns k's shard and hash.
func (m *interactionMemory) locate(k interactionKey) (*interactionShard, uint64) {
	h := maphash.Comparable(m.seed, k)
	return &m.shards[h%uint64(len(m.shards))], h
}

// get returns k's entry, or nil. The shard's lock must be held; the entry
// is valid until the next insert.
func (s *interactionShard) get(k interactionKey, h uint64) *interactionEntry {
	i, ok := s.index[h]
	if !ok || s.slots[i].key != k {
		return nil
	}
	return &s.slots[i].interactionEntry
}

// observe fills in what a record lacks from its interaction and, when
// learn is set, learns from it.
func (m *interactionMemory) observe(k interactionKey, subject *string, loc place, now int64, learn bool) observation {
	var o observation
	if m == nil || k.interaction == "" {
		return o
	}
	s, h := m.locate(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(k, h)
	if e != nil && e.expires <= now {
		if !learn {
			o.recall = *subject == "" && e.missUntil <= now
			return o
		}
		e.subject, e.country, e.region, e.source, e.hints, e.shared = "", "", "", "", nil, 0
	}
	if e != nil {
		if *subject == "" && e.subject != "" {
			*subject, o.filled = e.subject, true
		}
		if loc.empty() && (e.country != "" || e.region != "" || len(e.hints) > 0) {
			*loc.country, *loc.region, *loc.source, o.filled = e.country, e.region, e.source, true
			// Copied into the view's own buffer, which the next record reuses.
			*loc.hints = append((*loc.hints)[:0], e.hints...)
		}
	}
	o.recall = *subject == "" && (e == nil || e.missUntil <= now)
	if !learn || *subject == "" && loc.empty() {
		return o
	}
	if e == nil {
		e = s.insert(k, h)
	}
	changed := false
	if *subject != "" && e.subject != *subject {
		e.subject, changed = *subject, true
	}
	if !loc.empty() && (e.country != *loc.country || e.region != *loc.region || e.source != *loc.source || !slices.Equal(e.hints, *loc.hints)) {
		e.country, e.region, e.source = *loc.country, *loc.region, *loc.source
		// The view's hints reuse a buffer: keep a copy (only when they
		// changed: every later record of the interaction has the same).
		if !slices.Equal(e.hints, *loc.hints) {
			e.hints = append(e.hints[:0:0], *loc.hints...)
		}
		changed = true
	}
	e.expires = now + m.ttl
	if changed || e.expires-e.shared > m.ttl/4 {
		o.share, o.learned = true, *e
		e.shared = e.expires
	}
	return o
}

// insert adds an empty entry for k, evicting the oldest inserted when the
// shard is full. The shard's lock must be held.
func (s *interactionShard) insert(k interactionKey, h uint64) *interactionEntry {
	var i int
	if len(s.slots) < s.max {
		s.slots = append(s.slots, interactionSlot{})
		i = len(s.slots) - 1
	} else {
		i = s.next
		s.next = (s.next + 1) % len(s.slots)
		if victim := s.slots[i].hash; s.index[victim] == int32(i) {
			delete(s.index, victim)
		}
	}
	s.slots[i] = interactionSlot{key: k, hash: h}
	s.index[h] = int32(i)
	return &s.slots[i].interactionEntry
}

// recalled keeps what the shared memory answered about k: the interaction
// (it), or that it does not know it (nil, until missUntil). What this
// memory learned meanwhile is not overwritten.
func (m *interactionMemory) recalled(k interactionKey, it *consentledger.Interaction, missUntil int64) {
	s, h := m.locate(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(k, h)
	if e == nil {
		e = s.insert(k, h)
	}
	if it == nil {
		e.missUntil = missUntil
		return
	}
	expires := it.Expires.UnixNano()
	if e.subject == "" && it.Subject != "" {
		e.subject = it.Subject
	}
	if e.country == "" && e.region == "" && len(e.hints) == 0 {
		e.country, e.region, e.source, e.hints = it.Country, it.Region, it.Source, slices.Clone(it.Hints)
	}
	// It is stored there until expires: nothing to write back before then.
	e.expires, e.shared = max(e.expires, expires), max(e.shared, expires)
}

// len is the number of remembered interactions.
func (m *interactionMemory) len() int {
	if m == nil {
		return 0
	}
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.index)
		s.mu.Unlock()
	}
	return n
}
