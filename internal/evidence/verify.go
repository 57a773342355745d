package evidence

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"

	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/chain"
)

// Options control Verify.
type Options struct {
	// PublicKeys, when set, are the only keys trusted to sign checkpoints
	// and tombstones (pin the ledger's published key). Empty: the keys the
	// bundle's header names are trusted, and Report.KeyIDs says which they
	// were, to compare with the published ones.
	PublicKeys []ed25519.PublicKey
	// AllowUnanchored accepts records that no signed checkpoint covers yet
	// (another replica's last seconds at export time).
	AllowUnanchored bool
}

// Report is the result of Verify.
type Report struct {
	OK           bool
	Problems     []string
	Records      int64
	Anchored     int64
	Unanchored   int64
	Unreadable   map[string]int64 // erased, purged
	WithPayload  int64
	ChainEntries int64
	Checkpoints  int64
	Writers      []string
	// KeyIDs are the ids of the keys that signed the checkpoints.
	KeyIDs    []string
	Header    Header
	Manifest  Manifest
	Truncated bool
}

const maxProblems = 100

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) >= maxProblems {
		r.Truncated = true
		return
	}
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

type entry struct {
	kind, ref          string
	digest, prev, link chain.Hash
}

// parsedBundle is a bundle as read: its lines by type, before any check.
type parsedBundle struct {
	header     *Header
	manifest   *Manifest
	counts     Manifest // what the bundle actually holds, for the manifest
	sum        hash.Hash
	records    []RecordLine
	entries    map[string]map[uint64]*entry // writer -> seq -> entry
	tombstones []ChainLine
	cps        []CheckpointLine
}

// Verify reads a bundle and checks everything in it: the manifest, every
// chain, the tombstones' and checkpoints' signatures, and every record
// against its chain entry and a signed checkpoint. The error is for a
// bundle that cannot be read at all (I/O, not NDJSON, no header); what is
// wrong with a readable bundle is in Report.Problems.
func Verify(r io.Reader, opts Options) (*Report, error) {
	rep := &Report{Unreadable: map[string]int64{}}
	b, err := readBundle(r, rep)
	if err != nil {
		return nil, err
	}
	rep.Header = *b.header
	b.checkManifest(rep)
	keys := trustedKeys(opts, b.header, rep)
	first, last := b.checkChains(rep)
	b.checkTombstones(keys, rep)
	anchor := b.checkCheckpoints(keys, rep)
	b.checkRecords(anchor, first, last, opts, rep)
	rep.OK = len(rep.Problems) == 0 && !rep.Truncated
	return rep, nil
}

// readBundle reads every line, hashing all but the manifest, and sorts
// them by type. Lines that do not decode are problems; a bundle whose
// first line is not a header, or that is not NDJSON, is an error.
func readBundle(r io.Reader, rep *Report) (*parsedBundle, error) {
	b := &parsedBundle{sum: sha256.New(), entries: map[string]map[uint64]*entry{}}
	br := bufio.NewReaderSize(r, 1<<20)
	var lineNo int64
	for {
		line, err := br.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		lineNo++
		if b.manifest != nil {
			rep.problem("line %d: content after the manifest", lineNo)
			break
		}
		var typ struct {
			Type string `json:"type"`
		}
		if jerr := json.Unmarshal(line, &typ); jerr != nil {
			return nil, fmt.Errorf("line %d: not JSON: %w", lineNo, jerr)
		}
		if lineNo == 1 && typ.Type != TypeHeader {
			return nil, fmt.Errorf("line 1: not a Consentry evidence bundle (the first line is %q, not a header)", typ.Type)
		}
		if typ.Type != TypeManifest {
			b.sum.Write(line)
			b.counts.Lines++
		}
		if err := b.add(typ.Type, line, lineNo, rep); err != nil {
			return nil, err
		}
	}
	if b.header == nil {
		return nil, errors.New("empty bundle")
	}
	return b, nil
}

