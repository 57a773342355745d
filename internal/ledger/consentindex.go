package ledger

import (
	"context"
	"hash/maphash"
	"sync"

	"github.com/consentry/consentry/internal/ledger/sqlstore"
)

// maxConsentSubjects bounds the consent-subject index: beyond it (about
// 40 MB of map) LookupConsents reads the database for every subject.
const maxConsentSubjects = 2_000_000

// consentIndex knows which (tenant, subject) pairs have consent records,
// so that LookupConsents answers "none" without a database read for every
// other subject: the consent processor looks up the subject of every event,
// and most subjects have no consent record of their own.
//
// It is exact only where this process is the database's single writer
// (SQLite, guarded by the lock file): it is loaded at open, before the
// writer starts, and the writer adds every consent record it commits
// before its caller is answered. Entries are 64-bit hashes: a collision
// only costs a database read. Records are never removed from it (a subject
// whose records were deleted just costs a read). On a shared database
// (PostgreSQL, other replicas write too) it is not used.
type consentIndex struct {
	mu   sync.RWMutex
	seed maphash.Seed
	m    map[uint64]struct{}
	off  bool // too many subjects: always read the database
}

func (c *consentIndex) hash(tenant, subject string) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(tenant)
	h.WriteByte(0)
	h.WriteString(subject)
	return h.Sum64()
}

// loadConsentIndex reads the subjects of the stored consent records, or
// returns nil where the index cannot be exact (shared database).
func loadConsentIndex(ctx context.Context, st *sqlstore.Store) (*consentIndex, error) {
	if st.Dialect().Shared() {
		return nil, nil
	}
	c := &consentIndex{seed: maphash.MakeSeed(), m: map[uint64]struct{}{}}
	err := st.ConsentSubjects(ctx, func(tenant, subject string) bool {
		if len(c.m) >= maxConsentSubjects {
			c.off, c.m = true, nil
			return false
		}
		c.m[c.hash(tenant, subject)] = struct{}{}
		return true
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// mayHave reports whether the subject may have consent records (false:
// it has none).
func (c *consentIndex) mayHave(tenant, subject string) bool {
	if c == nil {
		return true
	}
	h := c.hash(tenant, subject)
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.off {
		return true
	}
	_, ok := c.m[h]
	return ok
}

// add records committed consent records' subjects (writer goroutine).
func (c *consentIndex) add(rows []sqlstore.ConsentRow) {
	if c == nil || len(rows) == 0 {
		return
	}
	hs := make([]uint64, len(rows))
	for i := range rows {
		hs[i] = c.hash(rows[i].Tenant, rows[i].SubjectKey)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off {
		return
	}
	for _, h := range hs {
		c.m[h] = struct{}{}
	}
	if len(c.m) > maxConsentSubjects {
		c.off, c.m = true, nil
	}
}
