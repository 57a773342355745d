package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrConflict is returned when rows that the transaction checked to be new
// were stored concurrently by another writer (PostgreSQL replicas receiving
// the same retried event at once). The caller rolls back and retries.
var ErrConflict = errors.New("concurrent insert of the same rows")

// WriteTx is a write transaction. The ledger runs one at a time per
// database handle (its single writer goroutine).
type WriteTx struct {
	s   *Store
	tx  *sql.Tx
	ctx context.Context
}

// BeginWrite starts a write transaction (BEGIN IMMEDIATE on SQLite).
func (s *Store) BeginWrite(ctx context.Context) (*WriteTx, error) {
	if err := s.prepareWrites(ctx); err != nil {
		return nil, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &WriteTx{s: s, tx: tx, ctx: ctx}, nil
}

// stmt returns query bound to the transaction: prepared once on the
// writer's connection if it is one of writeQueries, else prepared now.
// Close it after use (the shared prepared statement stays).
func (t *WriteTx) stmt(query string) (*sql.Stmt, error) {
	if ps := t.s.wstmt(query); ps != nil {
		return t.tx.StmtContext(t.ctx, ps), nil
	}
	return t.tx.PrepareContext(t.ctx, query)
}

const (
	existingRecordQuery   = `SELECT id FROM records WHERE event_hash = $1`
	dedupLookupQuery      = `SELECT r.id FROM dedup d CROSS JOIN records r ON r.rid = d.rid WHERE d.bucket IN ($1, $2) AND d.h = $3` // CROSS JOIN: dedup first (SQLite keeps the order)
	dedupInsertQuery      = `INSERT INTO dedup (bucket, h, rid) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`
	subjectKeyInsertQuery = `INSERT INTO subject_keys (subject_hash, dk_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`
)

func insertQuery(tb *table) string {
	return "INSERT INTO " + tb.name + " (" + strings.Join(tb.cols, ", ") + ") VALUES (" + placeholders(len(tb.cols), 1) + ") ON CONFLICT DO NOTHING"
}

// writeQueries are the statements the SQLite writer runs per row.
func writeQueries() []string {
	qs := []string{dedupLookupQuery, dedupInsertQuery, subjectKeyInsertQuery}
	for _, tb := range []*table{recordsTable, payloadsTable, chainTable, dataKeysTable, consentsTable, accessTable, checkpointsTable} {
		qs = append(qs, insertQuery(tb))
	}
	return qs
}

// Commit commits the transaction.
func (t *WriteTx) Commit() error { return t.tx.Commit() }

// Rollback rolls the transaction back; it is a no-op after Commit.
func (t *WriteTx) Rollback() error {
	err := t.tx.Rollback()
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

func placeholders(n, start int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(start + i))
	}
	return b.String()
}

// insert stores rows into tb, skipping rows that conflict with a unique
// constraint, and returns how many were stored. With returning set (table
// records only) it also returns the rid of every stored row by id.
func (t *WriteTx) insert(tb *table, rows [][]any, returning bool) (int64, map[string]int64, error) {
	if len(rows) == 0 {
		return 0, nil, nil
	}
	var rids map[string]int64
	if returning {
		rids = make(map[string]int64, len(rows))
	}
	cols := strings.Join(tb.cols, ", ")
	if t.s.d.MultiRow() {
		arrays := make([]any, len(tb.cols))
		casts := make([]string, len(tb.cols))
		for c, typ := range tb.types {
			casts[c] = fmt.Sprintf("$%d::%s[]", c+1, typ)
			switch typ {
			case "text":
				a := make([]string, len(rows))
				for i, r := range rows {
					a[i] = r[c].(string)
				}
				arrays[c] = a
			case "int8":
				a := make([]int64, len(rows))
				for i, r := range rows {
					a[i] = r[c].(int64)
				}
				arrays[c] = a
			case "bytea":
				a := make([][]byte, len(rows))
				for i, r := range rows {
					a[i] = r[c].([]byte)
				}
				arrays[c] = a
			}
		}
		q := "INSERT INTO " + tb.name + " (" + cols + ") SELECT * FROM unnest(" + strings.Join(casts, ", ") + ") ON CONFLICT DO NOTHING"
		if !returning {
			res, err := t.tx.ExecContext(t.ctx, q, arrays...)
			if err != nil {
				return 0, nil, err
			}
			n, err := res.RowsAffected()
			return n, nil, err
		}
		rs, err := t.tx.QueryContext(t.ctx, q+" RETURNING id, rid", arrays...)
		if err != nil {
			return 0, nil, err
		}
		defer rs.Close()
		for rs.Next() {
			var id string
			var rid int64
			if err := rs.Scan(&id, &rid); err != nil {
				return 0, nil, err
			}
			rids[id] = rid
		}
		return int64(len(rids)), rids, rs.Err()
	}
	stmt, err := t.stmt(insertQuery(tb))
	if err != nil {
		return 0, nil, err
	}
	defer stmt.Close()
	var total int64
	for _, r := range rows {
		res, err := stmt.ExecContext(t.ctx, r...)
		if err != nil {
			return total, nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, nil, err
		}
		total += n
		if returning && n == 1 {
			rid, err := res.LastInsertId()
			if err != nil {
				return total, nil, err
			}
			rids[r[0].(string)] = rid
		}
	}
	return total, rids, nil
}

