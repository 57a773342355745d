// Package consentstore defines where Consentry keeps consent records: the
// Store interface, an in-memory implementation (Memory) and a read-through
// cache (Cache) that keeps hot lookups off the store.
//
// A consent record is one piece of evidence about what a data subject agreed
// to (or refused): purposes granted or denied, optionally limited to some
// processors or to one interaction, an opt-out of sale and sharing, and where
// the evidence came from (the API, a consent event, an in-event signal, a
// played notice). Records are append-only: a later record supersedes an
// earlier one for the purposes it covers; nothing is updated in place, so the
// history stays available as evidence.
//
// The consent processor reads records through a Cache and writes the
// records it learns from consent events through the same Cache, which
// invalidates the subject's entry. The consent_ledger extension implements
// Store on its durable, tamper-evident ledger; a Store whose records can also
// change through other paths (the ledger's audit API) should implement
// Notifier so that caches drop stale entries at once instead of after their
// TTL.
package consentstore

import (
	"context"
	"errors"
	"time"
)

// Key identifies a data subject within a consent scope.
type Key struct {
	// Scope groups the tenants that share consent: by default one vendor
	// tenant ("genesys/<org id>"); several tenants of one business (its
	// Segment source and its Twilio account) can share a scope.
	Scope string
	// Subject is the pseudonymous subject key (ccaas.subject.key).
	Subject string
}

// OptOut is a record's statement about the sale and sharing of personal
// information (CCPA/CPRA; GPC, GPP opt-outs).
type OptOut int8

const (
	// OptOutUnset: the record says nothing about sale and sharing.
	OptOutUnset OptOut = 0
	// OptOutSaleSharing: the subject opted out of sale, sharing and targeted
	// advertising (Sec-GPC: 1, a GPP opt-out).
	OptOutSaleSharing OptOut = 1
	// OptInSaleSharing: the subject withdrew an earlier opt-out (only an
	// explicit consent record can say this).
	OptInSaleSharing OptOut = 2
)

// Source says what kind of evidence a record is. Stronger evidence wins
// over weaker evidence of the same time.
type Source string

// Sources, strongest first.
const (
	SourceAPI          Source = "api"           // recorded through the consent API (an operator, a CMP integration)
	SourceConsentEvent Source = "consent_event" // learned from a consent event (ccaas.consent.updated, a Segment preference update)
	SourceSignal       Source = "signal"        // learned from an in-event consent signal (an IVR opt-in, a task attribute)
	SourceOptOut       Source = "opt_out"       // learned from Sec-GPC or a GPP opt-out
	SourceNotice       Source = "notice"        // learned from a played-notice marker
)

// Strength orders sources: higher is stronger.
func (s Source) Strength() int {
	switch s {
	case SourceAPI:
		return 5
	case SourceConsentEvent:
		return 4
	case SourceSignal, SourceOptOut:
		return 3
	case SourceNotice:
		return 1
	default:
		return 0
	}
}

// Record is one piece of consent evidence. Records are immutable once
// appended; callers must not modify a Record or its slices after handing it
// to a Store or receiving it from one.
type Record struct {
	// ID is unique and stable: appending a record whose ID is already stored
	// is a no-op, so a vendor's retry does not duplicate evidence.
	ID string
	Key
	// Interaction, when set, limits the record to one interaction
	// (ccaas.interaction.id): a recording consent given in an IVR covers
	// that call, not the subject's next one.
	Interaction string

	// Granted and Denied are data uses (fideslang vocabulary). A purpose
	// covers its descendants: granting "analytics" grants
	// "analytics.reporting".
	Granted []string
	Denied  []string
	// Processors, when set, limits the record to these policy processor ids;
	// empty means every processor the subject's notice discloses.
	Processors []string
	// OptOut is the record's statement about sale and sharing.
	OptOut OptOut
	// FirstPartyOnly limits the record to processors that are not third
	// parties (a generic played notice does not cover a vendor's own use).
	FirstPartyOnly bool

	// Evidence: where the record came from.
	Source   Source
	Vendor   string // ccaas.vendor of the event that carried it
	Tenant   string // ccaas.tenant.id of that event
	EventID  string // ccaas.event.id of that event
	Signal   string // the evidence in short, e.g. "signal:recording=granted", "gpc", "category:Analytics=true"
	NoticeID string // the notice (id@version) in force when it was given

	// At is when the subject expressed it (the event's time); a record
	// applies to events at or after At. RecordedAt is when it was stored.
	At         time.Time
	RecordedAt time.Time
}

// Store keeps consent records. Implementations must be safe for concurrent
// use.
type Store interface {
	// Lookup returns every record of the subject, ordered by At (oldest
	// first), or none. The returned slice must not be modified.
	Lookup(ctx context.Context, key Key) ([]Record, error)
	// Append stores a record. Appending a record whose ID is already stored
	// does nothing and returns nil.
	Append(ctx context.Context, rec Record) error
}

// Notifier is implemented by stores whose records can change without going
// through the consent processor (for example through the ledger's audit
// API, or another replica). Subscribe registers fn to be called with the
// key of every subject whose records changed, or with the zero Key when
// any subject's may have (notifications were lost); fn must return quickly
// (it runs on the goroutine that delivers notifications). The returned
// function unsubscribes.
type Notifier interface {
	Subscribe(fn func(Key)) (unsubscribe func())
}

// ErrTampered is returned by Lookup when a stored consent record does not
// match its tamper-evident proof (the ledger's hash chain): it was altered
// where it is stored, so none of the subject's records can be trusted. The
// consent processor quarantines with the reason consent_tampered.
var ErrTampered = errors.New("a stored consent record does not match its hash-chain entry: it was altered in the database")

// ErrInvalidRecord is returned by Append for a record without ID, scope or
// subject.
var ErrInvalidRecord = errors.New("consent record needs an id, a scope and a subject")

// Validate reports whether a record can be stored.
func (r *Record) Validate() error {
	if r.ID == "" || r.Scope == "" || r.Subject == "" {
		return ErrInvalidRecord
	}
	return nil
}
