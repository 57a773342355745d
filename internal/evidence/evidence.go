// Package evidence writes and verifies Consentry evidence bundles: the
// NDJSON files that the auditor API's ExportEvidence streams and that
// `consentry bundle verify` checks offline, with nothing but the file (and,
// to pin it, the ledger's public key).
//
// A bundle is one JSON object per line, in this order:
//
//   - header: format, when, by whom, why, the filter, the signing public key
//     and the other trusted keys;
//   - record (one per exported record, oldest first): the metadata, the
//     chain entry (digest, prev, link), the nonce and ciphertext (so that
//     the payload hash is recomputed), and the decrypted payload if asked;
//   - chain (per writer, consecutive seqs from the first exported record to
//     the newest checkpoint): digest, prev, link, and the body and signature
//     of tombstones;
//   - checkpoint: the newest signed checkpoint of each writer;
//   - manifest (last): line counts and the SHA-256 of every byte before it.
//
// Verification recomputes every record digest from its metadata and payload
// hash, every payload hash from the ciphertext, every link, the chain up to
// each checkpoint's signed head, each checkpoint's and tombstone's ed25519
// signature, and the manifest hash. The digests are the ledger's own
// (ledger.RecordDigest, ledger.EventDigest, package chain).
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
	"time"

	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/chain"
)

// Format is the header's format string.
const Format = "consentry.evidence.v1"

// Line types.
const (
	TypeHeader     = "header"
	TypeRecord     = "record"
	TypeChain      = "chain"
	TypeCheckpoint = "checkpoint"
	TypeManifest   = "manifest"
)

// Header is a bundle's first line.
type Header struct {
	Type            string            `json:"type"`
	Format          string            `json:"format"`
	CreatedAt       time.Time         `json:"created_at"`
	CreatedBy       string            `json:"created_by,omitempty"`
	Reason          string            `json:"reason,omitempty"`
	Filter          json.RawMessage   `json:"filter,omitempty"`
	IncludePayloads bool              `json:"include_payloads"`
	Backend         string            `json:"backend,omitempty"`
	WriterID        string            `json:"writer_id,omitempty"`
	PublicKey       string            `json:"public_key"`
	KeyID           string            `json:"key_id"`
	TrustedKeys     map[string]string `json:"trusted_keys,omitempty"`
}

// Meta is a record's metadata as written in a bundle: exactly what the
// record digest covers, plus its state.
type Meta struct {
	ID            string    `json:"id"`
	Tenant        string    `json:"tenant"`
	Vendor        string    `json:"vendor"`
	EventID       string    `json:"event_id"`
	EventName     string    `json:"event_name,omitempty"`
	SubjectKey    string    `json:"subject_key,omitempty"`
	InteractionID string    `json:"interaction_id,omitempty"`
	Reasons       []string  `json:"reasons"`
	ConsentStatus string    `json:"consent_status,omitempty"`
	OccurredAt    time.Time `json:"occurred_at,omitzero"`
	ReceivedAt    time.Time `json:"received_at,omitzero"`
	StoredAt      time.Time `json:"stored_at,omitzero"`
	KeyID         string    `json:"key_id"`
	PayloadHash   string    `json:"payload_hash"`
	WriterID      string    `json:"writer_id"`
	Seq           uint64    `json:"seq"`
	ReleasedAt    time.Time `json:"released_at,omitzero"`
	PurgedAt      time.Time `json:"purged_at,omitzero"`
	Erased        bool      `json:"erased,omitempty"`
}

// RecordLine is one exported record.
type RecordLine struct {
	Type       string `json:"type"`
	Meta       Meta   `json:"meta"`
	Digest     string `json:"digest"`
	Prev       string `json:"prev"`
	Link       string `json:"link"`
	Nonce      []byte `json:"nonce,omitempty"`
	Ciphertext []byte `json:"ciphertext,omitempty"`
	Payload    []byte `json:"payload,omitempty"`
	Unreadable string `json:"unreadable,omitempty"`
}

