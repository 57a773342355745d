package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Reads that the ledger checks against the hash chain before it serves
// them: a row edited in the database must not be taken at its word (a
// consent record turned from denied to granted, a record's reasons or
// tenant changed under the statistics).

// ChainPos is a position in a writer's chain.
type ChainPos struct {
	WriterID string
	Seq      int64
}

// ChainAt returns the chain entries (kind, ref, digest) at the given
// positions; a position without an entry is absent from the map.
func (s *Store) ChainAt(ctx context.Context, pos []ChainPos) (map[ChainPos]ChainRef, error) {
	out := make(map[ChainPos]ChainRef, len(pos))
	byWriter := map[string][]int64{}
	for _, p := range pos {
		byWriter[p.WriterID] = append(byWriter[p.WriterID], p.Seq)
	}
	for w, seqs := range byWriter {
		for len(seqs) > 0 {
			n := min(len(seqs), 500)
			args := make([]any, 0, n+1)
			args = append(args, w)
			ph := make([]string, n)
			for i, sq := range seqs[:n] {
				args = append(args, sq)
				ph[i] = fmt.Sprintf("$%d", i+2)
			}
			seqs = seqs[n:]
			rows, err := s.r.QueryContext(ctx, `SELECT seq, kind, ref, digest FROM chain WHERE writer_id = $1 AND seq IN (`+strings.Join(ph, ",")+`)`, args...)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var (
					sq  int64
					ref ChainRef
				)
				if err := rows.Scan(&sq, &ref.Kind, &ref.Ref, &ref.Digest); err != nil {
					rows.Close()
					return nil, err
				}
				ref.Found = true
				out[ChainPos{w, sq}] = ref
			}
			if err := rows.Close(); err != nil {
				return nil, err
			}
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// ConsentWithChain is a consent record with the chain entry at the position
// it claims.
type ConsentWithChain struct {
	Consent ConsentRow
	Chain   ChainRef
}

// subjectConsentsCheckedQuery is SubjectConsents with each row's chain
// entry, prepared once: the consent processor runs it for every event
// whose subject it has not cached.
const subjectConsentsCheckedQuery = `SELECT ` + consentCols + `, c.kind, c.ref, c.digest FROM consents s
		LEFT JOIN chain c ON c.writer_id = s.writer_id AND c.seq = s.seq
		WHERE s.tenant = $1 AND s.subject_key = $2 ORDER BY s.at, s.id`

// SubjectConsentsChecked returns every consent record of a subject, oldest
// (by at) first, each with its chain entry.
func (s *Store) SubjectConsentsChecked(ctx context.Context, tenant, subjectKey string) ([]ConsentWithChain, error) {
	st, err := s.stmt(ctx, subjectConsentsCheckedQuery)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, tenant, subjectKey)
	return scanWithChain(rows, err, func(c *ConsentWithChain) ([]any, *ChainRef) { return c.Consent.dest(), &c.Chain })
}

// RecordWithChain is a record's metadata with the chain entry at the
// position it claims.
type RecordWithChain struct {
	Record RecordRow
	Chain  ChainRef
}

// RecordsWithChain returns a page of record metadata (as ListRecords, in
// the query's order) with each record's chain entry: what Stats checks
// before it counts.
func (s *Store) RecordsWithChain(ctx context.Context, q RecordQuery) ([]RecordWithChain, error) {
	var args []any
	where, tail := q.page(s, &args)
	rows, err := s.r.QueryContext(ctx, `SELECT `+recordCols+`, c.kind, c.ref, c.digest FROM records r
		LEFT JOIN chain c ON c.writer_id = r.writer_id AND c.seq = r.seq
		WHERE `+where+` `+tail, args...)
	return scanWithChain(rows, err, func(r *RecordWithChain) ([]any, *ChainRef) { return r.Record.dest(), &r.Chain })
}

// scanWithChain reads rows whose columns are a row type's, then the kind,
// ref and digest of a LEFT JOINed chain entry.
func scanWithChain[T any](rows *sql.Rows, err error, cols func(*T) ([]any, *ChainRef)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var (
			v   T
			ref nullRef
		)
		dest, chain := cols(&v)
		if err := rows.Scan(append(dest, &ref.kind, &ref.ref_, &ref.digest)...); err != nil {
			return nil, err
		}
		*chain = ref.ref()
		out = append(out, v)
	}
	return out, rows.Err()
}
