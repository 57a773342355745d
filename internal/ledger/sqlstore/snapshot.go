package sqlstore

import (
	"context"
	"database/sql"
)

// ReadTx is a consistent read-only snapshot, used by Verify.
type ReadTx struct {
	s   *Store
	tx  *sql.Tx
	ctx context.Context
}

// BeginRead starts a read-only snapshot.
func (s *Store) BeginRead(ctx context.Context) (*ReadTx, error) {
	tx, err := s.r.BeginTx(ctx, s.d.ReadTxOptions())
	if err != nil {
		return nil, err
	}
	return &ReadTx{s: s, tx: tx, ctx: ctx}, nil
}

// Close ends the snapshot.
func (r *ReadTx) Close() error { return r.tx.Rollback() }

// ChainPage returns up to limit chain entries after (writer, seq), ordered
// by writer then seq.
func (r *ReadTx) ChainPage(afterWriter string, afterSeq int64, limit int) ([]ChainRow, error) {
	return scanAll[ChainRow](r.tx.QueryContext(r.ctx, `SELECT `+chainCols+` FROM chain c
		WHERE (c.writer_id, c.seq) > ($1, $2) ORDER BY c.writer_id, c.seq LIMIT $3`, afterWriter, afterSeq, limit))
}

// ChainDigests streams (writer, seq, digest, link) of every chain entry.
func (r *ReadTx) ChainDigests(fn func(writer string, seq int64, digest, link []byte) error) error {
	rows, err := r.tx.QueryContext(r.ctx, `SELECT writer_id, seq, digest, link FROM chain`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var w string
		var seq int64
		var d, l []byte
		if err := rows.Scan(&w, &seq, &d, &l); err != nil {
			return err
		}
		if err := fn(w, seq, d, l); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ChainRef is the chain entry found at the position a row claims.
type ChainRef struct {
	Found  bool
	Kind   string
	Ref    string
	Digest []byte
}

func (c *nullRef) ref() ChainRef {
	return ChainRef{Found: c.kind.Valid, Kind: c.kind.String, Ref: c.ref_.String, Digest: c.digest}
}

type nullRef struct {
	kind, ref_ sql.NullString
	digest     []byte
}

// ScannedRecord is a record as Verify sees it: metadata, payload (nil when
// deleted), whether its data key row exists, and the chain entry at the
// position it claims.
type ScannedRecord struct {
	Record    RecordRow
	Payload   *PayloadRow
	KeyExists bool
	Chain     ChainRef
}

// ScanRecords returns up to limit records with rid > after, in rid order
// (the order they were stored in), each with its payload, key state and
// the chain entry at its claimed position.
func (r *ReadTx) ScanRecords(after int64, limit int) ([]ScannedRecord, error) {
	rows, err := r.tx.QueryContext(r.ctx, `SELECT `+recordCols+`, p.rid, p.nonce, p.ciphertext, k.dk_id, COALESCE(k.erased_at, 0),
		c.kind, c.ref, c.digest
		FROM records r
		LEFT JOIN payloads p ON p.rid = r.rid
		LEFT JOIN data_keys k ON k.dk_id = r.dk_id
		LEFT JOIN chain c ON c.writer_id = r.writer_id AND c.seq = r.seq
		WHERE r.rid > $1 ORDER BY r.rid LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ScannedRecord
	for rows.Next() {
		var (
			s      ScannedRecord
			pRid   sql.NullInt64
			nonce  []byte
			ct     []byte
			kID    sql.NullString
			erased int64
			c      nullRef
		)
		if err := rows.Scan(append(s.Record.dest(), &pRid, &nonce, &ct, &kID, &erased, &c.kind, &c.ref_, &c.digest)...); err != nil {
			return nil, err
		}
		if pRid.Valid {
			s.Payload = &PayloadRow{RID: pRid.Int64, Nonce: nonce, Ciphertext: ct}
		}
		s.KeyExists = kID.Valid
		s.Record.KeyErased = !kID.Valid || erased != 0
		s.Chain = c.ref()
		out = append(out, s)
	}
	return out, rows.Err()
}

// ScannedConsent is a consent record with the chain entry at its position.
type ScannedConsent struct {
	RID     int64
	Consent ConsentRow
	Chain   ChainRef
}

// ScanConsents returns up to limit consent records with rid > after.
func (r *ReadTx) ScanConsents(after int64, limit int) ([]ScannedConsent, error) {
	rows, err := r.tx.QueryContext(r.ctx, `SELECT s.rid, `+consentCols+`, c.kind, c.ref, c.digest FROM consents s
		LEFT JOIN chain c ON c.writer_id = s.writer_id AND c.seq = s.seq
		WHERE s.rid > $1 ORDER BY s.rid LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ScannedConsent
	for rows.Next() {
		var s ScannedConsent
		var c nullRef
		if err := rows.Scan(append(append([]any{&s.RID}, s.Consent.dest()...), &c.kind, &c.ref_, &c.digest)...); err != nil {
			return nil, err
		}
		s.Chain = c.ref()
		out = append(out, s)
	}
	return out, rows.Err()
}

// ScannedAccess is an access-log entry with the chain entry at its position.
type ScannedAccess struct {
	RID    int64
	Access AccessRow
	Chain  ChainRef
}

// ScanAccess returns up to limit access-log entries with rid > after.
func (r *ReadTx) ScanAccess(after int64, limit int) ([]ScannedAccess, error) {
	rows, err := r.tx.QueryContext(r.ctx, `SELECT a.rid, `+accessCols+`, c.kind, c.ref, c.digest FROM access_log a
		LEFT JOIN chain c ON c.writer_id = a.writer_id AND c.seq = a.seq
		WHERE a.rid > $1 ORDER BY a.rid LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ScannedAccess
	for rows.Next() {
		var s ScannedAccess
		var c nullRef
		if err := rows.Scan(append(append([]any{&s.RID}, s.Access.dest()...), &c.kind, &c.ref_, &c.digest)...); err != nil {
			return nil, err
		}
		s.Chain = c.ref()
		out = append(out, s)
	}
	return out, rows.Err()
}

// Checkpoints returns every checkpoint, by writer then seq.
func (r *ReadTx) Checkpoints() ([]CheckpointRow, error) {
	return scanAll[CheckpointRow](r.tx.QueryContext(r.ctx, `SELECT `+cpCols+` FROM checkpoints ORDER BY writer_id, seq`))
}

// ChainPositions finds the chain entries that refer to ids (a scan of the
// chain: Verify only needs it for rows found out of place).
func (r *ReadTx) ChainPositions(ids []string) (map[string][]ChainRow, error) {
	out := map[string][]ChainRow{}
	err := inQuery(r.ctx, r.tx, `SELECT `+chainCols+` FROM chain c WHERE c.ref IN (%s)`, nil, ids, func(rows *sql.Rows) error {
		var c ChainRow
		if err := rows.Scan(c.dest()...); err != nil {
			return err
		}
		out[c.Ref] = append(out[c.Ref], c)
		return nil
	})
	return out, err
}

// ErasedSubjects returns the (tenant, subject key) pairs that have an
// erased data key.
func (r *ReadTx) ErasedSubjects() ([][2]string, error) {
	rows, err := r.tx.QueryContext(r.ctx, `SELECT DISTINCT tenant, subject_key FROM data_keys WHERE erased_at <> 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// BadDataKeyHashes returns the ids of data keys that erasure would miss:
// their subject_hash does not match their subject key (erasure finds keys
// by that hash), or, on SQLite, the subject_keys table lacks a key it
// claims to cover (before its mark).
func (r *ReadTx) BadDataKeyHashes() ([]string, error) {
	q := `SELECT dk_id, subject_key, subject_hash, 0 FROM data_keys`
	if !r.s.d.Shared() {
		q = `SELECT k.dk_id, k.subject_key, k.subject_hash, k.rowid <= ` + subjectKeysWatermark + ` AND NOT EXISTS
			(SELECT 1 FROM subject_keys sk WHERE sk.subject_hash = k.subject_hash AND sk.dk_id = k.dk_id) FROM data_keys k`
	}
	rows, err := r.tx.QueryContext(r.ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, subject string
		var h int64
		var missing bool
		if err := rows.Scan(&id, &subject, &h, &missing); err != nil {
			return nil, err
		}
		if h != SubjectHash(subject) || missing {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}
