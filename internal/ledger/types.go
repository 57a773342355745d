package ledger

import (
	"time"

	"github.com/consentry/consentry/internal/ledger/chain"
)

// Record is a quarantined record to store: an opaque payload (the OTLP
// protobuf of a one-record plog.Logs, for the quarantine exporter) and the
// metadata that audits filter on. Tenant, Vendor and EventID are required:
// together they identify the vendor event, and a second record with the
// same three is a duplicate.
type Record struct {
	Tenant        string
	Vendor        string
	EventID       string
	EventName     string
	SubjectKey    string // pseudonymous subject key; empty: the record is encrypted under the tenant's key
	InteractionID string
	Reasons       []string
	ConsentStatus string
	OccurredAt    time.Time
	ReceivedAt    time.Time // zero: now
	Payload       []byte
}

// AppendResult is the outcome of one Record given to Append.
type AppendResult struct {
	// ID is the stored record's id; for a duplicate, the id of the record
	// stored first.
	ID        string
	Duplicate bool
	// Err is set for a record that was not stored because it is invalid.
	Err error
}

// RecordMeta is a stored record's metadata: what List returns. It never
// contains the payload.
type RecordMeta struct {
	ID            string
	Tenant        string
	Vendor        string
	EventID       string
	EventName     string
	SubjectKey    string
	InteractionID string
	Reasons       []string
	ConsentStatus string
	OccurredAt    time.Time
	ReceivedAt    time.Time
	// StoredAt is when the ledger stored the record (the time in its id).
	StoredAt time.Time
	// KeyID is the data key the payload is encrypted under.
	KeyID string
	// PayloadHash is SHA-256(nonce || ciphertext), part of the digest.
	PayloadHash chain.Hash
	// WriterID and Seq are the record's place in its writer's hash chain.
	WriterID string
	Seq      uint64
	// ReleasedAt is when the record was handed back to the forward
	// pipeline (zero: never).
	ReleasedAt time.Time
	// PurgedAt is when retention deleted its payload (zero: never).
	PurgedAt time.Time
	// Erased reports that the subject was erased: the payload can no
	// longer be decrypted.
	Erased bool
}

// StoredRecord is one record read in full: metadata and decrypted payload.
type StoredRecord struct {
	RecordMeta
	Payload []byte
	// Digest and Link are the record's chain entry, checked on read.
	Digest chain.Hash
	Link   chain.Hash
}

// Filter selects records. Empty fields match everything. From and To bound
// StoredAt, when the ledger stored the record (indexed: the time is in the
// record id); OccurredFrom and OccurredTo bound OccurredAt, the vendor's
// event time (not indexed: combine it with another filter on large
// ledgers). Lower bounds are inclusive, upper bounds exclusive; zero means
// unbounded.
type Filter struct {
	Tenant     string
	Vendor     string
	Reason     string
	EventName  string
	SubjectKey string
	// SubjectKeys, when set, restricts the selection to records of one of
	// these subject keys (a subject's keys under several salts).
	SubjectKeys   []string
	InteractionID string
	From, To      time.Time
	OccurredFrom  time.Time
	OccurredTo    time.Time
	// Released selects released records (ReleasedOnly), the others
	// (UnreleasedOnly), or both (AnyRelease, the zero value).
	Released ReleaseFilter
	// IDs, when set, restricts the selection to these record ids.
	IDs []string
	// Scope, when set, restricts the selection to records of these
	// tenants, in addition to the other criteria: the tenants an auditor
	// may see. A set Scope with no tenants selects nothing.
	Scope *TenantScope
}

// TenantScope is a set of tenants (ccaas.tenant.id values, or consent
// scopes for consent records) a query is restricted to.
type TenantScope struct {
	Tenants []string
}

// ReleaseFilter selects records by their released marker.
type ReleaseFilter int

// ReleaseFilter values.
const (
	AnyRelease ReleaseFilter = iota
	ReleasedOnly
	UnreleasedOnly
)

// Page asks for one page of a listing. Token is the NextToken of the
// previous page (empty for the first); Size defaults to 100, at most 1000.
type Page struct {
	Size  int
	Token string
}

// RecordPage is a page of record metadata, newest first.
type RecordPage struct {
	Records []RecordMeta
	// NextToken is empty on the last page.
	NextToken string
}

// Count is a number of records sharing a key.
type Count struct {
	Key   string
	Count int64
}

// Stats are record counts for a filter. Each list is sorted by key. ByDay
// keys are UTC dates (2006-01-02) of OccurredAt, or of ReceivedAt for a
// record without a vendor time (never 1970-01-01). A record with several
// reasons counts once for each.
type Stats struct {
	Total    int64
	ByVendor []Count
	ByReason []Count
	ByTenant []Count
	ByDay    []Count
}

// ExportOptions control Export.
type ExportOptions struct {
	// Decrypt includes the decrypted payload of every readable record.
	Decrypt bool
	// Ciphertext includes the stored nonce and ciphertext, so that the
	// payload hash can be recomputed offline.
	Ciphertext bool
}

// ExportedRecord is one record of an evidence export, with everything
// needed to check it against its writer's chain: its digest is
// RecordDigest(&Meta), and Link = chain.Link(Prev, Digest).
type ExportedRecord struct {
	Meta       RecordMeta
	Digest     chain.Hash
	Prev       chain.Hash
	Link       chain.Hash
	Nonce      []byte // with ExportOptions.Ciphertext, unless purged
	Ciphertext []byte // with ExportOptions.Ciphertext, unless purged
	Payload    []byte // with ExportOptions.Decrypt, unless erased or purged
	// Unreadable says why Payload is missing despite Decrypt ("erased",
	// "purged"), empty otherwise.
	Unreadable string
}