// add decodes one line of the given type into the bundle.
func (b *parsedBundle) add(typ string, line []byte, lineNo int64, rep *Report) error {
	dec := func(v any) bool {
		d := json.NewDecoder(bytes.NewReader(line))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			rep.problem("line %d: %v", lineNo, err)
			return false
		}
		return true
	}
	switch typ {
	case TypeHeader:
		if b.header != nil {
			rep.problem("line %d: a second header", lineNo)
			return nil
		}
		var hd Header
		if !dec(&hd) {
			return fmt.Errorf("line 1: unreadable header")
		}
		if hd.Format != Format {
			return fmt.Errorf("line 1: format %q, this verifier reads %q", hd.Format, Format)
		}
		b.header = &hd
	case TypeRecord:
		b.counts.Records++
		var rl RecordLine
		if dec(&rl) {
			b.records = append(b.records, rl)
		}
	case TypeChain:
		b.counts.ChainEntries++
		var cl ChainLine
		if dec(&cl) {
			b.addChainEntry(&cl, lineNo, rep)
		}
	case TypeCheckpoint:
		b.counts.Checkpoints++
		var cl CheckpointLine
		if dec(&cl) {
			b.cps = append(b.cps, cl)
		}
	case TypeManifest:
		var m Manifest
		if !dec(&m) {
			m = Manifest{}
		}
		b.manifest = &m
	default:
		rep.problem("line %d: unknown line type %q", lineNo, typ)
	}
	return nil
}

func (b *parsedBundle) addChainEntry(cl *ChainLine, lineNo int64, rep *Report) {
	e, err := parseEntry(cl)
	if err != nil {
		rep.problem("line %d: chain entry %s/%d: %v", lineNo, cl.WriterID, cl.Seq, err)
		return
	}
	w := b.entries[cl.WriterID]
	if w == nil {
		w = map[uint64]*entry{}
		b.entries[cl.WriterID] = w
	}
	if _, dup := w[cl.Seq]; dup {
		rep.problem("line %d: chain entry %s/%d appears twice", lineNo, cl.WriterID, cl.Seq)
		return
	}
	w[cl.Seq] = e
	if cl.Body != nil || cl.Signature != nil {
		b.tombstones = append(b.tombstones, *cl)
	}
}

// checkManifest: present, last, counting what the bundle holds, and the
// hash of everything before it.
func (b *parsedBundle) checkManifest(rep *Report) {
	m := b.manifest
	if m == nil {
		rep.problem("no manifest: the bundle is truncated")
		return
	}
	rep.Manifest = *m
	sum := hex.EncodeToString(b.sum.Sum(nil))
	if m.Algorithm != "sha256" || m.SHA256 != sum {
		rep.problem("manifest: SHA-256 of the bundle is %s, the manifest says %s (%s)", sum, m.SHA256, m.Algorithm)
	}
	c := b.counts
	if m.Lines != c.Lines || m.Records != c.Records || m.ChainEntries != c.ChainEntries || m.Checkpoints != c.Checkpoints {
		rep.problem("manifest counts %d lines, %d records, %d chain entries, %d checkpoints; the bundle has %d, %d, %d, %d",
			m.Lines, m.Records, m.ChainEntries, m.Checkpoints, c.Lines, c.Records, c.ChainEntries, c.Checkpoints)
	}
}

// trustedKeys are the keys trusted to sign, by id: the pinned ones, or
// those the header names.
func trustedKeys(opts Options, h *Header, rep *Report) map[string]ed25519.PublicKey {
	keys := map[string]ed25519.PublicKey{}
	if len(opts.PublicKeys) > 0 {
		for _, k := range opts.PublicKeys {
			keys[chain.KeyID(k)] = k
		}
		return keys
	}
	add := func(s string) {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != ed25519.PublicKeySize {
			rep.problem("header: invalid public key %q", s)
			return
		}
		keys[chain.KeyID(b)] = b
	}
	add(h.PublicKey)
	for _, k := range h.TrustedKeys {
		add(k)
	}
	return keys
}

