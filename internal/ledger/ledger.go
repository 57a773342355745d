// Package ledger is the consent ledger's storage engine: an encrypted,
// tamper-evident, de-duplicating store of quarantined records, consent
// records and the audit access log, over SQLite (package sqlite) or
// PostgreSQL (package postgres) with identical behaviour.
//
//   - Payloads are encrypted with AES-256-GCM under per-subject data keys
//     (a tenant's key for records without a subject), wrapped by a
//     key-encryption key (package keys). Erasing a subject destroys its
//     data keys (crypto-shredding).
//   - Every stored row is an entry of its writer's SHA-256 hash chain, and
//     signed ed25519 checkpoints anchor the chains (package chain). Verify
//     recomputes everything and says what was altered, removed, reordered
//     or inserted.
//   - Records are de-duplicated by (tenant, vendor, event id).
//   - Writes go through one writer goroutine that commits in groups
//     (BatchRows rows or BatchLinger, whichever comes first); callers block
//     until their rows are durable. Encryption and digests are computed in
//     the callers' goroutines; the writer only chains, inserts and commits.
//
// See README.md for the schema, key rotation and the benchmarks.
package ledger

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/consentry/consentry/internal/ledger/chain"
	"github.com/consentry/consentry/internal/ledger/keys"
	"github.com/consentry/consentry/internal/ledger/sqlstore"
	"github.com/consentry/consentry/internal/private"
)

// KEK is a key-encryption key with its id (see package keys).
type KEK = keys.KEK

// ParseKey parses a 32-byte key written in hex or base64, as found in
// CONSENTRY_LEDGER_KEY or a key file.
func ParseKey(s string) ([]byte, error) { return keys.ParseKey(s) }

// Options configure a Ledger. Only KEKs is required.
type Options struct {
	// KEKs are the key-encryption keys. ActiveKEK (default: the first)
	// wraps new data keys; the others only unwrap keys wrapped before a
	// rotation (see RewrapDataKeys).
	KEKs      []KEK
	ActiveKEK string
	// SigningKey is the ed25519 key that signs checkpoints and tombstones:
	// a 32-byte seed or 64-byte private key, raw, hex or base64. Empty: it
	// is derived from the active KEK with HKDF, so every replica sharing
	// the KEK signs with the same key.
	SigningKey []byte
	// TrustedKeys are further public keys whose signatures Verify accepts
	// (keys used before a rotation). The signing key's own public key, and
	// when SigningKey is empty the keys derived from every configured KEK,
	// are always trusted.
	TrustedKeys []ed25519.PublicKey

	// WriterID names this process's hash chain. Empty: read from (or
	// generated into) WriterIDFile; without a file, SQLite keeps it in the
	// database and PostgreSQL generates one per start (a new chain).
	WriterID     string
	WriterIDFile string

	// BatchRows (default 1000) and BatchLinger (default 2ms; negative: do
	// not wait) bound a group commit.
	BatchRows   int
	BatchLinger time.Duration
	// QueueSize bounds the calls waiting for the writer (default 4096);
	// further callers block, which is the back-pressure.
	QueueSize int
	// CheckpointEvery (default 10000 entries) and CheckpointInterval
	// (default 30s) say how often a signed checkpoint is written. One is
	// also written at Open when the chain has entries after the last
	// checkpoint, at Close, after an erasure or purge, and by Checkpoint.
	CheckpointEvery    int
	CheckpointInterval time.Duration
	// KeyCacheSize is how many subjects' data keys are kept unwrapped in
	// memory (default 100000), and KeyCacheBytes how much memory they may
	// take (default 32 MiB, about 80,000 subjects of 40-byte keys).
	KeyCacheSize  int
	KeyCacheBytes int64
	// DataKeyMaxAge is how long a subject's data key encrypts new records
	// before the subject gets a new one (default 24h). Fresh keys keep a
	// subject's new records near the right edge of the dk_id index.
	DataKeyMaxAge time.Duration
	// CommitTimeout bounds one group commit (default 30s).
	CommitTimeout time.Duration
	// DedupWindow is how long a stored record's (tenant, vendor, event id)
	// keeps a retry of the same event from being stored again (default
	// 24h: EventBridge retries for 24 hours, the longest vendor horizon).
	// A retry is recognised for at least the window and at most twice it;
	// an older copy is stored as a new record. On PostgreSQL de-duplication
	// is over all time (a unique index shared by the replicas).
	DedupWindow time.Duration

	// Now replaces time.Now (tests).
	Now func() time.Time
}

