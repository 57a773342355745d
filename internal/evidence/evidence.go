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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
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