// checkChains checks every writer's chain: each entry's link, consecutive
// entries joined, the genesis. It returns each writer's first and last seq.
func (b *parsedBundle) checkChains(rep *Report) (first, last map[string]uint64) {
	writers := make([]string, 0, len(b.entries))
	for w := range b.entries {
		writers = append(writers, w)
	}
	sort.Strings(writers)
	rep.Writers = writers
	first, last = map[string]uint64{}, map[string]uint64{}
	for _, w := range writers {
		es := b.entries[w]
		seqs := make([]uint64, 0, len(es))
		for s := range es {
			seqs = append(seqs, s)
		}
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		first[w], last[w] = seqs[0], seqs[len(seqs)-1]
		for i, s := range seqs {
			e := es[s]
			rep.ChainEntries++
			if chain.Link(e.prev, e.digest) != e.link {
				rep.problem("chain %s/%d: link is not SHA-256(prev || digest)", w, s)
			}
			if s == 1 && e.prev != chain.Genesis(w) {
				rep.problem("chain %s/1: prev is not the writer's genesis", w)
			}
			if i > 0 {
				if seqs[i-1] != s-1 {
					rep.problem("chain %s: entries %d to %d are missing", w, seqs[i-1]+1, s-1)
				} else if es[s-1].link != e.prev {
					rep.problem("chain %s/%d: prev does not match the link of entry %d", w, s, s-1)
				}
			}
		}
	}
	return first, last
}

// checkTombstones: the digest of kind and body, the signature by a
// trusted key.
func (b *parsedBundle) checkTombstones(keys map[string]ed25519.PublicKey, rep *Report) {
	for _, t := range b.tombstones {
		e := b.entries[t.WriterID][t.Seq]
		if ledger.EventDigest(t.Kind, t.Body) != e.digest {
			rep.problem("tombstone %s/%d (%s): body does not match its digest", t.WriterID, t.Seq, t.Kind)
		}
		if !signedByAny(keys, chain.EntryMessage(t.WriterID, t.Seq, t.Kind, e.digest), t.Signature) {
			rep.problem("tombstone %s/%d (%s): signature invalid or by an untrusted key", t.WriterID, t.Seq, t.Kind)
		}
	}
}

// checkCheckpoints verifies each checkpoint's signature and that the
// chain's link at its seq is its head. It returns, per writer, the highest
// verified checkpoint seq.
func (b *parsedBundle) checkCheckpoints(keys map[string]ed25519.PublicKey, rep *Report) map[string]uint64 {
	anchor := map[string]uint64{}
	keyIDs := map[string]bool{}
	for _, c := range b.cps {
		rep.Checkpoints++
		head, err1 := chain.ParseHex(c.Head)
		sig, err2 := hex.DecodeString(c.Signature)
		if err1 != nil || err2 != nil {
			rep.problem("checkpoint %s/%d: malformed head or signature", c.WriterID, c.Seq)
			continue
		}
		cp := chain.Checkpoint{WriterID: c.WriterID, Seq: c.Seq, Head: head, At: c.At, PrevSeq: c.PrevSeq, KeyID: c.KeyID, Signature: sig}
		pub, ok := keys[c.KeyID]
		if !ok {
			rep.problem("checkpoint %s/%d: signed by key %s, which is not trusted", c.WriterID, c.Seq, c.KeyID)
			continue
		}
		if !cp.Verify(pub) {
			rep.problem("checkpoint %s/%d: invalid signature", c.WriterID, c.Seq)
			continue
		}
		keyIDs[c.KeyID] = true
		e := b.entries[c.WriterID][c.Seq]
		if e == nil {
			if _, has := b.entries[c.WriterID]; has {
				rep.problem("checkpoint %s/%d: the bundle lacks the chain entry it signs", c.WriterID, c.Seq)
			}
			continue
		}
		if e.link != head {
			rep.problem("checkpoint %s/%d: the chain's link at %d is not the signed head", c.WriterID, c.Seq, c.Seq)
			continue
		}
		if c.Seq > anchor[c.WriterID] {
			anchor[c.WriterID] = c.Seq
		}
	}
	for id := range keyIDs {
		rep.KeyIDs = append(rep.KeyIDs, id)
	}
	sort.Strings(rep.KeyIDs)
	return anchor
}

