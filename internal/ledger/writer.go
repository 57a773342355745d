package ledger

import (
	"context"
	"crypto/ed25519"
	"errors"
	"sync/atomic"
	"time"

	"github.com/consentry/consentry/internal/ledger/chain"
	"github.com/consentry/consentry/internal/ledger/sqlstore"
)

// A request is one caller's rows (records, consent records, access-log
// entries), committed together in a group commit, or a control operation
// (op) that runs alone in its own transaction. The writer goroutine fills
// in the results, then closes done.
type request struct {
	ctx      context.Context
	records  []*recItem
	consents []*consentItem
	access   []*accessItem
	op       func(b *batchTx) error
	err      error
	done     chan struct{}
	// state of an op: opQueued, then opRunning (the writer took it) or
	// opAbandoned (its caller gave up first, so it never runs).
	state atomic.Int32
}

const (
	opQueued int32 = iota
	opRunning
	opAbandoned
)

func (r *request) rows() int { return len(r.records) + len(r.consents) + len(r.access) }

type recItem struct {
	row     sqlstore.RecordRow
	payload sqlstore.PayloadRow
	digest  chain.Hash
	key     *dataKey
	// Results.
	id  string
	dup bool
	err error
}

type consentItem struct {
	row    sqlstore.ConsentRow
	digest chain.Hash
	id     string
	dup    bool
}

type accessItem struct {
	row    sqlstore.AccessRow
	digest chain.Hash
}

// errKeyErased marks a record sealed under a data key that was erased
// before the record could be stored; Append seals it again under a new key.
var errKeyErased = errors.New("ledger: data key erased while the record was queued")

// submit queues r and waits until it is committed (or failed).
func (l *Ledger) submit(ctx context.Context, r *request) error {
	r.ctx = ctx
	r.done = make(chan struct{})
	l.closeMu.RLock()
	if l.closed {
		l.closeMu.RUnlock()
		return ErrClosed
	}
	select {
	case l.reqs <- r:
		l.closeMu.RUnlock()
	case <-ctx.Done():
		l.closeMu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		// The rows may still be committed; a retry is de-duplicated.
		return ctx.Err()
	}
}

// do runs op in the writer goroutine, in its own transaction. An op writes
// its caller's variables, so once the writer has started it, do waits for
// it to end even if ctx ends first (one transaction, bounded by
// CommitTimeout); an op not started yet is abandoned and never runs.
func (l *Ledger) do(ctx context.Context, op func(b *batchTx) error) error {
	r := &request{op: op}
	err := l.submit(ctx, r)
	if err == nil || r.done == nil || ctx.Err() == nil {
		return err
	}
	if r.state.CompareAndSwap(opQueued, opAbandoned) {
		return err
	}
	<-r.done
	if r.err != nil {
		return r.err
	}
	return err
}

