package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/consentry/consentry/internal/ledger/chain"
	"github.com/consentry/consentry/internal/ledger/sqlstore"
)

// Event bodies (tombstones). They are stored in the chain entry, covered by
// its digest and signed; Verify reads them back.
type eraseBody struct {
	Tenant     string `json:"tenant"`
	SubjectKey string `json:"subject_key"`
	Reason     string `json:"reason"`
	Keys       int    `json:"keys"`
	Records    int64  `json:"records"`
	At         int64  `json:"at"`
	KeyID      string `json:"key_id"`
}

type purgeBody struct {
	// Before is the id bound: records with a smaller id (stored before
	// OlderThan) lose their payload.
	Before    string `json:"before"`
	OlderThan int64  `json:"older_than"`
	At        int64  `json:"at"`
	KeyID     string `json:"key_id"`
}

type releaseBody struct {
	IDs    []string `json:"ids"`
	Actor  string   `json:"actor"`
	Reason string   `json:"reason"`
	At     int64    `json:"at"`
	KeyID  string   `json:"key_id"`
}

type rewrapBody struct {
	KEK       string `json:"kek"`
	Rewrapped int64  `json:"rewrapped"`
	At        int64  `json:"at"`
	KeyID     string `json:"key_id"`
}

const metaPurgeWatermark = "purge_watermark"

func (l *Ledger) keyID() string { return chain.KeyID(l.PublicKey()) }

// Checkpoint writes a signed checkpoint of this writer's chain now (if it
// has entries since the last one) and returns the newest checkpoint, or
// nil for an empty chain.
func (l *Ledger) Checkpoint(ctx context.Context) (*Checkpoint, error) {
	if err := l.do(ctx, (*batchTx).checkpoint); err != nil {
		return nil, err
	}
	row, err := l.st.LastCheckpoint(ctx, l.writer)
	if err != nil || row == nil {
		return nil, l.storeErr("read checkpoint", err)
	}
	return checkpointFromRow(row)
}

// EraseSubject crypto-shreds a subject: its data keys are destroyed, so
// the payloads of its records can never be decrypted again (Get returns
// ErrErased), and a signed tombstone is appended to the chain, followed by
// a checkpoint. Records and their digests stay, so Verify still passes.
// Erasing an erased subject appends another tombstone with Keys 0.
func (l *Ledger) EraseSubject(ctx context.Context, tenant, subjectKey, reason string) (EraseResult, error) {
	if tenant == "" || subjectKey == "" {
		return EraseResult{}, fmt.Errorf("%w: erasure needs a tenant and a subject key", ErrInvalid)
	}
	var res EraseResult
	err := l.do(ctx, func(b *batchTx) error {
		ids, err := b.tx.EraseKeys(tenant, subjectKey, b.now.UnixNano())
		if err != nil {
			return err
		}
		n, err := b.tx.CountSubjectRecords(tenant, subjectKey)
		if err != nil {
			return err
		}
		body, _ := json.Marshal(eraseBody{Tenant: tenant, SubjectKey: subjectKey, Reason: clean(reason),
			Keys: len(ids), Records: n, At: b.now.UnixNano(), KeyID: l.keyID()})
		seq := b.event("erase", body)
		b.checkpoint()
		res = EraseResult{KeysDestroyed: int64(len(ids)), Records: n, WriterID: l.writer, Seq: seq}
		b.after = append(b.after, func() {
			for _, id := range ids {
				l.erased[id] = true
			}
			l.keys.evict(tenant, subjectKey)
		})
		return nil
	})
	return res, err
}

