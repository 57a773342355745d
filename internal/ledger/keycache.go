package ledger

import (
	"crypto/cipher"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/consentry/consentry/internal/ledger/keys"
	"github.com/consentry/consentry/internal/ledger/sqlstore"
)

// dataKey is an unwrapped data key. The cache keeps the 32 key bytes, not
// the AES-GCM state built from them (about 800 bytes more per subject):
// building it costs about a microsecond per record.
type dataKey struct {
	row sqlstore.DataKeyRow
	key []byte
	// persisted is false for a key created by this process and not yet
	// committed: the writer stores it with the first record that uses it.
	persisted atomic.Bool
}

// aead returns the key's AES-256-GCM.
func (k *dataKey) aead() (cipher.AEAD, error) { return keys.NewAEAD(k.key) }

// dataKeyOverhead is the memory of a cached key beyond its strings and
// byte slices: the map entry, the structs, the allocation headers
// (measured: TestKeyCacheBytes).
const dataKeyOverhead = 320

// size is the memory a cached key holds, approximately.
func (k *dataKey) size() int64 {
	r := &k.row
	return int64(dataKeyOverhead + 2*len(r.Tenant) + 2*len(r.SubjectKey) + len(r.ID) + len(r.KEKID) + len(r.Wrapped) + len(k.key))
}

type subjectRef struct{ tenant, subject string }

// keyCache keeps the data key of recently seen subjects, so that most
// records are encrypted without a database read. Entries are only hints:
// the writer checks, in the transaction that stores a record, that its key
// was not erased meanwhile. It is bounded by a number of subjects and by
// bytes.
type keyCache struct {
	mu       sync.Mutex
	m        map[subjectRef]*dataKey
	max      int
	maxBytes int64
	bytes    int64
}

func newKeyCache(max int, maxBytes int64) *keyCache {
	return &keyCache{m: map[subjectRef]*dataKey{}, max: max, maxBytes: maxBytes}
}

// remove deletes ref's entry; c.mu is held.
func (c *keyCache) remove(ref subjectRef) {
	if k, ok := c.m[ref]; ok {
		c.bytes -= k.size()
		delete(c.m, ref)
	}
}

func (c *keyCache) evict(tenant, subject string) {
	c.mu.Lock()
	c.remove(subjectRef{tenant, subject})
	c.mu.Unlock()
}

// dropKey forgets k if it is still the subject's cached key.
func (c *keyCache) dropKey(k *dataKey) {
	ref := subjectRef{k.row.Tenant, k.row.SubjectKey}
	c.mu.Lock()
	if c.m[ref] == k {
		c.remove(ref)
	}
	c.mu.Unlock()
}

// subjectKey returns the data key to encrypt a subject's new records with:
// the cached one, or a new one if none is cached or the cached one is older
// than DataKeyMaxAge. Keys are time-ordered, so a subject's records land
// near the right edge of the records index on dk_id.
func (l *Ledger) subjectKey(tenant, subject string) (*dataKey, error) {
	c := l.keys
	ref := subjectRef{tenant, subject}
	c.mu.Lock()
	k, ok := c.m[ref]
	c.mu.Unlock()
	if ok && l.now().UnixNano()-k.row.CreatedAt < int64(l.opts.DataKeyMaxAge) {
		return k, nil
	}
	k, err := l.newKey(tenant, subject)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if other, ok := c.m[ref]; ok && other.row.CreatedAt >= k.row.CreatedAt-int64(time.Second) {
		return other, nil // another caller won the race: use one key
	}
	c.remove(ref)
	if len(c.m) >= c.max || c.bytes+k.size() > c.maxBytes {
		// Evict an arbitrary eighth: an evicted subject gets a new key.
		n, target := c.max/8+1, c.maxBytes-c.maxBytes/8
		for r := range c.m {
			c.remove(r)
			if n--; n <= 0 && c.bytes <= target {
				break
			}
		}
	}
	c.m[ref] = k
	c.bytes += k.size()
	return k, nil
}

// newKey creates a data key for a subject. It is stored by the writer with
// the first record that uses it. A subject missing from the cache always
// gets a new key rather than a read of its newest one: most misses are new
// subjects, for which the read finds nothing, and a read on SQLite costs
// more than the key insert it would save (readers lose their page cache at
// every commit). A subject can thus have several keys; erasure destroys
// them all.
func (l *Ledger) newKey(tenant, subject string) (*dataKey, error) {
	dk, err := keys.NewDataKey()
	if err != nil {
		return nil, err
	}
	id := "dk_" + l.ids.next(l.now())
	kekID, wrapped, err := l.ring.Wrap(dk, dataKeyAAD(tenant, subject, id))
	if err != nil {
		return nil, err
	}
	return &dataKey{
		row: sqlstore.DataKeyRow{ID: id, Tenant: tenant, SubjectKey: subject, KEKID: kekID, Wrapped: wrapped, CreatedAt: unixNano(l.now())},
		key: dk,
	}, nil
}

// unwrap turns a stored data key row into a usable key.
func (l *Ledger) unwrap(row *sqlstore.DataKeyRow) (*dataKey, error) {
	if row.ErasedAt != 0 || len(row.Wrapped) == 0 {
		return nil, ErrErased
	}
	dk, err := l.ring.Unwrap(row.KEKID, row.Wrapped, dataKeyAAD(row.Tenant, row.SubjectKey, row.ID))
	if err != nil {
		return nil, err
	}
	if len(dk) != keys.Size {
		return nil, fmt.Errorf("ledger: data key %s is %d bytes", row.ID, len(dk))
	}
	return &dataKey{row: *row, key: dk}, nil
}