func (l *Ledger) run() {
	defer close(l.done)
	tick := time.NewTicker(l.opts.CheckpointInterval)
	defer tick.Stop()
	// The side tables' tails move into them when the writer is idle
	// (under load, inside the group commits), and expired entries go.
	idle := time.NewTicker(time.Second)
	defer idle.Stop()
	lastExpire := time.Time{}
	var pending *request
	open := true
	lastOptimize, optimizedRows := time.Now(), int64(0)
	for open || pending != nil {
		first := pending
		pending = nil
		if first == nil {
			select {
			case r, ok := <-l.reqs:
				if !ok {
					open = false
					continue
				}
				first = r
			case <-idle.C:
				if l.side != nil && (l.side.busy() || time.Since(lastExpire) > time.Minute) {
					lastExpire = time.Now()
					l.runOp(&request{ctx: context.Background(), op: (*batchTx).sideIdle, done: make(chan struct{})})
				}
				continue
			case <-tick.C:
				if l.seq > l.cpSeq {
					l.runOp(&request{ctx: context.Background(), op: (*batchTx).checkpoint, done: make(chan struct{})})
				}
				// Planner statistics: every 10 minutes, or sooner while the
				// ledger grows fast (SQLite's PRAGMA optimize only analyzes
				// what changed).
				if rows := l.m.rows.Load(); time.Since(lastOptimize) > 10*time.Minute ||
					(rows-optimizedRows > 100000 && time.Since(lastOptimize) > time.Minute) {
					lastOptimize, optimizedRows = time.Now(), rows
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					l.st.Optimize(ctx) // best effort: only the planner's statistics
					cancel()
				}
				continue
			}
		}
		if first.op != nil {
			l.runOp(first)
			continue
		}
		batch := []*request{first}
		n := first.rows()
		var timer *time.Timer
	collect:
		for n < l.opts.BatchRows {
			// Take what is queued; then wait up to the linger for more.
			select {
			case r, ok := <-l.reqs:
				if !ok {
					open = false
					break collect
				}
				if r.op != nil {
					pending = r
					break collect
				}
				batch = append(batch, r)
				n += r.rows()
				continue
			default:
			}
			if l.opts.BatchLinger < 0 {
				break
			}
			if timer == nil {
				timer = time.NewTimer(l.opts.BatchLinger)
			}
			select {
			case r, ok := <-l.reqs:
				if !ok {
					open = false
					break collect
				}
				if r.op != nil {
					pending = r
					break collect
				}
				batch = append(batch, r)
				n += r.rows()
			case <-timer.C:
				break collect
			}
		}
		if timer != nil {
			timer.Stop()
		}
		l.commitBatch(batch)
		// The callers have their answers: what the store does between
		// transactions delays only the next group commit.
		l.st.BetweenWrites(context.Background())
	}
	if l.seq > l.cpSeq {
		l.runOp(&request{ctx: context.Background(), op: (*batchTx).checkpoint, done: make(chan struct{})})
	}
}

// batchTx is a write transaction of the writer goroutine with the chain
// state it extends; the state becomes the ledger's on commit.
type batchTx struct {
	l     *Ledger
	tx    *sqlstore.WriteTx
	ctx   context.Context
	now   time.Time
	seq   uint64
	head  chain.Hash
	rows  []sqlstore.ChainRow
	cp    *chain.Checkpoint
	after []func() // run after a successful commit
}

func (l *Ledger) begin() (*batchTx, context.CancelFunc, error) {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if l.st.Dialect().Shared() {
		// A network database can hang; SQLite waits at most its busy
		// timeout, and a context with a deadline would cost a goroutine per
		// statement in the driver.
		ctx, cancel = context.WithTimeout(ctx, l.opts.CommitTimeout)
	}
	tx, err := l.st.BeginWrite(ctx)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return &batchTx{l: l, tx: tx, ctx: ctx, now: l.now(), seq: l.seq, head: l.head}, cancel, nil
}

// add appends a chain entry and returns its seq.
func (b *batchTx) add(kind, ref string, digest chain.Hash, body, sig []byte) uint64 {
	b.seq++
	prev := b.head
	b.head = chain.Link(prev, digest)
	b.rows = append(b.rows, sqlstore.ChainRow{
		WriterID: b.l.writer, Seq: int64(b.seq), Kind: kind, Ref: ref, At: b.now.UnixNano(),
		Digest: clone(digest), Prev: clone(prev), Link: clone(b.head), Body: body, Sig: sig,
	})
	return b.seq
}

func clone(h chain.Hash) []byte { return append([]byte(nil), h[:]...) }

// event appends a signed event (tombstone) with a body.
func (b *batchTx) event(kind string, body []byte) uint64 {
	digest := EventDigest(kind, body)
	seq := b.seq + 1
	sig := ed25519.Sign(b.l.signer, chain.EntryMessage(b.l.writer, seq, kind, digest))
	return b.add(kind, "", digest, body, sig)
}

// checkpoint signs the chain head as of this transaction.
func (b *batchTx) checkpoint() error {
	if b.seq == 0 || b.seq == b.l.cpSeq || (b.cp != nil && b.cp.Seq == b.seq) {
		return nil
	}
	prev := b.l.cpSeq
	cp := &chain.Checkpoint{WriterID: b.l.writer, Seq: b.seq, Head: b.head, At: b.now, PrevSeq: prev}
	cp.Sign(b.l.signer)
	b.cp = cp
	return nil
}