// ExistingRecords returns the ids of the records already stored for keys.
func (t *WriteTx) ExistingRecords(keys []EventKey) (map[EventKey]string, error) {
	out := map[EventKey]string{}
	if len(keys) == 0 {
		return out, nil
	}
	byHash := make(map[string]EventKey, len(keys))
	hashes := make([][]byte, len(keys))
	for i, k := range keys {
		hashes[i] = EventHash(k)
		byHash[string(hashes[i])] = k
	}
	found := func(h []byte, id string) {
		if k, ok := byHash[string(h)]; ok {
			out[k] = id
		}
	}
	if t.s.d.MultiRow() {
		rows, err := t.tx.QueryContext(t.ctx, `SELECT event_hash, id FROM records WHERE event_hash = ANY($1::bytea[])`, hashes)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var h []byte
			var id string
			if err := rows.Scan(&h, &id); err != nil {
				return nil, err
			}
			found(h, id)
		}
		return out, rows.Err()
	}
	stmt, err := t.stmt(existingRecordQuery)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	for _, h := range hashes {
		var id string
		err := stmt.QueryRowContext(t.ctx, h).Scan(&id)
		switch {
		case err == nil:
			found(h, id)
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
	}
	return out, nil
}

// inQuery runs q (which has one %s for a list of placeholders after the
// fixed args) over ids in chunks and calls fn for each row.
func inQuery(ctx context.Context, q queryer, query string, fixed []any, ids []string, fn func(*sql.Rows) error) error {
	const chunk = 500
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		args := append(append([]any(nil), fixed...), toAny(ids[:n])...)
		rows, err := q.QueryContext(ctx, fmt.Sprintf(query, placeholders(n, len(fixed)+1)), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := fn(rows); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// ExistingConsents returns which of ids are stored consent records.
func (t *WriteTx) ExistingConsents(ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := inQuery(t.ctx, t.tx, `SELECT id FROM consents WHERE id IN (%s)`, nil, ids, func(r *sql.Rows) error {
		var id string
		if err := r.Scan(&id); err != nil {
			return err
		}
		out[id] = true
		return nil
	})
	return out, err
}

// ErasedKeys returns which of the data key ids are erased.
func (t *WriteTx) ErasedKeys(ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	scan := func(r *sql.Rows) error {
		var id string
		if err := r.Scan(&id); err != nil {
			return err
		}
		out[id] = true
		return nil
	}
	if !t.s.d.MultiRow() {
		err := inQuery(t.ctx, t.tx, `SELECT dk_id FROM data_keys WHERE erased_at <> 0 AND dk_id IN (%s)`, nil, ids, scan)
		return out, err
	}
	// One statement text whatever the number of ids, so that it is
	// prepared once per connection.
	rows, err := t.tx.QueryContext(t.ctx, `SELECT dk_id FROM data_keys WHERE erased_at <> 0 AND dk_id = ANY($1::text[])`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

// InsertDataKeys stores new data keys (an id already stored is skipped)
// and, on SQLite, returns the rowid of each key stored, by id.
func (t *WriteTx) InsertDataKeys(keys []DataKeyRow) (map[string]int64, error) {
	rows := make([][]any, len(keys))
	for i := range keys {
		rows[i] = keys[i].values()
	}
	_, rowids, err := t.insert(dataKeysTable, rows, !t.s.d.MultiRow())
	return rowids, err
}

// SubjectKeyRow is an entry of the subject_keys table (SQLite): a data
// key by its subject's hash; RowID is the data key's rowid.
type SubjectKeyRow struct {
	Hash  int64
	DKID  string
	RowID int64
}

// InsertSubjectKeys adds entries to subject_keys (an entry already there
// is skipped).
func (t *WriteTx) InsertSubjectKeys(rows []SubjectKeyRow) error {
	return t.execEach(subjectKeyInsertQuery, len(rows), func(i int) []any { return []any{rows[i].Hash, rows[i].DKID} })
}

// InsertRecords stores records and their payloads (payloads[i] belongs to
// recs[i]) and returns the rid of each record by id. If any record was
// stored concurrently (same id or event key) it returns ErrConflict and the
// transaction must be rolled back.
func (t *WriteTx) InsertRecords(recs []RecordRow, payloads []PayloadRow) (map[string]int64, error) {
	order := make([]int, len(recs))
	for i := range order {
		order[i] = i
	}
	if t.s.d.Shared() {
		// Writers that insert the same events lock their keys in the same
		// order, so they wait for each other instead of deadlocking.
		sort.Slice(order, func(a, b int) bool {
			x, y := &recs[order[a]], &recs[order[b]]
			if x.Tenant != y.Tenant {
				return x.Tenant < y.Tenant
			}
			if x.Vendor != y.Vendor {
				return x.Vendor < y.Vendor
			}
			return x.EventID < y.EventID
		})
	}
	rows := make([][]any, len(recs))
	for i, j := range order {
		rows[i] = recs[j].values()
	}
	n, rids, err := t.insert(recordsTable, rows, true)
	if err != nil {
		return nil, err
	}
	if n != int64(len(recs)) {
		return nil, ErrConflict
	}
	prows := make([][]any, len(payloads))
	for i := range payloads {
		rid, ok := rids[recs[i].ID]
		if !ok {
			return nil, ErrConflict
		}
		prows[i] = []any{rid, payloads[i].Nonce, payloads[i].Ciphertext}
	}
	_, _, err = t.insert(payloadsTable, prows, false)
	return rids, err
}

// DedupRow is an entry of the de-duplication table (SQLite): a stored
// record's event hash in the bucket of its stored time.
type DedupRow struct {
	Bucket int64
	H      [16]byte
	RID    int64
}

// DedupLookup returns the ids of the records whose event hash is in the
// dedup table in one of the two buckets, by hash.
func (t *WriteTx) DedupLookup(hashes [][16]byte, bucket0, bucket1 int64) (map[[16]byte]string, error) {
	out := map[[16]byte]string{}
	stmt, err := t.stmt(dedupLookupQuery)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	for _, h := range hashes {
		var id string
		err := stmt.QueryRowContext(t.ctx, bucket0, bucket1, h[:]).Scan(&id)
		switch {
		case err == nil:
			out[h] = id
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
	}
	return out, nil
}

// InsertDedup adds entries to the dedup table (an entry already there is
// skipped: a run interrupted by a crash is written again).
func (t *WriteTx) InsertDedup(rows []DedupRow) error {
	return t.execEach(dedupInsertQuery, len(rows), func(i int) []any { return []any{rows[i].Bucket, rows[i].H[:], rows[i].RID} })
}

// execEach runs a prepared statement n times with args(i).
func (t *WriteTx) execEach(query string, n int, args func(i int) []any) error {
	if n == 0 {
		return nil
	}
	stmt, err := t.stmt(query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range n {
		if _, err := stmt.ExecContext(t.ctx, args(i)...); err != nil {
			return err
		}
	}
	return nil
}

// DeleteDedupBefore deletes up to limit entries of buckets older than
// bucket and returns how many it deleted.
func (t *WriteTx) DeleteDedupBefore(bucket int64, limit int) (int64, error) {
	res, err := t.tx.ExecContext(t.ctx, `DELETE FROM dedup WHERE (bucket, h) IN (SELECT bucket, h FROM dedup WHERE bucket < $1 LIMIT $2)`, bucket, limit)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// RecordIDsByRID returns the ids of records by rid.
func (t *WriteTx) RecordIDsByRID(rids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	for _, rid := range rids {
		var id string
		err := t.tx.QueryRowContext(t.ctx, `SELECT id FROM records WHERE rid = $1`, rid).Scan(&id)
		switch {
		case err == nil:
			out[rid] = id
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
	}
	return out, nil
}

// InsertConsents stores consent records; ErrConflict as for records.
func (t *WriteTx) InsertConsents(cs []ConsentRow) error {
	rows := make([][]any, len(cs))
	for i := range cs {
		rows[i] = cs[i].values()
	}
	n, _, err := t.insert(consentsTable, rows, false)
	if err == nil && n != int64(len(cs)) {
		return ErrConflict
	}
	return err
}

// InsertAccess stores access-log entries.
func (t *WriteTx) InsertAccess(as []AccessRow) error {
	rows := make([][]any, len(as))
	for i := range as {
		rows[i] = as[i].values()
	}
	n, _, err := t.insert(accessTable, rows, false)
	if err == nil && n != int64(len(as)) {
		return ErrConflict
	}
	return err
}

// InsertChain appends chain entries. A (writer, seq) already taken means
// another process writes the same chain: ErrConflict.
func (t *WriteTx) InsertChain(cs []ChainRow) error {
	rows := make([][]any, len(cs))
	for i := range cs {
		rows[i] = cs[i].values()
	}
	n, _, err := t.insert(chainTable, rows, false)
	if err == nil && n != int64(len(cs)) {
		return ErrConflict
	}
	return err
}

// InsertCheckpoint stores a checkpoint.
func (t *WriteTx) InsertCheckpoint(c CheckpointRow) error {
	n, _, err := t.insert(checkpointsTable, [][]any{c.values()}, false)
	if err == nil && n != 1 {
		return ErrConflict
	}
	return err
}

// EraseKeys destroys every data key of a subject: the wrapped key is
// deleted and erased_at set. It returns the ids of the keys destroyed.
func (t *WriteTx) EraseKeys(tenant, subjectKey string, at int64) ([]string, error) {
	rows, err := t.tx.QueryContext(t.ctx, `UPDATE data_keys SET wrapped = NULL, kek_id = '', erased_at = $3
		WHERE dk_id IN (`+t.s.subjectKeys(equals("$4"), "$2")+`) AND tenant = $1 AND subject_key = $2 AND erased_at = 0 RETURNING dk_id`, tenant, subjectKey, at, SubjectHash(subjectKey))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// CountSubjectRecords counts a subject's records.
func (t *WriteTx) CountSubjectRecords(tenant, subjectKey string) (int64, error) {
	var n int64
	err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM records r WHERE r.tenant = $3 AND r.subject_key = $2
		AND r.dk_id IN (`+t.s.subjectKeys(equals("$1"), "$2")+`)`,
		SubjectHash(subjectKey), subjectKey, tenant).Scan(&n)
	return n, err
}

// PurgeChunk deletes the payloads of up to limit unpurged records whose id
// is in (after, before), in id order, and marks them purged at at. It
// returns how many it purged and the last id it handled.
func (t *WriteTx) PurgeChunk(after, before string, at int64, limit int) (int64, string, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT rid, id FROM records WHERE id > $1 AND id < $2 AND purged_at = 0 ORDER BY id LIMIT $3`, after, before, limit)
	if err != nil {
		return 0, "", err
	}
	var rids []string
	last := ""
	for rows.Next() {
		var rid int64
		if err := rows.Scan(&rid, &last); err != nil {
			rows.Close()
			return 0, "", err
		}
		rids = append(rids, strconv.FormatInt(rid, 10))
	}
	if err := rows.Close(); err != nil {
		return 0, "", err
	}
	if len(rids) == 0 {
		return 0, "", nil
	}
	list := strings.Join(rids, ",") // integers from the database: safe to inline
	if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM payloads WHERE rid IN (`+list+`)`); err != nil {
		return 0, "", err
	}
	res, err := t.tx.ExecContext(t.ctx, `UPDATE records SET purged_at = $1 WHERE rid IN (`+list+`)`, at)
	if err != nil {
		return 0, "", err
	}
	n, err := res.RowsAffected()
	return n, last, err
}

// MarkReleased flags records as handed back to the forward pipeline and
// returns the ids it flagged (records already released are skipped).
func (t *WriteTx) MarkReleased(ids []string, at int64) ([]string, error) {
	var todo []string
	err := inQuery(t.ctx, t.tx, `SELECT id FROM records WHERE released_at = 0 AND id IN (%s)`, nil, ids, func(r *sql.Rows) error {
		var id string
		if err := r.Scan(&id); err != nil {
			return err
		}
		todo = append(todo, id)
		return nil
	})
	if err != nil || len(todo) == 0 {
		return nil, err
	}
	const chunk = 500
	for i := 0; i < len(todo); i += chunk {
		part := todo[i:min(i+chunk, len(todo))]
		args := append([]any{at}, toAny(part)...)
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE records SET released_at = $1 WHERE id IN (`+placeholders(len(part), 2)+`)`, args...); err != nil {
			return nil, err
		}
	}
	return todo, nil
}

// Rewrap replaces a data key's wrapping if it is still wrapped by oldKEK
// and not erased; it reports whether it did.
func (t *WriteTx) Rewrap(dkID, oldKEK, newKEK string, wrapped []byte) (bool, error) {
	res, err := t.tx.ExecContext(t.ctx, `UPDATE data_keys SET kek_id = $1, wrapped = $2 WHERE dk_id = $3 AND kek_id = $4 AND erased_at = 0`,
		newKEK, wrapped, dkID, oldKEK)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetMeta sets a key of the meta table.
func (t *WriteTx) SetMeta(key, value string) error {
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}
