package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Meta returns a key of the meta table.
func (s *Store) Meta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.w.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, err
}

// RecordHashesAfter calls fn for every record with rid > afterRID and id >=
// fromID, in rid order, with its rid, id and event hash (to rebuild the
// writer's in-memory de-duplication tail at open).
func (s *Store) RecordHashesAfter(ctx context.Context, afterRID int64, fromID string, fn func(rid int64, id string, h []byte)) error {
	rows, err := s.r.QueryContext(ctx, `SELECT rid, id, event_hash FROM records WHERE rid > $1 AND id >= $2 ORDER BY rid`, afterRID, fromID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var rid int64
		var id string
		var h []byte
		if err := rows.Scan(&rid, &id, &h); err != nil {
			return err
		}
		fn(rid, id, h)
	}
	return rows.Err()
}

// DataKeysAfter calls fn for every data key with rowid > after, in rowid
// order (to rebuild the subject_keys tail at open).
func (s *Store) DataKeysAfter(ctx context.Context, after int64, fn func(rowid int64, dkID string, subjectHash int64)) error {
	rows, err := s.r.QueryContext(ctx, `SELECT rowid, dk_id, subject_hash FROM data_keys WHERE rowid > $1 ORDER BY rowid`, after)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var rowid, h int64
		var id string
		if err := rows.Scan(&rowid, &id, &h); err != nil {
			return err
		}
		fn(rowid, id, h)
	}
	return rows.Err()
}

// MetaSubjectKeysRowID is the meta key of the highest data_keys rowid the
// subject_keys table covers (SQLite).
const MetaSubjectKeysRowID = "subject_keys_rowid"

// subjectKeys is a query of the ids of a subject's data keys, given the
// condition on a subject-hash column (hash("k.subject_hash")) and the
// placeholder of the subject key (or a condition on k.subject_key, for
// several subjects). On PostgreSQL an index on data_keys.subject_hash finds
// them; on SQLite the subject_keys table, which the writer fills after the
// commit in sorted runs, plus the data keys it does not cover yet (after
// MetaSubjectKeysRowID: seconds' worth).
func (s *Store) subjectKeys(hash func(col string) string, key string) string {
	keyCond := key
	if strings.HasPrefix(key, "$") {
		keyCond = "k.subject_key = " + key
	}
	if s.d.Shared() {
		return "SELECT k.dk_id FROM data_keys k WHERE " + hash("k.subject_hash") + " AND " + keyCond
	}
	return "SELECT k.dk_id FROM subject_keys sk CROSS JOIN data_keys k ON k.dk_id = sk.dk_id WHERE " + hash("sk.subject_hash") + " AND " + keyCond +
		" UNION ALL SELECT k.dk_id FROM data_keys k WHERE k.rowid > " + subjectKeysWatermark + " AND " + hash("k.subject_hash") + " AND " + keyCond
}

// equals is a subjectKeys hash condition: col = placeholder.
func equals(placeholder string) func(col string) string {
	return func(col string) string { return col + " = " + placeholder }
}

const subjectKeysWatermark = "(SELECT coalesce(max(CAST(value AS INTEGER)), 0) FROM meta WHERE key = '" + MetaSubjectKeysRowID + "')"

// SetMeta sets a key of the meta table outside the writer's transactions
// (used at open, before the writer starts).
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// ChainHead returns the last entry of a writer's chain (seq 0 if empty).
func (s *Store) ChainHead(ctx context.Context, writerID string) (seq int64, link []byte, err error) {
	err = s.w.QueryRowContext(ctx, `SELECT seq, link FROM chain WHERE writer_id = $1 ORDER BY seq DESC LIMIT 1`, writerID).Scan(&seq, &link)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	return seq, link, err
}

