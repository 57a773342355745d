package evidence

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"sort"

	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/chain"
)

// Export writes a complete bundle of the records matching f to w: the
// header (its key fields filled in from l), the records, then a fresh
// checkpoint of this replica's chain so that every record it wrote is
// anchored, the chain entries of every writer concerned from its first
// exported record up to its newest checkpoint, those checkpoints, and the
// manifest. Each line is one Write call on w. It returns the manifest.
func Export(ctx context.Context, l *ledger.Ledger, f ledger.Filter, includePayloads bool, hdr Header, w io.Writer) (Manifest, error) {
	return ExportWith(ctx, l, f, ExportOptions{IncludePayloads: includePayloads}, hdr, w)
}

// ExportOptions control ExportWith.
type ExportOptions struct {
	// IncludePayloads adds the decrypted payloads.
	IncludePayloads bool
	// WithholdOthers writes the chain entries that are neither an exported
	// record nor a ledger-wide event (purge, rewrap) as hashes only: kind
	// "withheld", without ref, time, body or signature. A bundle of some
	// tenants' records then shows nothing of the other tenants' entries but
	// the hashes that link the chain; it verifies the same way.
	WithholdOthers bool
}

// Withheld is the kind of a chain entry whose content a bundle leaves out.
const Withheld = "withheld"

// ledgerWide are the chain events that concern no tenant in particular.
var ledgerWide = map[string]bool{"purge": true, "rewrap": true}

// ExportWith is Export with options.
func ExportWith(ctx context.Context, l *ledger.Ledger, f ledger.Filter, opts ExportOptions, hdr Header, w io.Writer) (Manifest, error) {
	includePayloads := opts.IncludePayloads
	exported := map[string]bool{}
	bw := NewWriter(w)
	pub := l.PublicKey()
	hdr.PublicKey, hdr.KeyID = hex.EncodeToString(pub), chain.KeyID(pub)
	hdr.IncludePayloads = includePayloads
	hdr.Backend, hdr.WriterID = l.Backend(), l.WriterID()
	hdr.TrustedKeys = map[string]string{}
	for id, k := range l.TrustedKeys() {
		if id != hdr.KeyID {
			hdr.TrustedKeys[id] = hex.EncodeToString(k)
		}
	}
	if err := bw.Header(hdr); err != nil {
		return Manifest{}, err
	}
	type span struct{ min, max uint64 }
	spans := map[string]*span{}
	err := l.Export(ctx, f, ledger.ExportOptions{Ciphertext: true, Decrypt: includePayloads}, func(e *ledger.ExportedRecord) error {
		s := spans[e.Meta.WriterID]
		if s == nil {
			s = &span{min: e.Meta.Seq, max: e.Meta.Seq}
			spans[e.Meta.WriterID] = s
		}
		s.min, s.max = min(s.min, e.Meta.Seq), max(s.max, e.Meta.Seq)
		if opts.WithholdOthers {
			exported[e.Meta.ID] = true
		}
		return bw.Record(e)
	})
	if err != nil {
		return Manifest{}, fmt.Errorf("export records: %w", err)
	}
	if len(spans) > 0 {
		if _, err := l.Checkpoint(ctx); err != nil {
			return Manifest{}, fmt.Errorf("checkpoint: %w", err)
		}
	}
	latest, err := l.LatestCheckpoints(ctx)
	if err != nil {
		return Manifest{}, fmt.Errorf("checkpoints: %w", err)
	}
	cpOf := map[string]ledger.Checkpoint{}
	for _, c := range latest {
		cpOf[c.WriterID] = c
	}
	writers := make([]string, 0, len(spans))
	for w := range spans {
		writers = append(writers, w)
	}
	sort.Strings(writers)
	for _, wid := range writers {
		s := spans[wid]
		to := s.max
		if c, ok := cpOf[wid]; ok && c.Seq > to {
			to = c.Seq
		}
		if err := l.ChainEntries(ctx, wid, s.min, to, func(e *ledger.ChainEntry) error {
			if opts.WithholdOthers && !(e.Kind == "record" && exported[e.Ref]) && !ledgerWide[e.Kind] {
				e = &ledger.ChainEntry{WriterID: e.WriterID, Seq: e.Seq, Kind: Withheld, Digest: e.Digest, Prev: e.Prev, Link: e.Link}
			}
			return bw.ChainEntry(e)
		}); err != nil {
			return Manifest{}, fmt.Errorf("chain entries of %s: %w", wid, err)
		}
	}
	for _, wid := range writers {
		if c, ok := cpOf[wid]; ok {
			if err := bw.Checkpoint(&c); err != nil {
				return Manifest{}, err
			}
		}
	}
	if err := bw.Close(); err != nil {
		return Manifest{}, err
	}
	return bw.Manifest(), nil
}