// commit writes the chain entries and checkpoint, commits, and makes the
// new chain state the ledger's.
func (b *batchTx) commit() error {
	if err := b.tx.InsertChain(b.rows); err != nil {
		return err
	}
	if b.cp != nil {
		if err := b.tx.InsertCheckpoint(sqlstore.CheckpointRow{
			WriterID: b.cp.WriterID, Seq: int64(b.cp.Seq), Head: clone(b.cp.Head), At: b.cp.At.UnixNano(),
			PrevSeq: int64(b.cp.PrevSeq), KeyID: b.cp.KeyID, Sig: b.cp.Signature,
		}); err != nil {
			return err
		}
	}
	if err := b.tx.Commit(); err != nil {
		return err
	}
	l := b.l
	l.m.rows.Add(int64(b.seq - l.seq))
	l.seq, l.head = b.seq, b.head
	if b.cp != nil {
		l.cpSeq, l.cpAt = b.cp.Seq, b.cp.At
		l.m.checkpoints.Add(1)
	}
	for _, f := range b.after {
		f()
	}
	return nil
}

// recover re-reads the chain head after a failed transaction: if the
// commit reached the database although it reported an error, the next
// transaction must continue from there.
func (l *Ledger) recover() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// On failure the old state is kept: a stale seq makes the next insert
	// conflict, which triggers another recover.
	_ = l.loadHead(ctx)
	if l.side != nil {
		_ = l.loadSide(ctx)
	}
}

func (l *Ledger) runOp(r *request) {
	defer close(r.done)
	if !r.state.CompareAndSwap(opQueued, opRunning) || r.ctx.Err() != nil {
		r.err = context.Canceled
		if err := r.ctx.Err(); err != nil {
			r.err = err
		}
		return
	}
	b, cancel, err := l.begin()
	if err != nil {
		r.err = l.storeErr("begin", err)
		l.m.failures.Add(1)
		return
	}
	defer cancel()
	if err = r.op(b); err == nil {
		err = b.commit()
	}
	if err != nil {
		b.tx.Rollback()
		l.m.failures.Add(1)
		l.recover()
		r.err = l.storeErr("write", err)
		return
	}
	l.m.batches.Add(1)
}

func (l *Ledger) commitBatch(batch []*request) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			close(r.done)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	start := time.Now()
	var err error
	for attempt := 0; ; attempt++ {
		err = l.tryCommit(live)
		if err == nil {
			break
		}
		l.recover()
		if !errors.Is(err, sqlstore.ErrConflict) || attempt == 4 {
			break
		}
	}
	if err != nil {
		l.m.failures.Add(1)
		err = l.storeErr("commit", err)
	} else {
		l.m.batches.Add(1)
		n := 0
		for _, r := range live {
			n += r.rows()
		}
		l.m.lastRows.Store(int64(n))
		l.m.lastCommit.Store(int64(time.Since(start)))
	}
	for _, r := range live {
		r.err = err
		close(r.done)
	}
}

