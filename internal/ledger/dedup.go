package ledger

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/consentry/consentry/internal/ledger/sqlstore"
)

// The write path on SQLite without a random index (see
// docs/design/ledger-write-path.md). Two lookups need a key that is random
// by nature: the de-duplication key of a record (a hash of tenant, vendor
// and the vendor's event id) and the subject of a data key (erasure and
// queries by subject). A B-tree index on either takes one random page per
// row. Instead, the writer stores records and data keys in append order
// and feeds two side tables, dedup and subject_keys, after the commit, in
// sorted runs: up to runRows entries (or what arrived in runInterval),
// sorted by key and inserted runChunkRows at a time inside the following
// group commits (no extra transaction or fsync). A run touches each page
// of its table at most once instead of once per row. When a run is
// complete, the meta key of its table (the highest rowid it covers) moves
// in the same transaction; what is after it is the tail:
//
//   - dedup: the tail is in memory (a map sized by what is there: a few
//     runs at most), rebuilt at open from the records after dedup_rid, so a
//     crash loses nothing; a run interrupted by a crash is written again
//     (entries already there are skipped: nothing is indexed twice).
//   - subject_keys: queries by subject read the table plus the data keys
//     after subject_keys_rowid (seconds' worth), so an erasure or an
//     auditor's query never misses a key; Verify reports a data key before
//     the mark that the table lacks.
//
// A record is stored at most once per (tenant, vendor, event id) while an
// earlier copy is in the current or the previous bucket of the dedup table
// (bucket = stored time / window): a retry is recognised for at least the
// window and at most twice it. An older copy is stored again as a new
// record (it verifies like any record; both are listed). Expired buckets
// are deleted.
//
// PostgreSQL keeps its indexes (event_hash unique, data_keys.subject_hash):
// replicas share the database and the unique index arbitrates between them.

const (
	metaDedupRID    = "dedup_rid"
	runRows         = 100000
	runInterval     = 10 * time.Second
	runChunkRows    = 2000
	dedupDeleteRows = 10000
)

// sideRuns feeds one side table in sorted runs.
type sideRuns[T any] struct {
	meta    string // meta key: the highest rowid of a completed run
	pending []T
	run     []T // sorted; written from pos
	pos     int
	started time.Time // when the last run started
	hold    time.Duration
	compare func(a, b T) int
	rowid   func(T) int64
	insert  func(tx *sqlstore.WriteTx, rows []T) error
	// done runs after the commit that completed a run.
	done func(run []T)
}

func (s *sideRuns[T]) busy() bool { return s.run != nil || len(s.pending) > 0 }

// step writes up to rows entries of the current run inside b (starting a
// run if enough is pending, or anything pending when idle).
func (s *sideRuns[T]) step(b *batchTx, idle bool, rows int) error {
	if s.run == nil && len(s.pending) > 0 && b.now.Sub(s.started) >= s.hold &&
		(idle || len(s.pending) >= runRows || b.now.Sub(s.started) >= runInterval) {
		s.run, s.pending, s.pos, s.started = s.pending, nil, 0, b.now
		slices.SortFunc(s.run, s.compare)
	}
	if s.run == nil {
		return nil
	}
	end := min(s.pos+rows, len(s.run))
	if err := s.insert(b.tx, s.run[s.pos:end]); err != nil {
		return err
	}
	if end < len(s.run) {
		b.after = append(b.after, func() { s.pos = end })
		return nil
	}
	var top int64
	for _, e := range s.run {
		top = max(top, s.rowid(e))
	}
	if err := b.tx.SetMeta(s.meta, strconv.FormatInt(top, 10)); err != nil {
		return err
	}
	run := s.run
	b.after = append(b.after, func() {
		s.run, s.pos = nil, 0
		if s.done != nil {
			s.done(run)
		}
	})
	return nil
}