// LastCheckpoint returns a writer's newest checkpoint, or nil.
func (s *Store) LastCheckpoint(ctx context.Context, writerID string) (*CheckpointRow, error) {
	var c CheckpointRow
	err := s.w.QueryRowContext(ctx, `SELECT `+cpCols+` FROM checkpoints WHERE writer_id = $1 ORDER BY seq DESC LIMIT 1`, writerID).Scan(c.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// LatestCheckpoints returns the newest checkpoint of every writer.
func (s *Store) LatestCheckpoints(ctx context.Context) ([]CheckpointRow, error) {
	return scanAll[CheckpointRow](s.r.QueryContext(ctx, `SELECT `+cpCols+` FROM checkpoints c
		WHERE seq = (SELECT max(seq) FROM checkpoints m WHERE m.writer_id = c.writer_id) ORDER BY writer_id`))
}

// Checkpoints returns a writer's checkpoints in seq order ("" for every
// writer, ordered by writer).
func (s *Store) Checkpoints(ctx context.Context, writerID string) ([]CheckpointRow, error) {
	if writerID == "" {
		return scanAll[CheckpointRow](s.r.QueryContext(ctx, `SELECT `+cpCols+` FROM checkpoints ORDER BY writer_id, seq`))
	}
	return scanAll[CheckpointRow](s.r.QueryContext(ctx, `SELECT `+cpCols+` FROM checkpoints WHERE writer_id = $1 ORDER BY seq`, writerID))
}

// scanner is a row type that says where its columns go.
type scanner[T any] interface {
	*T
	dest() []any
}

// scanAll reads every row of a query into a slice (the query's error, if
// any, is returned as is).
func scanAll[T any, P scanner[T]](rows *sql.Rows, err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(P(&v).dest()...); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// FullRecord is a record with everything needed to decrypt and check it.
// Payload is nil once purged; Key is nil if the data key row is missing;
// Chain is nil if the chain entry is missing.
type FullRecord struct {
	Record  RecordRow
	Payload *PayloadRow
	Key     *DataKeyRow
	Chain   *ChainRow
}

// Record reads one record with its payload, data key and chain entry, or
// returns nil if there is no record with that id.
func (s *Store) Record(ctx context.Context, id string) (*FullRecord, error) {
	out, err := s.fullRecords(ctx, "r.id = $1", []any{id}, "")
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return &out[0], nil
}

// RecordsWithContent returns a page of records (as ListRecords) with their
// payloads, data key rows and chain entries, for export.
func (s *Store) RecordsWithContent(ctx context.Context, q RecordQuery) ([]FullRecord, error) {
	var args []any
	where, tail := q.page(s, &args)
	return s.fullRecords(ctx, where, args, tail)
}

func (s *Store) fullRecords(ctx context.Context, where string, args []any, tail string) ([]FullRecord, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+recordCols+`, p.rid, p.nonce, p.ciphertext,
		k.dk_id, k.tenant, k.subject_key, k.kek_id, k.wrapped, k.created_at, k.erased_at, `+chainCols+`
		FROM records r
		LEFT JOIN payloads p ON p.rid = r.rid
		LEFT JOIN data_keys k ON k.dk_id = r.dk_id
		LEFT JOIN chain c ON c.writer_id = r.writer_id AND c.seq = r.seq
		WHERE `+where+` `+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FullRecord
	for rows.Next() {
		var (
			f      FullRecord
			pRid   sql.NullInt64
			nonce  []byte
			ct     []byte
			kID    sql.NullString
			kKEK   sql.NullString
			kWrap  []byte
			kErase sql.NullInt64
			kTen   sql.NullString
			kSub   sql.NullString
			kCre   sql.NullInt64
			c      nullChain
		)
		dest := append(f.Record.dest(), &pRid, &nonce, &ct, &kID, &kTen, &kSub, &kKEK, &kWrap, &kCre, &kErase)
		dest = append(dest, c.dest()...)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if pRid.Valid {
			f.Payload = &PayloadRow{RID: pRid.Int64, Nonce: nonce, Ciphertext: ct}
		}
		if kID.Valid {
			f.Key = &DataKeyRow{ID: kID.String, Tenant: kTen.String, SubjectKey: kSub.String, KEKID: kKEK.String, Wrapped: kWrap, CreatedAt: kCre.Int64, ErasedAt: kErase.Int64}
		}
		f.Record.KeyErased = f.Key == nil || f.Key.ErasedAt != 0
		f.Chain = c.row()
		out = append(out, f)
	}
	return out, rows.Err()
}

type nullChain struct {
	writer, kind, ref sql.NullString
	seq, at           sql.NullInt64
	digest, prev      []byte
	link, body, sig   []byte
}

func (c *nullChain) dest() []any {
	return []any{&c.writer, &c.seq, &c.kind, &c.ref, &c.at, &c.digest, &c.prev, &c.link, &c.body, &c.sig}
}

func (c *nullChain) row() *ChainRow {
	if !c.writer.Valid {
		return nil
	}
	return &ChainRow{WriterID: c.writer.String, Seq: c.seq.Int64, Kind: c.kind.String, Ref: c.ref.String, At: c.at.Int64,
		Digest: c.digest, Prev: c.prev, Link: c.link, Body: c.body, Sig: c.sig}
}

// RecordFilter selects records. Empty fields match everything; From and To
// bound occurred_at, IDFrom and IDTo the id (lower bounds inclusive, upper
// exclusive; zero values: unbounded).
type RecordFilter struct {
	Tenant     string
	Vendor     string
	Reason     string
	EventName  string
	SubjectKey string
	// SubjectKeys restricts the records to these subject keys (nil: no
	// restriction).
	SubjectKeys   []string
	InteractionID string
	From, To      int64
	IDFrom, IDTo  string
	// Released: 0 any, 1 only released records, -1 only unreleased ones.
	Released int
	IDs      []string
	// Scoped restricts the records to the tenants in Tenants (none: no
	// record matches).
	Scoped  bool
	Tenants []string
}

// RecordQuery is a page of records: ids after After (below it when Desc),
// at most Limit of them.
type RecordQuery struct {
	RecordFilter
	After string
	Desc  bool
	Limit int
}

func (f *RecordFilter) where(s *Store, args *[]any) string {
	var conds []string
	add := func(cond string, v any) {
		*args = append(*args, v)
		conds = append(conds, fmt.Sprintf(cond, len(*args)))
	}
	if f.Tenant != "" {
		add("r.tenant = $%d", f.Tenant)
	}
	if f.Vendor != "" {
		add("r.vendor = $%d", f.Vendor)
	}
	if f.EventName != "" {
		add("r.event_name = $%d", f.EventName)
	}
	if f.SubjectKey != "" {
		// A subject's records are found through its data keys: the
		// records index on dk_id grows near its right edge (keys are
		// time-ordered and a subject's events cluster in time), where an
		// index on the subject itself would take random inserts.
		add("r.subject_key = $%d", f.SubjectKey)
		key := "$" + strconv.Itoa(len(*args))
		*args = append(*args, SubjectHash(f.SubjectKey))
		conds = append(conds, "r.dk_id IN ("+s.subjectKeys(equals("$"+strconv.Itoa(len(*args))), key)+")")
	}
	if f.SubjectKeys != nil {
		// The same, for any of several keys.
		hashes := make([]int64, len(f.SubjectKeys))
		for i, k := range f.SubjectKeys {
			hashes[i] = SubjectHash(k)
		}
		keys := inList("k.subject_key", f.SubjectKeys, args)
		hashIn := inList("$h", hashes, args)
		conds = append(conds, inList("r.subject_key", f.SubjectKeys, args),
			"r.dk_id IN ("+s.subjectKeys(func(col string) string { return strings.Replace(hashIn, "$h", col, 1) }, keys)+")")
	}
	if f.InteractionID != "" {
		add("r.interaction_id = $%d", f.InteractionID)
	}
	if f.Reason != "" {
		q, _ := json.Marshal(f.Reason)
		add(`r.reasons LIKE $%d ESCAPE '\'`, "%"+likeEscape(string(q))+"%")
	}
	if f.IDFrom != "" {
		add("r.id >= $%d", f.IDFrom)
	}
	if f.IDTo != "" {
		add("r.id < $%d", f.IDTo)
	}
	if f.From != 0 {
		add("r.occurred_at >= $%d", f.From)
	}
	if f.To != 0 {
		add("r.occurred_at < $%d", f.To)
	}
	switch f.Released {
	case 1:
		conds = append(conds, "r.released_at <> 0")
	case -1:
		conds = append(conds, "r.released_at = 0")
	}
	if len(f.IDs) > 0 {
		ph := make([]string, len(f.IDs))
		for i, id := range f.IDs {
			*args = append(*args, id)
			ph[i] = fmt.Sprintf("$%d", len(*args))
		}
		conds = append(conds, "r.id IN ("+strings.Join(ph, ",")+")")
	}
	if f.Scoped {
		conds = append(conds, inList("r.tenant", f.Tenants, args))
	}
	if len(conds) == 0 {
		return "1 = 1"
	}
	return strings.Join(conds, " AND ")
}

// inList is "col IN (...)" over vals, or a condition that is never true
// when vals is empty.
func inList[T any](col string, vals []T, args *[]any) string {
	if len(vals) == 0 {
		return "1 = 0"
	}
	ph := make([]string, len(vals))
	for i, v := range vals {
		*args = append(*args, v)
		ph[i] = fmt.Sprintf("$%d", len(*args))
	}
	return col + " IN (" + strings.Join(ph, ",") + ")"
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// page returns the WHERE clause and the ORDER BY/LIMIT tail of a query.
func (q *RecordQuery) page(s *Store, args *[]any) (where, tail string) {
	where = q.where(s, args)
	if q.After != "" {
		*args = append(*args, q.After)
		if q.Desc {
			where += fmt.Sprintf(" AND r.id < $%d", len(*args))
		} else {
			where += fmt.Sprintf(" AND r.id > $%d", len(*args))
		}
	}
	order := "ASC"
	if q.Desc {
		order = "DESC"
	}
	*args = append(*args, q.Limit)
	return where, fmt.Sprintf("ORDER BY r.id %s LIMIT $%d", order, len(*args))
}

// ListRecords returns a page of record metadata (never payloads).
func (s *Store) ListRecords(ctx context.Context, q RecordQuery) ([]RecordRow, error) {
	var args []any
	where, tail := q.page(s, &args)
	rows, err := s.r.QueryContext(ctx, `SELECT `+recordCols+`, COALESCE(k.erased_at, -1) FROM records r
		LEFT JOIN data_keys k ON k.dk_id = r.dk_id
		WHERE `+where+` `+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RecordRow
	for rows.Next() {
		var r RecordRow
		var erased int64
		if err := rows.Scan(append(r.dest(), &erased)...); err != nil {
			return nil, err
		}
		r.KeyErased = erased != 0
		out = append(out, r)
	}
	return out, rows.Err()
}

// Group is a count of records sharing a value.
type Group struct {
	Key   string
	Count int64
}

// GroupBy counts records matching f by "vendor", "tenant", "day" (days
// since 1970-01-01 UTC of occurred_at, or of received_at for a record
// without a vendor time) or "reasons" (the JSON array as stored; the
// caller splits it).
func (s *Store) GroupBy(ctx context.Context, f RecordFilter, by string) ([]Group, error) {
	expr := map[string]string{
		"vendor":  "r.vendor",
		"tenant":  "r.tenant",
		"day":     "CAST((CASE WHEN r.occurred_at <> 0 THEN r.occurred_at ELSE r.received_at END) / 86400000000000 AS TEXT)",
		"reasons": "r.reasons",
	}[by]
	if expr == "" {
		return nil, fmt.Errorf("unknown grouping %q", by)
	}
	var args []any
	where := f.where(s, &args)
	rows, err := s.r.QueryContext(ctx, `SELECT `+expr+`, count(*) FROM records r WHERE `+where+` GROUP BY `+expr+` ORDER BY 1`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		var g Group
		if err := rows.Scan(&g.Key, &g.Count); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// CountRecords counts the records matching f.
func (s *Store) CountRecords(ctx context.Context, f RecordFilter) (int64, error) {
	var args []any
	where := f.where(s, &args)
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM records r WHERE `+where, args...).Scan(&n)
	return n, err
}

// ConsentQuery selects consent records, newest id first, after After.
type ConsentQuery struct {
	Tenant     string
	SubjectKey string
	// SubjectKeys restricts the records to these subject keys (nil: no
	// restriction).
	SubjectKeys []string
	// Scoped restricts the records to the consent scopes in Tenants.
	Scoped  bool
	Tenants []string
	After   string
	Limit   int
}

// ListConsents returns a page of consent records.
func (s *Store) ListConsents(ctx context.Context, q ConsentQuery) ([]ConsentRow, error) {
	var conds []string
	var args []any
	if q.Tenant != "" {
		args = append(args, q.Tenant)
		conds = append(conds, fmt.Sprintf("s.tenant = $%d", len(args)))
	}
	if q.SubjectKey != "" {
		args = append(args, q.SubjectKey)
		conds = append(conds, fmt.Sprintf("s.subject_key = $%d", len(args)))
	}
	if q.SubjectKeys != nil {
		conds = append(conds, inList("s.subject_key", q.SubjectKeys, &args))
	}
	if q.Scoped {
		conds = append(conds, inList("s.tenant", q.Tenants, &args))
	}
	if q.After != "" {
		args = append(args, q.After)
		conds = append(conds, fmt.Sprintf("s.id < $%d", len(args)))
	}
	where := "1 = 1"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	args = append(args, q.Limit)
	return scanAll[ConsentRow](s.r.QueryContext(ctx, `SELECT `+consentCols+` FROM consents s WHERE `+where+
		fmt.Sprintf(` ORDER BY s.id DESC LIMIT $%d`, len(args)), args...))
}

// subjectConsentsQuery is prepared once (Store.stmt): the consent
// processor runs it for every event whose subject it has not cached.
const subjectConsentsQuery = `SELECT ` + consentCols + ` FROM consents s
		WHERE s.tenant = $1 AND s.subject_key = $2 ORDER BY s.at, s.id`

// SubjectConsents returns every consent record of a subject, oldest (by
// at) first.
func (s *Store) SubjectConsents(ctx context.Context, tenant, subjectKey string) ([]ConsentRow, error) {
	st, err := s.stmt(ctx, subjectConsentsQuery)
	if err != nil {
		return nil, err
	}
	return scanAll[ConsentRow](st.QueryContext(ctx, tenant, subjectKey))
}

// ConsentSubjects calls fn with the (tenant, subject key) of every stored
// consent record, in no particular order, until fn returns false.
func (s *Store) ConsentSubjects(ctx context.Context, fn func(tenant, subjectKey string) bool) error {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT tenant, subject_key FROM consents`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var t, k string
		if err := rows.Scan(&t, &k); err != nil {
			return err
		}
		if !fn(t, k) {
			return nil
		}
	}
	return rows.Err()
}

// AccessQuery selects access-log entries, newest first, after After.
type AccessQuery struct {
	Identity string
	Method   string
	From, To int64
	// TargetPrefix and TargetContains: see ledger.AccessFilter.
	TargetPrefix   string
	TargetContains []string
	After          string
	Limit          int
}

// ListAccess returns a page of access-log entries.
func (s *Store) ListAccess(ctx context.Context, q AccessQuery) ([]AccessRow, error) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if q.Identity != "" {
		add("a.identity = $%d", q.Identity)
	}
	if q.Method != "" {
		add("a.method = $%d", q.Method)
	}
	if q.From != 0 {
		add("a.at >= $%d", q.From)
	}
	if q.To != 0 {
		add("a.at < $%d", q.To)
	}
	if q.TargetPrefix != "" {
		add(`a.target LIKE $%d ESCAPE '\'`, likeEscape(q.TargetPrefix)+"%")
		if len(q.TargetContains) > 0 {
			ors := make([]string, len(q.TargetContains))
			for i, c := range q.TargetContains {
				args = append(args, "%"+likeEscape(c)+"%")
				ors[i] = fmt.Sprintf(`a.target LIKE $%d ESCAPE '\'`, len(args))
			}
			conds = append(conds, "("+strings.Join(ors, " OR ")+")")
		}
	}
	if q.After != "" {
		add("a.id < $%d", q.After)
	}
	where := "1 = 1"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	args = append(args, q.Limit)
	return scanAll[AccessRow](s.r.QueryContext(ctx, `SELECT `+accessCols+` FROM access_log a WHERE `+where+
		fmt.Sprintf(` ORDER BY a.id DESC LIMIT $%d`, len(args)), args...))
}

// RewrapCandidates returns live data keys not wrapped by activeKEK, in id
// order after after.
func (s *Store) RewrapCandidates(ctx context.Context, activeKEK, after string, limit int) ([]DataKeyRow, error) {
	return scanAll[DataKeyRow](s.r.QueryContext(ctx, `SELECT `+dataKeyCols+` FROM data_keys k
		WHERE k.kek_id <> $1 AND k.erased_at = 0 AND k.dk_id > $2 ORDER BY k.dk_id LIMIT $3`, activeKEK, after, limit))
}

// ChainRange returns up to limit entries of a writer's chain with
// from <= seq (and seq <= to unless to is 0), in seq order.
func (s *Store) ChainRange(ctx context.Context, writerID string, from, to int64, limit int) ([]ChainRow, error) {
	if to == 0 {
		to = 1<<63 - 1
	}
	return scanAll[ChainRow](s.r.QueryContext(ctx, `SELECT `+chainCols+` FROM chain c
		WHERE c.writer_id = $1 AND c.seq >= $2 AND c.seq <= $3 ORDER BY c.seq LIMIT $4`, writerID, from, to, limit))
}
