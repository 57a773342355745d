package consentprocessor

import (
	"hash/maphash"
	"slices"
	"sync"
	"time"
)

// interactionMemory remembers, per vendor, tenant and interaction id, the
// subject key and location seen on earlier records, so that records that
// carry only the interaction id (Genesys transcription, attribute and
// analytics events) can be decided. It is bounded: each shard keeps at most
// max/shards interactions and evicts the oldest inserted first; an entry
// expires ttl after the last record that refreshed it. It is per collector
// instance: replicas behind a load balancer each learn their own.
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
// learn is set, learns from it. It reports whether something was filled in.
func (m *interactionMemory) observe(k interactionKey, subject *string, loc place, now int64, learn bool) bool {
	if m == nil || k.interaction == "" {
		return false
	}
	s := m.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[k]
	if e != nil && e.expires <= now {
		if !learn {
			return false
		}
		e.subject, e.country, e.region, e.source, e.hints = "", "", "", "", nil
	}
	filled := false
	if e != nil {
		if *subject == "" && e.subject != "" {
			*subject, filled = e.subject, true
		}
		if loc.empty() && (e.country != "" || e.region != "" || len(e.hints) > 0) {
			*loc.country, *loc.region, *loc.source, filled = e.country, e.region, e.source, true
			// Copied into the view's own buffer, which the next record reuses.
			*loc.hints = append((*loc.hints)[:0], e.hints...)
		}
	}
	if !learn || *subject == "" && loc.empty() {
		return filled
	}
	if e == nil {
		e = &interactionEntry{}
		if cap(s.ring) > 0 && len(s.ring) == cap(s.ring) {
			victim := s.ring[s.next]
			delete(s.m, victim)
			s.ring[s.next] = k
			s.next = (s.next + 1) % len(s.ring)
		} else {
			s.ring = append(s.ring, k)
		}
		s.m[k] = e
	}
	if *subject != "" {
		e.subject = *subject
	}
	if !loc.empty() {
		e.country, e.region, e.source = *loc.country, *loc.region, *loc.source
		// The view's hints reuse a buffer: keep a copy (unless the entry
		// already holds the same, as it does for every later record).
		if !slices.Equal(e.hints, *loc.hints) {
			e.hints = append(e.hints[:0:0], *loc.hints...)
		}
	}
	e.expires = now + m.ttl
	return filled
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