func (l *Ledger) tryCommit(live []*request) error {
	b, cancel, err := l.begin()
	if err != nil {
		return err
	}
	defer cancel()
	defer b.tx.Rollback()

	// De-duplicate records: first within the batch, then against the store.
	first := map[sqlstore.EventKey]*recItem{}
	var keys []sqlstore.EventKey
	var recs []*recItem
	for _, r := range live {
		for _, it := range r.records {
			it.id, it.dup, it.err = it.row.ID, false, nil
			k := sqlstore.EventKey{Tenant: it.row.Tenant, Vendor: it.row.Vendor, EventID: it.row.EventID}
			if _, ok := first[k]; ok {
				it.dup = true
			} else {
				first[k] = it
				keys = append(keys, k)
			}
			recs = append(recs, it)
		}
	}
	if len(keys) > 0 {
		var existing map[sqlstore.EventKey]string
		var err error
		if l.side != nil {
			existing, err = l.side.existing(b, keys)
		} else {
			existing, err = b.tx.ExistingRecords(keys)
		}
		if err != nil {
			return err
		}
		for k, id := range existing {
			it := first[k]
			it.dup, it.id = true, id
		}
	}
	// Records sealed under a key erased since: not stored, sealed again.
	var check []string
	checked := map[string]bool{}
	for _, it := range recs {
		if !it.dup && it.key.persisted.Load() && !checked[it.key.row.ID] {
			checked[it.key.row.ID] = true
			check = append(check, it.key.row.ID)
		}
	}
	erased := l.erased
	if l.st.Dialect().Shared() && len(check) > 0 {
		if erased, err = b.tx.ErasedKeys(check); err != nil {
			return err
		}
	}
	var newKeys []sqlstore.DataKeyRow
	added := map[string]bool{}
	var rows []sqlstore.RecordRow
	var payloads []sqlstore.PayloadRow
	for _, it := range recs {
		k := sqlstore.EventKey{Tenant: it.row.Tenant, Vendor: it.row.Vendor, EventID: it.row.EventID}
		f := first[k]
		if erased[f.key.row.ID] && !f.dup {
			it.err = errKeyErased
			continue
		}
		if it.dup {
			if f != it {
				it.id = f.id
			}
			continue
		}
		if !it.key.persisted.Load() && !added[it.key.row.ID] {
			added[it.key.row.ID] = true
			newKeys = append(newKeys, it.key.row)
		}
	}
	keyRowIDs, err := b.tx.InsertDataKeys(newKeys)
	if err != nil {
		return err
	}

	// De-duplicate consent records by id.
	firstC := map[string]*consentItem{}
	var cids []string
	for _, r := range live {
		for _, c := range r.consents {
			c.id, c.dup = c.row.ID, false
			if _, ok := firstC[c.row.ID]; ok {
				c.dup = true
				continue
			}
			firstC[c.row.ID] = c
			cids = append(cids, c.row.ID)
		}
	}
	if len(cids) > 0 {
		existing, err := b.tx.ExistingConsents(cids)
		if err != nil {
			return err
		}
		for id := range existing {
			firstC[id].dup = true
		}
	}

	// Chain everything that is stored, in arrival order.
	var consents, dupConsents []sqlstore.ConsentRow
	var access []sqlstore.AccessRow
	dups := 0
	for _, r := range live {
		for _, it := range r.records {
			if it.dup || it.err != nil {
				if it.dup {
					dups++
				}
				continue
			}
			it.row.WriterID = l.writer
			it.row.Seq = int64(b.add("record", it.row.ID, it.digest, nil, nil))
			rows = append(rows, it.row)
			payloads = append(payloads, it.payload)
		}
		for _, c := range r.consents {
			if c.dup {
				dups++
				// Known to be stored: the consent index must have its
				// subject even if the commit that stored it reported an
				// error (the caller's retry lands here).
				dupConsents = append(dupConsents, c.row)
				continue
			}
			c.row.WriterID = l.writer
			c.row.Seq = int64(b.add("consent", c.row.ID, c.digest, nil, nil))
			consents = append(consents, c.row)
		}
		for _, a := range r.access {
			a.row.WriterID = l.writer
			a.row.Seq = int64(b.add("access", a.row.ID, a.digest, nil, nil))
			access = append(access, a.row)
		}
	}
	rids, err := b.tx.InsertRecords(rows, payloads)
	if err != nil {
		return err
	}
	if t := l.side; t != nil {
		// Stored records and data keys join the side tables' tails once
		// committed (in rowid order); the tails move on into the tables by
		// chunks of sorted runs (dedup.go).
		b.after = append(b.after, func() {
			for i := range newKeys {
				t.addKey(keyRowIDs[newKeys[i].ID], newKeys[i].ID, sqlstore.SubjectHash(newKeys[i].SubjectKey))
			}
			for i := range rows {
				t.addRecord(rids[rows[i].ID], rows[i].ID, sqlstore.EventHash(sqlstore.EventKey{Tenant: rows[i].Tenant, Vendor: rows[i].Vendor, EventID: rows[i].EventID}))
			}
		})
		if err := t.step(b, false, runChunkRows); err != nil {
			return err
		}
	}
	if err := b.tx.InsertConsents(consents); err != nil {
		return err
	}
	if err := b.tx.InsertAccess(access); err != nil {
		return err
	}
	if b.seq-l.cpSeq >= uint64(l.opts.CheckpointEvery) {
		b.checkpoint()
	}
	b.after = append(b.after, func() {
		l.consents.add(consents)
		l.consents.add(dupConsents)
		for _, it := range recs {
			if !it.dup && it.err == nil {
				it.key.persisted.Store(true)
			}
		}
		l.m.dups.Add(int64(dups))
	})
	return b.commit()
}
