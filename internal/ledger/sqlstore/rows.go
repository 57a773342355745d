package sqlstore

import (
	"bytes"
	"encoding/binary"

	"github.com/consentry/consentry/internal/ledger/chain"
)

// The rows the store keeps. Times are Unix nanoseconds (0: unset); hashes
// and ciphertexts are byte slices; the record's reasons and the consent's
// purposes are JSON arrays of strings.

// RecordRow is a quarantined record's metadata (table records).
type RecordRow struct {
	RID           int64
	ID            string
	Tenant        string
	Vendor        string
	EventID       string
	EventName     string
	SubjectKey    string
	InteractionID string
	Reasons       string
	ConsentStatus string
	OccurredAt    int64
	ReceivedAt    int64
	DataKeyID     string
	PayloadHash   []byte
	WriterID      string
	Seq           int64
	ReleasedAt    int64
	PurgedAt      int64
	// EventHash is a derived column, set by the store on insert and read
	// back: the compact key of the de-duplication index (see EventHash).
	EventHash []byte
	// KeyErased is set on reads: the record's data key was destroyed (or
	// is missing).
	KeyErased bool
}

// PayloadRow is a record's encrypted payload (table payloads).
type PayloadRow struct {
	RID        int64
	Nonce      []byte
	Ciphertext []byte
}

// ChainRow is one entry of a writer's hash chain (table chain). Kind is
// "record", "consent", "access" or an event kind ("erase", "purge",
// "release"); Ref is the id of the record, consent record or access-log
// entry, or empty for events, whose content is Body.
type ChainRow struct {
	WriterID string
	Seq      int64
	Kind     string
	Ref      string
	At       int64
	Digest   []byte
	Prev     []byte
	Link     []byte
	Body     []byte
	Sig      []byte
}

// CheckpointRow is a signed checkpoint (table checkpoints).
type CheckpointRow struct {
	WriterID string
	Seq      int64
	Head     []byte
	At       int64
	PrevSeq  int64
	KeyID    string
	Sig      []byte
}

// DataKeyRow is a wrapped data key (table data_keys). An erased key has
// ErasedAt set and no Wrapped bytes.
type DataKeyRow struct {
	ID         string
	Tenant     string
	SubjectKey string
	KEKID      string
	Wrapped    []byte
	CreatedAt  int64
	ErasedAt   int64
}

// ConsentRow is a consent record (table consents).
type ConsentRow struct {
	ID            string
	Tenant        string
	SubjectKey    string
	InteractionID string
	Status        string
	Purposes      string
	Source        string
	Vendor        string
	EventID       string
	Signal        string
	Caller        string
	NoticeID      string
	Details       []byte
	At            int64
	RecordedAt    int64
	ExpiresAt     int64
	WriterID      string
	Seq           int64
}

// AccessRow is an access-log entry (table access_log).
type AccessRow struct {
	ID       string
	At       int64
	Identity string
	Method   string
	Target   string
	Reason   string
	Result   string
	WriterID string
	Seq      int64
}

// EventKey identifies a vendor event: the de-duplication key of records.
type EventKey struct{ Tenant, Vendor, EventID string }

// EventHash is the indexed form of an event key: 16 bytes of SHA-256 of
// its canonical encoding. A compact fixed-size key keeps the unique index
// (random inserts: vendor event ids are UUIDs) several times smaller than an
// index over the three text columns, so more of it stays in the page cache.
func EventHash(k EventKey) []byte {
	e := chain.NewEncoder("consentry.ledger.event-key.v1")
	e.String(k.Tenant)
	e.String(k.Vendor)
	e.String(k.EventID)
	h := e.Sum()
	return h[:16]
}

// SubjectHash is the indexed form of a data key's subject (8 bytes of
// SHA-256, as an integer); queries match subject_key too.
func SubjectHash(subjectKey string) int64 {
	e := chain.NewEncoder("consentry.ledger.subject.v1")
	e.String(subjectKey)
	h := e.Sum()
	return int64(binary.BigEndian.Uint64(h[:8]))
}

// DerivedOK reports whether a record's derived columns match its fields.
func (r *RecordRow) DerivedOK() bool {
	return bytes.Equal(r.EventHash, EventHash(EventKey{r.Tenant, r.Vendor, r.EventID}))
}

type table struct {
	name  string
	cols  []string
	types []string // PostgreSQL array element types: text, int8, bytea
}