// Ledger is the storage engine. It is safe for concurrent use.
type Ledger struct {
	st      *sqlstore.Store
	opts    Options
	ring    *keys.Keyring
	signer  ed25519.PrivateKey
	trusted map[string]ed25519.PublicKey
	writer  string
	now     func() time.Time
	ids     idGen
	keys    *keyCache
	unlock  func()
	// consents: which subjects have consent records (nil: unknown, read
	// the database; see consentIndex).
	consents *consentIndex

	closeMu sync.RWMutex
	closed  bool
	reqs    chan *request
	done    chan struct{}

	// Chain state, owned by the writer goroutine.
	head    chain.Hash
	seq     uint64
	cpSeq   uint64
	cpAt    time.Time
	erased  map[string]bool // data keys this process erased (non-shared stores)
	side    *sideTables     // dedup and subject_keys feeding (SQLite; nil on PostgreSQL)
	purgeTo string          // purge watermark

	m struct {
		batches, rows, dups, failures, checkpoints atomic.Int64
		consentSkips                               atomic.Int64
		lastRows                                   atomic.Int64
		lastCommit                                 atomic.Int64
	}
}

const metaWriterID = "writer_id"

// Open starts a ledger on an opened store (sqlite.Open, postgres.Open).
// The ledger owns the store from then on: Close closes it, and so does a
// failed Open.
func Open(ctx context.Context, st *sqlstore.Store, opts Options) (l *Ledger, err error) {
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	if opts.BatchRows <= 0 {
		opts.BatchRows = 1000
	}
	if opts.BatchLinger == 0 {
		opts.BatchLinger = 2 * time.Millisecond
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = 10000
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = 30 * time.Second
	}
	if opts.KeyCacheSize <= 0 {
		opts.KeyCacheSize = 100000
	}
	if opts.KeyCacheBytes <= 0 {
		opts.KeyCacheBytes = 32 << 20
	}
	if opts.DataKeyMaxAge <= 0 {
		opts.DataKeyMaxAge = 24 * time.Hour
	}
	if opts.CommitTimeout <= 0 {
		opts.CommitTimeout = 30 * time.Second
	}
	if opts.DedupWindow <= 0 {
		opts.DedupWindow = 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ring, err := keys.NewKeyring(opts.KEKs, opts.ActiveKEK)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	l = &Ledger{
		st:      st,
		opts:    opts,
		ring:    ring,
		now:     opts.Now,
		keys:    newKeyCache(opts.KeyCacheSize, opts.KeyCacheBytes),
		trusted: map[string]ed25519.PublicKey{},
		erased:  map[string]bool{},
		reqs:    make(chan *request, opts.QueueSize),
		done:    make(chan struct{}),
	}
	if len(opts.SigningKey) > 0 {
		l.signer, err = keys.ParseSigningKey(opts.SigningKey)
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
	} else {
		derived := ring.SigningKeys()
		l.signer = derived[ring.ActiveID()]
		for _, k := range derived {
			l.trust(k.Public().(ed25519.PublicKey))
		}
	}
	l.trust(l.signer.Public().(ed25519.PublicKey))
	for _, k := range opts.TrustedKeys {
		if len(k) != ed25519.PublicKeySize {
			return nil, errors.New("ledger: a trusted key is not an ed25519 public key")
		}
		l.trust(k)
	}

	if l.writer, err = l.writerID(ctx); err != nil {
		return nil, err
	}
	if l.unlock, err = st.LockWriter(ctx, l.writer); err != nil {
		return nil, l.storeErr("lock writer", err)
	}
	if err := l.loadHead(ctx); err != nil {
		l.unlock()
		return nil, err
	}
	if err := l.checkTail(ctx); err != nil {
		l.unlock()
		return nil, err
	}
	if v, ok, err := st.Meta(ctx, metaPurgeWatermark); err != nil {
		l.unlock()
		return nil, l.storeErr("open", err)
	} else if ok {
		l.purgeTo = v
	}
	if l.consents, err = loadConsentIndex(ctx, st); err != nil {
		l.unlock()
		return nil, l.storeErr("load consent subjects", err)
	}
	if !st.Dialect().Shared() {
		var hold time.Duration
		if v := os.Getenv("CONSENTRY_LEDGER_TEST_SIDE_HOLD"); v != "" {
			// A test knob: no run into the side tables starts for this long
			// after open, so that a test can kill the process while they lag.
			if hold, err = time.ParseDuration(v); err != nil {
				l.unlock()
				return nil, fmt.Errorf("ledger: CONSENTRY_LEDGER_TEST_SIDE_HOLD: %w", err)
			}
		}
		l.side = newSideTables(opts.DedupWindow, hold, l.now())
		if err := l.loadSide(ctx); err != nil {
			l.unlock()
			return nil, l.storeErr("load the side tables' tails", err)
		}
	}
	go l.run()
	if l.seq > l.cpSeq {
		// Anchor what the previous run left unanchored (a crash).
		if _, err := l.Checkpoint(ctx); err != nil {
			l.Close(context.Background())
			return nil, err
		}
	}
	return l, nil
}

func (l *Ledger) trust(pub ed25519.PublicKey) { l.trusted[chain.KeyID(pub)] = pub }

func (l *Ledger) writerID(ctx context.Context) (string, error) {
	if id := strings.TrimSpace(l.opts.WriterID); id != "" {
		return id, validWriterID(id)
	}
	if f := l.opts.WriterIDFile; f != "" {
		b, err := os.ReadFile(f)
		if err == nil {
			id := strings.TrimSpace(string(b))
			return id, validWriterID(id)
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("ledger: writer id file: %w", err)
		}
		id := newWriterID()
		if err := private.MkdirAll(filepath.Dir(f)); err != nil {
			return "", fmt.Errorf("ledger: writer id file: %w", err)
		}
		if err := private.WriteFile(f, []byte(id+"\n")); err != nil {
			return "", fmt.Errorf("ledger: writer id file: %w", err)
		}
		return id, nil
	}
	if l.st.Dialect().Shared() {
		return newWriterID(), nil
	}
	id, ok, err := l.st.Meta(ctx, metaWriterID)
	if err != nil {
		return "", l.storeErr("read writer id", err)
	}
	if ok {
		return id, nil
	}
	id = newWriterID()
	if err := l.st.SetMeta(ctx, metaWriterID, id); err != nil {
		return "", l.storeErr("store writer id", err)
	}
	return id, nil
}

func newWriterID() string {
	var b [8]byte
	rand.Read(b[:])
	return "w-" + hex.EncodeToString(b[:])
}

func validWriterID(id string) error {
	if id == "" || len(id) > 128 {
		return errors.New("ledger: writer id must be 1 to 128 characters")
	}
	return nil
}

// loadHead reads the writer's chain head and last checkpoint.
func (l *Ledger) loadHead(ctx context.Context) error {
	seq, link, err := l.st.ChainHead(ctx, l.writer)
	if err != nil {
		return l.storeErr("read chain head", err)
	}
	l.seq = uint64(seq)
	l.head = chain.Genesis(l.writer)
	if seq > 0 {
		if l.head, err = chain.FromBytes(link); err != nil {
			return fmt.Errorf("ledger: chain head of %s: %w", l.writer, err)
		}
	}
	cp, err := l.st.LastCheckpoint(ctx, l.writer)
	if err != nil {
		return l.storeErr("read checkpoint", err)
	}
	l.cpSeq, l.cpAt = 0, l.now()
	if cp != nil {
		l.cpSeq, l.cpAt = uint64(cp.Seq), fromNano(cp.At)
	}
	return nil
}

// WriterID returns the id of this process's chain.
func (l *Ledger) WriterID() string { return l.writer }

// PublicKey returns the public key that signs this ledger's checkpoints.
func (l *Ledger) PublicKey() ed25519.PublicKey { return l.signer.Public().(ed25519.PublicKey) }

// TrustedKeys returns every public key Verify accepts, by key id.
func (l *Ledger) TrustedKeys() map[string]ed25519.PublicKey {
	out := make(map[string]ed25519.PublicKey, len(l.trusted))
	for k, v := range l.trusted {
		out[k] = v
	}
	return out
}

// Backend returns "sqlite" or "postgres".
func (l *Ledger) Backend() string { return l.st.Dialect().Name() }

// Store returns the underlying store (tools and tests).
func (l *Ledger) Store() *sqlstore.Store { return l.st }

// Metrics returns the writer's counters.
func (l *Ledger) Metrics() Metrics {
	return Metrics{
		Batches:       l.m.batches.Load(),
		Rows:          l.m.rows.Load(),
		Duplicates:    l.m.dups.Load(),
		Failures:      l.m.failures.Load(),
		Checkpoints:   l.m.checkpoints.Load(),
		LastBatchRows: int(l.m.lastRows.Load()),
		LastCommit:    time.Duration(l.m.lastCommit.Load()),

		ConsentLookupsSkipped: l.m.consentSkips.Load(),
	}
}

// Close stops accepting writes, commits what is queued, writes a final
// checkpoint and closes the store. Calls after Close fail with ErrClosed.
func (l *Ledger) Close(ctx context.Context) error {
	l.closeMu.Lock()
	if l.closed {
		l.closeMu.Unlock()
		return nil
	}
	l.closed = true
	close(l.reqs)
	l.closeMu.Unlock()
	var err error
	select {
	case <-l.done:
	case <-ctx.Done():
		err = ctx.Err()
		<-l.done // the writer ends once its current commit does
	}
	l.unlock()
	return errors.Join(err, l.st.Close())
}