// watermark reads the run's meta key.
func (s *sideRuns[T]) watermark(ctx context.Context, st *sqlstore.Store) (int64, error) {
	v, ok, err := st.Meta(ctx, s.meta)
	if err != nil || !ok {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

// sideTables is the writer's state of the side tables (SQLite only).
type sideTables struct {
	window time.Duration
	tail   map[[16]byte]int64 // event hash -> rid, records not in a completed dedup run
	maxRID int64              // the highest record rid the tail knows
	dedup  *sideRuns[sqlstore.DedupRow]

	maxKey   int64 // the highest data key rowid known
	subjects *sideRuns[sqlstore.SubjectKeyRow]
}

func newSideTables(window, hold time.Duration, now time.Time) *sideTables {
	t := &sideTables{window: window, tail: map[[16]byte]int64{}}
	t.dedup = &sideRuns[sqlstore.DedupRow]{
		meta: metaDedupRID, started: now, hold: hold,
		compare: func(x, y sqlstore.DedupRow) int {
			if c := cmp.Compare(x.Bucket, y.Bucket); c != 0 {
				return c
			}
			return bytes.Compare(x.H[:], y.H[:])
		},
		rowid:  func(r sqlstore.DedupRow) int64 { return r.RID },
		insert: (*sqlstore.WriteTx).InsertDedup,
		done: func(run []sqlstore.DedupRow) {
			for i := range run {
				if t.tail[run[i].H] == run[i].RID {
					delete(t.tail, run[i].H)
				}
			}
			if len(t.tail) == 0 {
				t.tail = map[[16]byte]int64{} // give a large map's memory back
			}
		},
	}
	t.subjects = &sideRuns[sqlstore.SubjectKeyRow]{
		meta: sqlstore.MetaSubjectKeysRowID, started: now, hold: hold,
		compare: func(x, y sqlstore.SubjectKeyRow) int {
			if c := cmp.Compare(x.Hash, y.Hash); c != 0 {
				return c
			}
			return cmp.Compare(x.DKID, y.DKID)
		},
		rowid:  func(r sqlstore.SubjectKeyRow) int64 { return r.RowID },
		insert: (*sqlstore.WriteTx).InsertSubjectKeys,
	}
	return t
}

func (t *sideTables) bucket(at time.Time) int64 { return at.UnixNano() / int64(t.window) }

// addRecord puts a stored record in the de-duplication tail.
func (t *sideTables) addRecord(rid int64, id string, h []byte) {
	if rid <= t.maxRID {
		return
	}
	at, err := idTime(id)
	if err != nil {
		return
	}
	var k [16]byte
	copy(k[:], h)
	t.tail[k] = rid
	t.dedup.pending = append(t.dedup.pending, sqlstore.DedupRow{Bucket: t.bucket(at), H: k, RID: rid})
	t.maxRID = rid
}

// addKey queues a stored data key for subject_keys.
func (t *sideTables) addKey(rowid int64, dkID string, subjectHash int64) {
	if rowid <= t.maxKey {
		return
	}
	t.subjects.pending = append(t.subjects.pending, sqlstore.SubjectKeyRow{Hash: subjectHash, DKID: dkID, RowID: rowid})
	t.maxKey = rowid
}

// loadSide rebuilds the tails at open (and after a commit that reported
// an error, which may have been stored nevertheless).
func (l *Ledger) loadSide(ctx context.Context) error {
	t := l.side
	var err error
	if t.maxRID == 0 {
		if t.maxRID, err = t.dedup.watermark(ctx, l.st); err != nil {
			return err
		}
	}
	if t.maxKey == 0 {
		if t.maxKey, err = t.subjects.watermark(ctx, l.st); err != nil {
			return err
		}
	}
	// A long tail (a ledger written by schema version 1, or a crash after
	// a long hold) is written into the tables in runs as it is read, so
	// that memory holds at most a run.
	var flushErr error
	flush := func(n int, hold time.Duration, write func(b *batchTx) error) {
		if flushErr != nil || n < runRows || hold > 0 {
			return
		}
		b, cancel, err := l.begin()
		if err != nil {
			flushErr = err
			return
		}
		defer cancel()
		if err = write(b); err == nil {
			err = b.commit()
		}
		if err != nil {
			b.tx.Rollback()
			flushErr = err
		}
	}
	from := idFloor(time.Unix(0, (t.bucket(l.now())-1)*int64(t.window)))
	err = l.st.RecordHashesAfter(ctx, t.maxRID, from, func(rid int64, id string, h []byte) {
		t.addRecord(rid, id, h)
		flush(len(t.dedup.pending), t.dedup.hold, func(b *batchTx) error { return t.dedup.step(b, true, runRows) })
	})
	if err = cmp.Or(err, flushErr); err != nil {
		return err
	}
	err = l.st.DataKeysAfter(ctx, t.maxKey, func(rowid int64, dkID string, h int64) {
		t.addKey(rowid, dkID, h)
		flush(len(t.subjects.pending), t.subjects.hold, func(b *batchTx) error { return t.subjects.step(b, true, runRows) })
	})
	return cmp.Or(err, flushErr)
}

// existing returns, by event key, the id of the stored record of each key.
func (t *sideTables) existing(b *batchTx, keys []sqlstore.EventKey) (map[sqlstore.EventKey]string, error) {
	out := map[sqlstore.EventKey]string{}
	var probe [][16]byte
	byHash := make(map[[16]byte]sqlstore.EventKey, len(keys))
	var tailRIDs []int64
	tailHit := map[int64]sqlstore.EventKey{}
	for _, k := range keys {
		var h [16]byte
		copy(h[:], sqlstore.EventHash(k))
		byHash[h] = k
		if rid, ok := t.tail[h]; ok {
			tailRIDs = append(tailRIDs, rid)
			tailHit[rid] = k
			continue
		}
		probe = append(probe, h)
	}
	if len(tailRIDs) > 0 {
		ids, err := b.tx.RecordIDsByRID(tailRIDs)
		if err != nil {
			return nil, err
		}
		for rid, id := range ids {
			out[tailHit[rid]] = id
		}
	}
	if len(probe) > 0 {
		cur := t.bucket(b.now)
		found, err := b.tx.DedupLookup(probe, cur-1, cur)
		if err != nil {
			return nil, err
		}
		for h, id := range found {
			out[byHash[h]] = id
		}
	}
	return out, nil
}

// step writes the next chunks of both side tables inside b.
func (t *sideTables) step(b *batchTx, idle bool, rows int) error {
	if err := t.dedup.step(b, idle, rows); err != nil {
		return err
	}
	return t.subjects.step(b, idle, rows)
}

func (t *sideTables) busy() bool { return t.dedup.busy() || t.subjects.busy() }

// sideIdle moves the tails into the side tables when the writer is idle,
// and deletes expired de-duplication entries.
func (b *batchTx) sideIdle() error {
	t := b.l.side
	if err := t.step(b, true, 5*runChunkRows); err != nil {
		return err
	}
	_, err := b.tx.DeleteDedupBefore(t.bucket(b.now)-1, dedupDeleteRows)
	return err
}
