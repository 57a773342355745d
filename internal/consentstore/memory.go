package consentstore

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Memory is an in-memory Store: the default when no ledger is configured.
// Records are lost when the collector stops, and nothing is ever evicted
// (dropping an opt-out would fail open), so it suits tests, local runs and
// deployments that re-learn consent from events; production deployments use
// the consent_ledger extension. A record takes about 300 bytes.
type Memory struct {
	mu       sync.RWMutex
	bySubj   map[Key][]Record
	ids      map[string]struct{}
	now      func() time.Time
	subsMu   sync.Mutex
	subs     map[int]func(Key)
	nextSub  int
	appended int
}

var (
	_ Store    = (*Memory)(nil)
	_ Notifier = (*Memory)(nil)
)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{bySubj: map[Key][]Record{}, ids: map[string]struct{}{}, now: time.Now}
}

// Lookup returns the subject's records, oldest first.
func (m *Memory) Lookup(_ context.Context, key Key) ([]Record, error) {
	m.mu.RLock()
	recs := m.bySubj[key]
	m.mu.RUnlock()
	return recs, nil
}

// Append stores a record unless its ID is already stored. It notifies
// subscribers of the subject's key.
func (m *Memory) Append(_ context.Context, rec Record) error {
	if err := rec.Validate(); err != nil {
		return err
	}
	if rec.RecordedAt.IsZero() {
		rec.RecordedAt = m.now()
	}
	if rec.At.IsZero() {
		rec.At = rec.RecordedAt
	}
	m.mu.Lock()
	if _, dup := m.ids[rec.ID]; dup {
		m.mu.Unlock()
		return nil
	}
	m.ids[rec.ID] = struct{}{}
	old := m.bySubj[rec.Key]
	// Copy on write: slices handed out by Lookup stay valid and unchanged.
	recs := make([]Record, 0, len(old)+1)
	recs = append(recs, old...)
	i, _ := slices.BinarySearchFunc(recs, rec.At, func(r Record, t time.Time) int {
		if r.At.After(t) {
			return 1
		}
		return -1 // equal times keep insertion order
	})
	recs = slices.Insert(recs, i, rec)
	m.bySubj[rec.Key] = recs
	m.appended++
	m.mu.Unlock()
	m.notify(rec.Key)
	return nil
}

// Len is the number of stored records.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.appended
}

// Subscribe implements Notifier.
func (m *Memory) Subscribe(fn func(Key)) func() {
	m.subsMu.Lock()
	defer m.subsMu.Unlock()
	if m.subs == nil {
		m.subs = map[int]func(Key){}
	}
	id := m.nextSub
	m.nextSub++
	m.subs[id] = fn
	return func() {
		m.subsMu.Lock()
		delete(m.subs, id)
		m.subsMu.Unlock()
	}
}

func (m *Memory) notify(k Key) {
	m.subsMu.Lock()
	fns := make([]func(Key), 0, len(m.subs))
	for _, fn := range m.subs {
		fns = append(fns, fn)
	}
	m.subsMu.Unlock()
	for _, fn := range fns {
		fn(k)
	}
}