var (
	recordsTable = &table{"records",
		[]string{"id", "tenant", "vendor", "event_id", "event_name", "subject_key", "interaction_id", "reasons", "consent_status", "occurred_at", "received_at", "dk_id", "payload_hash", "writer_id", "seq", "event_hash"},
		[]string{"text", "text", "text", "text", "text", "text", "text", "text", "text", "int8", "int8", "text", "bytea", "text", "int8", "bytea"}}
	payloadsTable = &table{"payloads",
		[]string{"rid", "nonce", "ciphertext"},
		[]string{"int8", "bytea", "bytea"}}
	chainTable = &table{"chain",
		[]string{"writer_id", "seq", "kind", "ref", "at", "digest", "prev", "link", "body", "sig"},
		[]string{"text", "int8", "text", "text", "int8", "bytea", "bytea", "bytea", "bytea", "bytea"}}
	dataKeysTable = &table{"data_keys",
		[]string{"dk_id", "tenant", "subject_key", "kek_id", "wrapped", "created_at", "subject_hash"},
		[]string{"text", "text", "text", "text", "bytea", "int8", "int8"}}
	consentsTable = &table{"consents",
		[]string{"id", "tenant", "subject_key", "interaction_id", "status", "purposes", "source", "vendor", "event_id", "signal", "caller", "notice_id", "details", "at", "recorded_at", "expires_at", "writer_id", "seq"},
		[]string{"text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "bytea", "int8", "int8", "int8", "text", "int8"}}
	accessTable = &table{"access_log",
		[]string{"id", "at", "identity", "method", "target", "reason", "result", "writer_id", "seq"},
		[]string{"text", "int8", "text", "text", "text", "text", "text", "text", "int8"}}
	checkpointsTable = &table{"checkpoints",
		[]string{"writer_id", "seq", "head", "at", "prev_seq", "key_id", "sig"},
		[]string{"text", "int8", "bytea", "int8", "int8", "text", "bytea"}}
)

func (r *RecordRow) values() []any {
	return []any{r.ID, r.Tenant, r.Vendor, r.EventID, r.EventName, r.SubjectKey, r.InteractionID, r.Reasons, r.ConsentStatus, r.OccurredAt, r.ReceivedAt, r.DataKeyID, r.PayloadHash, r.WriterID, r.Seq,
		EventHash(EventKey{r.Tenant, r.Vendor, r.EventID})}
}

func (c *ChainRow) values() []any {
	return []any{c.WriterID, c.Seq, c.Kind, c.Ref, c.At, c.Digest, c.Prev, c.Link, c.Body, c.Sig}
}

func (k *DataKeyRow) values() []any {
	return []any{k.ID, k.Tenant, k.SubjectKey, k.KEKID, k.Wrapped, k.CreatedAt, SubjectHash(k.SubjectKey)}
}

func (c *ConsentRow) values() []any {
	return []any{c.ID, c.Tenant, c.SubjectKey, c.InteractionID, c.Status, c.Purposes, c.Source, c.Vendor, c.EventID, c.Signal, c.Caller, c.NoticeID, c.Details, c.At, c.RecordedAt, c.ExpiresAt, c.WriterID, c.Seq}
}

func (a *AccessRow) values() []any {
	return []any{a.ID, a.At, a.Identity, a.Method, a.Target, a.Reason, a.Result, a.WriterID, a.Seq}
}

func (c *CheckpointRow) values() []any {
	return []any{c.WriterID, c.Seq, c.Head, c.At, c.PrevSeq, c.KeyID, c.Sig}
}

// Column lists for reads, in the order the scan functions expect.
const (
	recordCols  = `r.rid, r.id, r.tenant, r.vendor, r.event_id, r.event_name, r.subject_key, r.interaction_id, r.reasons, r.consent_status, r.occurred_at, r.received_at, r.dk_id, r.payload_hash, r.writer_id, r.seq, r.released_at, r.purged_at, r.event_hash`
	chainCols   = `c.writer_id, c.seq, c.kind, c.ref, c.at, c.digest, c.prev, c.link, c.body, c.sig`
	consentCols = `s.id, s.tenant, s.subject_key, s.interaction_id, s.status, s.purposes, s.source, s.vendor, s.event_id, s.signal, s.caller, s.notice_id, s.details, s.at, s.recorded_at, s.expires_at, s.writer_id, s.seq`
	accessCols  = `a.id, a.at, a.identity, a.method, a.target, a.reason, a.result, a.writer_id, a.seq`
	dataKeyCols = `k.dk_id, k.tenant, k.subject_key, k.kek_id, k.wrapped, k.created_at, k.erased_at`
	cpCols      = `writer_id, seq, head, at, prev_seq, key_id, sig`
)

func (r *RecordRow) dest() []any {
	return []any{&r.RID, &r.ID, &r.Tenant, &r.Vendor, &r.EventID, &r.EventName, &r.SubjectKey, &r.InteractionID, &r.Reasons, &r.ConsentStatus, &r.OccurredAt, &r.ReceivedAt, &r.DataKeyID, &r.PayloadHash, &r.WriterID, &r.Seq, &r.ReleasedAt, &r.PurgedAt, &r.EventHash}
}

func (c *ChainRow) dest() []any {
	return []any{&c.WriterID, &c.Seq, &c.Kind, &c.Ref, &c.At, &c.Digest, &c.Prev, &c.Link, &c.Body, &c.Sig}
}

func (c *ConsentRow) dest() []any {
	return []any{&c.ID, &c.Tenant, &c.SubjectKey, &c.InteractionID, &c.Status, &c.Purposes, &c.Source, &c.Vendor, &c.EventID, &c.Signal, &c.Caller, &c.NoticeID, &c.Details, &c.At, &c.RecordedAt, &c.ExpiresAt, &c.WriterID, &c.Seq}
}

func (a *AccessRow) dest() []any {
	return []any{&a.ID, &a.At, &a.Identity, &a.Method, &a.Target, &a.Reason, &a.Result, &a.WriterID, &a.Seq}
}

func (k *DataKeyRow) dest() []any {
	return []any{&k.ID, &k.Tenant, &k.SubjectKey, &k.KEKID, &k.Wrapped, &k.CreatedAt, &k.ErasedAt}
}

func (c *CheckpointRow) dest() []any {
	return []any{&c.WriterID, &c.Seq, &c.Head, &c.At, &c.PrevSeq, &c.KeyID, &c.Sig}
}
