package ledger

import (
	"context"
	"fmt"

	"github.com/consentry/consentry/internal/ledger/chain"
	"github.com/consentry/consentry/internal/ledger/sqlstore"
)

// Rows are checked against their chain entries when they are read, not
// only by Verify: a consent record edited in the database (denied turned
// into granted) must not take effect, and the metadata that List and Stats
// serve must be what was stored. A mismatch is ErrTampered: the consent
// processor then quarantines with the reason consent_tampered, the
// auditor API answers DataLoss.

// checkEntry compares a row's digest with the chain entry at the position
// it claims.
func checkEntry(what, kind, id, writer string, seq uint64, ref sqlstore.ChainRef, d chain.Hash) error {
	if !ref.Found || ref.Kind != kind || ref.Ref != id {
		return fmt.Errorf("%w: %s %s has no chain entry at %s/%d (run VerifyLedger)", ErrTampered, what, id, writer, seq)
	}
	if stored, err := chain.FromBytes(ref.Digest); err != nil || stored != d {
		return fmt.Errorf("%w: %s %s does not match its chain entry at %s/%d: it was altered in the database (run VerifyLedger)", ErrTampered, what, id, writer, seq)
	}
	return nil
}

func checkConsent(c *Consent, ref sqlstore.ChainRef) error {
	return checkEntry("consent record", "consent", c.ID, c.WriterID, c.Seq, ref, ConsentDigest(c))
}

func checkRecord(m *RecordMeta, ref sqlstore.ChainRef) error {
	return checkEntry("record", "record", m.ID, m.WriterID, m.Seq, ref, RecordDigest(m))
}

// chainAt reads the chain entries at the positions of rows.
func (l *Ledger) chainAt(ctx context.Context, n int, pos func(i int) sqlstore.ChainPos) (map[sqlstore.ChainPos]sqlstore.ChainRef, error) {
	ps := make([]sqlstore.ChainPos, n)
	for i := range ps {
		ps[i] = pos(i)
	}
	refs, err := l.st.ChainAt(ctx, ps)
	if err != nil {
		return nil, l.storeErr("read chain entries", err)
	}
	return refs, nil
}

// checkRecordsMatching checks every record that f matches against its
// chain entry (Stats counts them afterwards).
func (l *Ledger) checkRecordsMatching(ctx context.Context, f Filter) error {
	q := sqlstore.RecordQuery{RecordFilter: f.store(), Limit: 1000}
	for {
		rows, err := l.st.RecordsWithChain(ctx, q)
		if err != nil {
			return l.storeErr("check records", err)
		}
		for i := range rows {
			m, err := metaFromRow(&rows[i].Record)
			if err != nil {
				return err
			}
			if err := checkRecord(&m, rows[i].Chain); err != nil {
				return err
			}
		}
		if len(rows) < q.Limit {
			return nil
		}
		q.After = rows[len(rows)-1].Record.ID
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// checkTail verifies this writer's chain from its last checkpoint to its
// head, before anything is appended to it (and before Open anchors the
// tail with a new checkpoint): the checkpoint is signed by a trusted key,
// the entry at its seq has the link it signed, and every later entry links
// to the one before it. A tail altered while the collector was stopped
// would otherwise be built on, and signed, as if it were genuine.
func (l *Ledger) checkTail(ctx context.Context) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("ledger: the chain of writer %s does not verify from its last checkpoint to its head (%s): the database was altered; restore it from a backup, or run VerifyLedger on a copy to see what changed (%w)",
			l.writer, fmt.Sprintf(format, args...), ErrTampered)
	}
	from, prev := uint64(1), chain.Genesis(l.writer)
	var cp *Checkpoint
	row, err := l.st.LastCheckpoint(ctx, l.writer)
	if err != nil {
		return l.storeErr("read checkpoint", err)
	}
	if row != nil {
		if cp, err = checkpointFromRow(row); err != nil {
			return fail("%v", err)
		}
		pub := l.trusted[cp.KeyID]
		if pub == nil {
			// Most likely the wrong key-encryption key (the signing key
			// is derived from it): say so if it is.
			if err := l.CheckKeys(ctx); err != nil {
				return err
			}
			return fail("checkpoint %d is signed by key %s, which is not trusted: after a signing key rotation, list the old public key in trusted_public_keys", cp.Seq, cp.KeyID)
		}
		if !cp.Verify(pub) {
			return fail("checkpoint %d has an invalid signature", cp.Seq)
		}
		from = cp.Seq
	}
	next := from
	err = l.ChainEntries(ctx, l.writer, from, 0, func(e *ChainEntry) error {
		switch {
		case e.Seq != next:
			return fail("entry %d is missing", next)
		case cp != nil && e.Seq == cp.Seq:
			if e.Link != cp.Head || chain.Link(e.Prev, e.Digest) != e.Link {
				return fail("entry %d does not have the link checkpoint %d signed", e.Seq, cp.Seq)
			}
		case e.Prev != prev || chain.Link(e.Prev, e.Digest) != e.Link:
			return fail("entry %d does not link to entry %d", e.Seq, e.Seq-1)
		}
		prev = e.Link
		next++
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case cp != nil && next <= cp.Seq:
		return fail("the chain ends at entry %d, before checkpoint %d", next-1, cp.Seq)
	case next-1 != l.seq || (l.seq > 0 && prev != l.head):
		return fail("the head is entry %d, the chain ends at %d", l.seq, next-1)
	}
	return nil
}