// ChainLine is one chain entry.
type ChainLine struct {
	Type      string    `json:"type"`
	WriterID  string    `json:"writer_id"`
	Seq       uint64    `json:"seq"`
	Kind      string    `json:"kind"`
	Ref       string    `json:"ref,omitempty"`
	At        time.Time `json:"at,omitzero"`
	Digest    string    `json:"digest"`
	Prev      string    `json:"prev"`
	Link      string    `json:"link"`
	Body      []byte    `json:"body,omitempty"`
	Signature []byte    `json:"signature,omitempty"`
}

// CheckpointLine is a signed checkpoint.
type CheckpointLine struct {
	Type      string    `json:"type"`
	WriterID  string    `json:"writer_id"`
	Seq       uint64    `json:"seq"`
	Head      string    `json:"head"`
	At        time.Time `json:"at"`
	PrevSeq   uint64    `json:"prev_seq"`
	KeyID     string    `json:"key_id"`
	Signature string    `json:"signature"`
}

// Manifest is a bundle's last line.
type Manifest struct {
	Type         string `json:"type"`
	Algorithm    string `json:"algorithm"`
	Lines        int64  `json:"lines"`
	Records      int64  `json:"records"`
	ChainEntries int64  `json:"chain_entries"`
	Checkpoints  int64  `json:"checkpoints"`
	// SHA256 is the hash of every byte of the bundle before this line.
	SHA256 string `json:"sha256"`
}

// MetaFrom converts a ledger record's metadata.
func MetaFrom(m *ledger.RecordMeta) Meta {
	reasons := m.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	return Meta{
		ID: m.ID, Tenant: m.Tenant, Vendor: m.Vendor, EventID: m.EventID, EventName: m.EventName,
		SubjectKey: m.SubjectKey, InteractionID: m.InteractionID, Reasons: reasons, ConsentStatus: m.ConsentStatus,
		OccurredAt: utc(m.OccurredAt), ReceivedAt: utc(m.ReceivedAt), StoredAt: utc(m.StoredAt),
		KeyID: m.KeyID, PayloadHash: m.PayloadHash.String(), WriterID: m.WriterID, Seq: m.Seq,
		ReleasedAt: utc(m.ReleasedAt), PurgedAt: utc(m.PurgedAt), Erased: m.Erased,
	}
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// recordMeta converts back, for the digest.
func (m *Meta) recordMeta() (ledger.RecordMeta, error) {
	ph, err := chain.ParseHex(m.PayloadHash)
	if err != nil {
		return ledger.RecordMeta{}, fmt.Errorf("payload_hash: %w", err)
	}
	return ledger.RecordMeta{
		ID: m.ID, Tenant: m.Tenant, Vendor: m.Vendor, EventID: m.EventID, EventName: m.EventName,
		SubjectKey: m.SubjectKey, InteractionID: m.InteractionID, Reasons: m.Reasons, ConsentStatus: m.ConsentStatus,
		OccurredAt: m.OccurredAt, ReceivedAt: m.ReceivedAt, KeyID: m.KeyID, PayloadHash: ph,
	}, nil
}

// Writer writes a bundle line by line and hashes what it writes for the
// manifest. Call Header first and Close last.
type Writer struct {
	w        io.Writer
	h        hash.Hash
	m        Manifest
	headerOK bool
	closed   bool
}

// NewWriter returns a Writer writing to w. Each line is written with one
// Write call (without buffering), so w can frame lines (e.g. one stream
// message per line).
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, h: sha256.New(), m: Manifest{Type: TypeManifest, Algorithm: "sha256"}}
}

