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

type interactionShard struct {
	mu   sync.Mutex
	m    map[interactionKey]*interactionEntry
	ring []interactionKey // insertion order, for eviction
	next int
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
		m.shards[i].m = make(map[interactionKey]*interactionEntry)
		m.shards[i].ring = make([]interactionKey, 0, per)
	}
	return m
}

func (m *interactionMemory) shard(k interactionKey) *interactionShard {
	return &m.shards[maphash.String(m.seed, k.interaction)%uint64(len(m.shards))]
}

// observe fills in what a record lacks from its interaction and, when
// learn is set, learns from it.
func (m *interactionMemory) observe(k interactionKey, subject *string, loc place, now int64, learn bool) observation {
	var o observation
	if m == nil || k.interaction == "" {
		return o
	}
	s := m.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[k]
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
		e = s.insert(k)
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

// insert adds an entry for k, evicting the oldest inserted when the shard
// is full. The shard's lock must be held.
func (s *interactionShard) insert(k interactionKey) *interactionEntry {
	e := &interactionEntry{}
	if cap(s.ring) > 0 && len(s.ring) == cap(s.ring) {
		victim := s.ring[s.next]
		delete(s.m, victim)
		s.ring[s.next] = k
		s.next = (s.next + 1) % len(s.ring)
	} else {
		s.ring = append(s.ring, k)
	}
	s.m[k] = e
	return e
}

// recalled keeps what the shared memory answered about k: the interaction
// (it), or that it does not know it (nil, until missUntil). What this
// memory learned meanwhile is not overwritten.
func (m *interactionMemory) recalled(k interactionKey, it *consentledger.Interaction, missUntil int64) {
	s := m.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[k]
	if e == nil {
		e = s.insert(k)
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
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