// checkRecords checks every record: its digest from its metadata, its link,
// its payload hash from its ciphertext, the chain entry at the position it
// claims, and a signed checkpoint covering it.
func (b *parsedBundle) checkRecords(anchor, first, last map[string]uint64, opts Options, rep *Report) {
	seen := map[string]bool{}
	for i := range b.records {
		rl := &b.records[i]
		m := &rl.Meta
		rep.Records++
		if seen[m.ID] {
			rep.problem("record %s appears twice", m.ID)
		}
		seen[m.ID] = true
		digest, prev, link, ok := checkRecordLine(rl, rep)
		if !ok {
			continue
		}
		e := b.entries[m.WriterID][m.Seq]
		switch {
		case e == nil:
			rep.problem("record %s: the bundle lacks its chain entry %s/%d", m.ID, m.WriterID, m.Seq)
			continue
		case e.kind != "record" || e.ref != m.ID || e.digest != digest || e.link != link || e.prev != prev:
			rep.problem("record %s: does not match chain entry %s/%d", m.ID, m.WriterID, m.Seq)
			continue
		}
		if a := anchor[m.WriterID]; a >= m.Seq && first[m.WriterID] <= m.Seq && last[m.WriterID] >= a {
			rep.Anchored++
		} else {
			rep.Unanchored++
			if !opts.AllowUnanchored {
				rep.problem("record %s: no signed checkpoint in the bundle covers %s/%d", m.ID, m.WriterID, m.Seq)
			}
		}
	}
}

// checkRecordLine checks what a record line says about itself: its digest,
// link and payload hash. It returns the parsed hashes and whether they
// could be read.
func checkRecordLine(rl *RecordLine, rep *Report) (digest, prev, link chain.Hash, ok bool) {
	m := &rl.Meta
	rm, err := m.recordMeta()
	if err != nil {
		rep.problem("record %s: %v", m.ID, err)
		return digest, prev, link, false
	}
	digest, err1 := chain.ParseHex(rl.Digest)
	prev, err2 := chain.ParseHex(rl.Prev)
	link, err3 := chain.ParseHex(rl.Link)
	if err := errors.Join(err1, err2, err3); err != nil {
		rep.problem("record %s: %v", m.ID, err)
		return digest, prev, link, false
	}
	if ledger.RecordDigest(&rm) != digest {
		rep.problem("record %s: metadata does not match its digest (altered)", m.ID)
	}
	if chain.Link(prev, digest) != link {
		rep.problem("record %s: link is not SHA-256(prev || digest)", m.ID)
	}
	switch {
	case rl.Ciphertext != nil || rl.Nonce != nil:
		if chain.PayloadHash(rl.Nonce, rl.Ciphertext) != rm.PayloadHash {
			rep.problem("record %s: ciphertext does not match its payload hash (altered)", m.ID)
		}
	case m.PurgedAt.IsZero():
		rep.problem("record %s: no ciphertext, and the record is not purged", m.ID)
	}
	if rl.Payload != nil {
		rep.WithPayload++
	}
	if rl.Unreadable != "" {
		rep.Unreadable[rl.Unreadable]++
	}
	return digest, prev, link, true
}

func signedByAny(keys map[string]ed25519.PublicKey, msg, sig []byte) bool {
	for _, k := range keys {
		if ed25519.Verify(k, msg, sig) {
			return true
		}
	}
	return false
}

func parseEntry(cl *ChainLine) (*entry, error) {
	e := &entry{kind: cl.Kind, ref: cl.Ref}
	var err error
	if e.digest, err = chain.ParseHex(cl.Digest); err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	if e.prev, err = chain.ParseHex(cl.Prev); err != nil {
		return nil, fmt.Errorf("prev: %w", err)
	}
	if e.link, err = chain.ParseHex(cl.Link); err != nil {
		return nil, fmt.Errorf("link: %w", err)
	}
	return e, nil
}