func (w *Writer) line(v any) error {
	if w.closed {
		return errors.New("evidence: writer closed")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	w.h.Write(b)
	w.m.Lines++
	_, err = w.w.Write(b)
	return err
}

// Header writes the header line.
func (w *Writer) Header(h Header) error {
	if w.headerOK || w.m.Lines > 0 {
		return errors.New("evidence: header must be the first line, once")
	}
	h.Type, h.Format = TypeHeader, Format
	h.CreatedAt = h.CreatedAt.UTC()
	w.headerOK = true
	return w.line(h)
}

// Record writes one exported record.
func (w *Writer) Record(e *ledger.ExportedRecord) error {
	w.m.Records++
	return w.line(RecordLine{
		Type: TypeRecord, Meta: MetaFrom(&e.Meta), Digest: e.Digest.String(), Prev: e.Prev.String(), Link: e.Link.String(),
		Nonce: e.Nonce, Ciphertext: e.Ciphertext, Payload: e.Payload, Unreadable: e.Unreadable,
	})
}

// ChainEntry writes one chain entry.
func (w *Writer) ChainEntry(e *ledger.ChainEntry) error {
	w.m.ChainEntries++
	return w.line(ChainLine{
		Type: TypeChain, WriterID: e.WriterID, Seq: e.Seq, Kind: e.Kind, Ref: e.Ref, At: utc(e.At),
		Digest: e.Digest.String(), Prev: e.Prev.String(), Link: e.Link.String(), Body: e.Body, Signature: e.Signature,
	})
}

// Checkpoint writes a signed checkpoint.
func (w *Writer) Checkpoint(c *ledger.Checkpoint) error {
	w.m.Checkpoints++
	return w.line(CheckpointLine{
		Type: TypeCheckpoint, WriterID: c.WriterID, Seq: c.Seq, Head: c.Head.String(), At: c.At.UTC(),
		PrevSeq: c.PrevSeq, KeyID: c.KeyID, Signature: hex.EncodeToString(c.Signature),
	})
}

// Manifest returns the manifest (complete after Close).
func (w *Writer) Manifest() Manifest { return w.m }

// Close writes the manifest.
func (w *Writer) Close() error {
	if !w.headerOK {
		return errors.New("evidence: no header written")
	}
	w.m.SHA256 = hex.EncodeToString(w.h.Sum(nil))
	b, err := json.Marshal(w.m)
	if err != nil {
		return err
	}
	w.closed = true
	_, err = w.w.Write(append(b, '\n'))
	return err
}

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

// Verify reads a bundle and checks everything in it. The error is for a
// bundle that cannot be read at all (I/O, not NDJSON, no header); what is
// wrong with a readable bundle is in Report.Problems.
func Verify(r io.Reader, opts Options) (*Report, error) {
	rep := &Report{Unreadable: map[string]int64{}}
	br := bufio.NewReaderSize(r, 1<<20)
	h := sha256.New()
	var (
		lineNo     int64
		records    []RecordLine
		entries    = map[string]map[uint64]*entry{}
		tombstones []ChainLine
		cps        []CheckpointLine
		manifest   *Manifest
		header     *Header
		counts     Manifest
	)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		lineNo++
		if manifest != nil {
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
			h.Write(line)
			counts.Lines++
		}
		dec := func(v any) bool {
			d := json.NewDecoder(bytes.NewReader(line))
			d.DisallowUnknownFields()
			if err := d.Decode(v); err != nil {
				rep.problem("line %d: %v", lineNo, err)
				return false
			}
			return true
		}
		switch typ.Type {
		case TypeHeader:
			if header != nil {
				rep.problem("line %d: a second header", lineNo)
				continue
			}
			var hd Header
			if !dec(&hd) {
				return nil, fmt.Errorf("line 1: unreadable header")
			}
			if hd.Format != Format {
				return nil, fmt.Errorf("line 1: format %q, this verifier reads %q", hd.Format, Format)
			}
			header = &hd
		case TypeRecord:
			counts.Records++
			var rl RecordLine
			if dec(&rl) {
				records = append(records, rl)
			}
		case TypeChain:
			counts.ChainEntries++
			var cl ChainLine
			if !dec(&cl) {
				continue
			}
			e, err := parseEntry(&cl)
			if err != nil {
				rep.problem("line %d: chain entry %s/%d: %v", lineNo, cl.WriterID, cl.Seq, err)
				continue
			}
			w := entries[cl.WriterID]
			if w == nil {
				w = map[uint64]*entry{}
				entries[cl.WriterID] = w
			}
			if _, dup := w[cl.Seq]; dup {
				rep.problem("line %d: chain entry %s/%d appears twice", lineNo, cl.WriterID, cl.Seq)
				continue
			}
			w[cl.Seq] = e
			if cl.Body != nil || cl.Signature != nil {
				tombstones = append(tombstones, cl)
			}
		case TypeCheckpoint:
			counts.Checkpoints++
			var cl CheckpointLine
			if dec(&cl) {
				cps = append(cps, cl)
			}
		case TypeManifest:
			var m Manifest
			if dec(&m) {
				manifest = &m
			} else {
				manifest = &Manifest{}
			}
		default:
			rep.problem("line %d: unknown line type %q", lineNo, typ.Type)
		}
	}
	if header == nil {
		return nil, errors.New("empty bundle")
	}
	rep.Header = *header

	// The manifest: present, last, counts and hash of everything before it.
	switch {
	case manifest == nil:
		rep.problem("no manifest: the bundle is truncated")
	default:
		rep.Manifest = *manifest
		sum := hex.EncodeToString(h.Sum(nil))
		if manifest.Algorithm != "sha256" || manifest.SHA256 != sum {
			rep.problem("manifest: SHA-256 of the bundle is %s, the manifest says %s (%s)", sum, manifest.SHA256, manifest.Algorithm)
		}
		if manifest.Lines != counts.Lines || manifest.Records != counts.Records ||
			manifest.ChainEntries != counts.ChainEntries || manifest.Checkpoints != counts.Checkpoints {
			rep.problem("manifest counts %d lines, %d records, %d chain entries, %d checkpoints; the bundle has %d, %d, %d, %d",
				manifest.Lines, manifest.Records, manifest.ChainEntries, manifest.Checkpoints,
				counts.Lines, counts.Records, counts.ChainEntries, counts.Checkpoints)
		}
	}

	// Trusted keys, by id.
	keys := map[string]ed25519.PublicKey{}
	if len(opts.PublicKeys) > 0 {
		for _, k := range opts.PublicKeys {
			keys[chain.KeyID(k)] = k
		}
	} else {
		add := func(s string) {
			b, err := hex.DecodeString(s)
			if err != nil || len(b) != ed25519.PublicKeySize {
				rep.problem("header: invalid public key %q", s)
				return
			}
			keys[chain.KeyID(b)] = b
		}
		add(header.PublicKey)
		for _, k := range header.TrustedKeys {
			add(k)
		}
	}

	// Chains: every entry's link, consecutive entries joined, genesis.
	writers := make([]string, 0, len(entries))
	for w := range entries {
		writers = append(writers, w)
	}
	sort.Strings(writers)
	rep.Writers = writers
	first := map[string]uint64{}
	last := map[string]uint64{}
	for _, w := range writers {
		es := entries[w]
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

	// Tombstones: digest of kind and body, signature by a trusted key.
	for _, t := range tombstones {
		e := entries[t.WriterID][t.Seq]
		if ledger.EventDigest(t.Kind, t.Body) != e.digest {
			rep.problem("tombstone %s/%d (%s): body does not match its digest", t.WriterID, t.Seq, t.Kind)
		}
		if !signedByAny(keys, chain.EntryMessage(t.WriterID, t.Seq, t.Kind, e.digest), t.Signature) {
			rep.problem("tombstone %s/%d (%s): signature invalid or by an untrusted key", t.WriterID, t.Seq, t.Kind)
		}
	}

	// Checkpoints: signature, and the chain's link at its seq is its head.
	anchor := map[string]uint64{} // writer -> highest verified checkpoint seq
	keyIDs := map[string]bool{}
	for _, c := range cps {
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
		e := entries[c.WriterID][c.Seq]
		if e == nil {
			if _, has := entries[c.WriterID]; has {
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

	// Records: digest from metadata, link, payload hash from ciphertext,
	// the chain entry at the position the record claims, and an anchor.
	seen := map[string]bool{}
	for i := range records {
		rl := &records[i]
		m := &rl.Meta
		rep.Records++
		if seen[m.ID] {
			rep.problem("record %s appears twice", m.ID)
		}
		seen[m.ID] = true
		rm, err := m.recordMeta()
		if err != nil {
			rep.problem("record %s: %v", m.ID, err)
			continue
		}
		digest, err1 := chain.ParseHex(rl.Digest)
		prev, err2 := chain.ParseHex(rl.Prev)
		link, err3 := chain.ParseHex(rl.Link)
		if err := errors.Join(err1, err2, err3); err != nil {
			rep.problem("record %s: %v", m.ID, err)
			continue
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
		e := entries[m.WriterID][m.Seq]
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
	rep.OK = len(rep.Problems) == 0 && !rep.Truncated
	return rep, nil
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