// ChainEntry is one entry of a writer's chain, as exported for offline
// verification: hashes only, plus the body and signature of events
// (tombstones).
type ChainEntry struct {
	WriterID  string
	Seq       uint64
	Kind      string
	Ref       string
	At        time.Time
	Digest    chain.Hash
	Prev      chain.Hash
	Link      chain.Hash
	Body      []byte
	Signature []byte
}

// Checkpoint is a signed checkpoint; see package chain.
type Checkpoint = chain.Checkpoint

// ConsentStatus is what a consent record says.
type ConsentStatus string

// Consent statuses. ConsentOptedIn and ConsentOptedOut are statements
// about the sale and sharing of personal information (CCPA/CPRA): an
// opt-out, and an opt back in after one (after Sec-GPC or a GPP opt-out).
const (
	ConsentGranted   ConsentStatus = "granted"
	ConsentDenied    ConsentStatus = "denied"
	ConsentWithdrawn ConsentStatus = "withdrawn"
	ConsentOptedIn   ConsentStatus = "opted_in"
	ConsentOptedOut  ConsentStatus = "opted_out"
)

// Consent is a consent record: evidence of what a subject agreed to or
// refused. Records are append-only; a later record supersedes an earlier
// one for the purposes it covers (the consent processor decides).
type Consent struct {
	// ID is the de-duplication key: a record with an id already stored is
	// not stored again. Empty: the ledger assigns one.
	ID            string
	Tenant        string // or consent scope; required
	SubjectKey    string // required
	InteractionID string // limits the record to one interaction
	Status        ConsentStatus
	Purposes      []string
	// Evidence.
	Source   string // api, consent_event, signal, opt_out, notice, ...
	Vendor   string
	EventID  string
	Signal   string
	Caller   string // the API caller's identity, for records made through the API
	NoticeID string
	// Details is opaque caller data (e.g. JSON with processors and opt-out
	// flags), stored as is and covered by the chain.
	Details []byte
	// At is when the subject expressed it; RecordedAt when it was stored
	// (zero: now); ExpiresAt when it lapses (zero: never).
	At         time.Time
	RecordedAt time.Time
	ExpiresAt  time.Time
	// WriterID and Seq are set on records read back.
	WriterID string
	Seq      uint64
}

// ConsentFilter selects consent records for ListConsents.
type ConsentFilter struct {
	Tenant     string
	SubjectKey string
	// SubjectKeys, when set, restricts the selection to one of these keys.
	SubjectKeys []string
	// Scope, when set, restricts the selection to these consent scopes (a
	// set Scope with none selects nothing).
	Scope *TenantScope
}

// ConsentPage is a page of consent records, newest first.
type ConsentPage struct {
	Consents  []Consent
	NextToken string
}

// AccessEntry is one access-log entry: who did what through the audit API,
// on what, why, and with what result.
type AccessEntry struct {
	ID       string // set by the ledger
	Time     time.Time
	Identity string
	Method   string
	// Target is the filters or ids the call named, as the caller encodes
	// them (e.g. JSON).
	Target string
	Reason string
	Result string
	// WriterID and Seq are set on entries read back.
	WriterID string
	Seq      uint64
}

// AccessFilter selects access-log entries.
type AccessFilter struct {
	Identity string
	Method   string
	From, To time.Time
	// TargetPrefix, when set, selects entries whose Target starts with it
	// and, when TargetContains is not empty, contains one of those strings:
	// a coarse, unindexed pre-selection that the caller refines (the
	// auditor API's tenant scoping of the access log).
	TargetPrefix   string
	TargetContains []string
}

// AccessPage is a page of access-log entries, newest first.
type AccessPage struct {
	Entries   []AccessEntry
	NextToken string
}

// EraseResult reports an erasure.
type EraseResult struct {
	// KeysDestroyed is the number of data keys destroyed (0 if the subject
	// was already erased or never had one).
	KeysDestroyed int64
	// Records is the number of the subject's records now unreadable.
	Records int64
	// Tombstone is the erasure's chain entry.
	WriterID string
	Seq      uint64
}

// PurgeResult reports a retention purge.
type PurgeResult struct {
	// Purged is the number of records whose payload was deleted.
	Purged   int64
	WriterID string
	Seq      uint64 // the purge tombstone
}

// RewrapResult reports a key rotation pass.
type RewrapResult struct {
	// Rewrapped data keys now wrapped by the active KEK.
	Rewrapped int64
	// Failed data keys could not be unwrapped (their KEK is not
	// configured); the first error is in Err.
	Failed int64
	Err    error
}

// Metrics are counters of the group-commit writer.
type Metrics struct {
	Batches     int64 // committed transactions
	Rows        int64 // chain entries committed
	Duplicates  int64 // duplicate records and consent records skipped
	Failures    int64 // failed transactions
	Checkpoints int64
	// LastBatchRows and LastCommit describe the newest committed batch.
	LastBatchRows int
	LastCommit    time.Duration
	// ConsentLookupsSkipped counts LookupConsents calls answered "no
	// records" from memory, without a database read (SQLite only).
	ConsentLookupsSkipped int64
}