// Purge applies retention: the payloads of records stored before
// olderThan are deleted; their metadata and digests stay, so the chain
// still verifies. A signed tombstone recording the bound is appended
// first. Purge works in chunks, each its own transaction, so that appends
// are not held up; it can be interrupted and run again.
func (l *Ledger) Purge(ctx context.Context, olderThan time.Time) (PurgeResult, error) {
	before := idFloor(olderThan)
	var res PurgeResult
	var after string
	err := l.do(ctx, func(b *batchTx) error {
		body, _ := json.Marshal(purgeBody{Before: before, OlderThan: olderThan.UnixNano(), At: b.now.UnixNano(), KeyID: l.keyID()})
		res.Seq = b.event("purge", body)
		res.WriterID = l.writer
		b.checkpoint()
		after = l.purgeTo
		return nil
	})
	if err != nil {
		return res, err
	}
	for {
		var n int64
		err := l.do(ctx, func(b *batchTx) error {
			var last string
			var err error
			n, last, err = b.tx.PurgeChunk(after, before, b.now.UnixNano(), 2000)
			if err != nil {
				return err
			}
			if n == 0 && before > l.purgeTo {
				if err := b.tx.SetMeta(metaPurgeWatermark, before); err != nil {
					return err
				}
				b.after = append(b.after, func() { l.purgeTo = before })
			}
			if last != "" {
				after = last
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		if n == 0 {
			return res, nil
		}
		res.Purged += n
	}
}

// MarkReleased flags records as handed back to the forward pipeline (the
// release flow, which re-evaluates consent, lives above the ledger) and
// appends a signed release event naming them. It returns the ids it
// flagged; records already released are skipped.
func (l *Ledger) MarkReleased(ctx context.Context, ids []string, actor, reason string) ([]string, error) {
	var released []string
	err := l.do(ctx, func(b *batchTx) error {
		got, err := b.tx.MarkReleased(ids, b.now.UnixNano())
		if err != nil {
			return err
		}
		for i := 0; i < len(got); i += 1000 {
			body, _ := json.Marshal(releaseBody{IDs: got[i:min(i+1000, len(got))], Actor: clean(actor), Reason: clean(reason),
				At: b.now.UnixNano(), KeyID: l.keyID()})
			b.event("release", body)
		}
		released = got
		return nil
	})
	return released, err
}

// RewrapDataKeys rewraps every live data key that is not wrapped by the
// active KEK, so that the old KEKs can be removed from the configuration.
// It is safe to run while the ledger is in use and to run again; keys
// whose KEK is not configured are counted in Failed. A signed rewrap event
// records the pass.
func (l *Ledger) RewrapDataKeys(ctx context.Context) (RewrapResult, error) {
	var res RewrapResult
	active := l.ring.ActiveID()
	after := ""
	for {
		rows, err := l.st.RewrapCandidates(ctx, active, after, 500)
		if err != nil {
			return res, l.storeErr("rewrap", err)
		}
		if len(rows) == 0 {
			break
		}
		type update struct {
			row     sqlstore.DataKeyRow
			kek     string
			wrapped []byte
		}
		var ups []update
		for _, r := range rows {
			after = r.ID
			aad := dataKeyAAD(r.Tenant, r.SubjectKey, r.ID)
			dk, err := l.ring.Unwrap(r.KEKID, r.Wrapped, aad)
			if err != nil {
				res.Failed++
				if res.Err == nil {
					res.Err = fmt.Errorf("data key %s: %w", r.ID, err)
				}
				continue
			}
			kek, wrapped, err := l.ring.Wrap(dk, aad)
			if err != nil {
				return res, err
			}
			ups = append(ups, update{r, kek, wrapped})
		}
		if len(ups) == 0 {
			continue
		}
		err = l.do(ctx, func(b *batchTx) error {
			var n int64
			for _, u := range ups {
				ok, err := b.tx.Rewrap(u.row.ID, u.row.KEKID, u.kek, u.wrapped)
				if err != nil {
					return err
				}
				if ok {
					n++
				}
			}
			b.after = append(b.after, func() { res.Rewrapped += n })
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	if res.Rewrapped > 0 {
		n := res.Rewrapped
		err := l.do(ctx, func(b *batchTx) error {
			body, _ := json.Marshal(rewrapBody{KEK: active, Rewrapped: n, At: b.now.UnixNano(), KeyID: l.keyID()})
			b.event("rewrap", body)
			b.checkpoint()
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

func checkpointFromRow(r *sqlstore.CheckpointRow) (*Checkpoint, error) {
	head, err := chain.FromBytes(r.Head)
	if err != nil {
		return nil, fmt.Errorf("ledger: checkpoint %s/%d: %w", r.WriterID, r.Seq, err)
	}
	return &Checkpoint{WriterID: r.WriterID, Seq: uint64(r.Seq), Head: head, At: fromNano(r.At),
		PrevSeq: uint64(r.PrevSeq), KeyID: r.KeyID, Signature: r.Sig}, nil
}
