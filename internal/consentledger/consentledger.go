// Package consentledger is the contract between the consent_ledger
// extension and the components that use it: the counterpart of the
// collector's extension/xextension/storage. The extension implements
// Extension and hands out narrow clients; a component names the extension
// in its `ledger` setting (an ID) and finds it at Start with Find. Nothing
// else of the extension, and nothing of its storage engine, is visible to
// the components.
//
// Four components meet in the ledger, and data flows both ways:
//
//	quarantine exporter --Quarantine.Append------------> ledger   quarantined records, durable before Append returns
//	consent processor   --Consents.Lookup / Append-----> ledger   consent records (the processor's consent store)
//	consent processor   --Releases.RegisterEvaluator---> ledger   re-tags a stored record under today's policy
//	consent_router      --Releases.RegisterForward-----> ledger   the forward pipelines
//	                    <--released records pushed------ ledger   when an auditor releases records
//
// Release is the one place where an extension pushes records into a
// pipeline: the consent_router registers its forward pipelines as a
// consumer.Logs, and when an auditor releases quarantined records whose
// consent now allows them, the ledger re-evaluates each one through the
// consent processor's Evaluator and calls that consumer with it. Without
// both registrations nothing is released (fail closed). Hub implements the
// registry and that dispatch for any Extension.
//
// The consentledgertest package holds an in-memory Extension for component
// tests and the contract test suite every implementation passes.
package consentledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/consentry/consentry/internal/consentstore"
)

// Extension is implemented by the consent_ledger extension. The clients
// may only be asked for once the extension has started (extensions start
// before pipelines); they fail with an error wrapping ErrUnavailable once
// it has shut down.
type Extension interface {
	extension.Extension
	// Quarantine returns the client through which owner stores
	// quarantined records.
	Quarantine(owner component.ID) (Quarantine, error)
	// Consents returns the consent store owner reads and writes consent
	// records through.
	Consents(owner component.ID) (Consents, error)
	// Releases returns the registry where the components that take part in
	// release register their part.
	Releases() Registry
}

// Quarantine stores quarantined records.
type Quarantine interface {
	// Append stores records and returns once every one is durable (or
	// recognised as a duplicate), with one result per record in order. A
	// record without Tenant, Vendor or EventID is not stored: its result's
	// Err wraps ErrInvalidRecord. An error means that none of the records
	// may be taken as stored; records stored before it are recognised as
	// duplicates when the caller tries again. Errors that may pass on their
	// own wrap ErrUnavailable.
	Append(ctx context.Context, recs []Record) ([]AppendResult, error)
}

// Record is a quarantined record: an opaque payload (the OTLP protobuf of
// a plog.Logs holding the one log record with its resource and scope) and
// the metadata auditors filter on. Tenant, Vendor and EventID identify the
// vendor event: a second record with the same three is a duplicate and is
// stored once.
type Record struct {
	Tenant        string
	Vendor        string
	EventID       string
	EventName     string
	SubjectKey    string // pseudonymous subject key; empty: the record is encrypted under the tenant's key
	InteractionID string
	Reasons       []string // consent.reasons, and the exporter's own
	ConsentStatus string
	OccurredAt    time.Time // the vendor's event time (zero: unknown)
	ReceivedAt    time.Time // when the collector received it (zero: now)
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

// Consents is the consent store in the ledger: records are durable and
// hash-chained once Append returns, and Subscribe reports every change,
// including consent recorded through the auditor API.
type Consents interface {
	consentstore.Store
	consentstore.Notifier
}

// Errors of the contract.
var (
	// ErrUnavailable is wrapped by errors that may pass on their own (the
	// extension is not running, the database is busy or unreachable, a
	// deadline passed): a vendor is asked to retry.
	ErrUnavailable = errors.New("consent ledger unavailable")
	// ErrNotStarted: the extension has not started or has shut down.
	ErrNotStarted = fmt.Errorf("%w: the consent_ledger extension has not started or has shut down", ErrUnavailable)
	// ErrInvalidRecord: a quarantined record without tenant, vendor or
	// event id.
	ErrInvalidRecord = errors.New("quarantined record needs a tenant, a vendor and an event id")
)

// Find returns the consent ledger that id names among host's extensions.
// The error says what to fix in the configuration.
func Find(host component.Host, id ID) (Extension, error) {
	if !id.IsSet() {
		return nil, errors.New("ledger: no consent_ledger extension is named (e.g. ledger: consent_ledger)")
	}
	ext, ok := host.GetExtensions()[id.id]
	if !ok {
		return nil, fmt.Errorf("ledger: extension %q not found; add it under extensions and to service.extensions", id)
	}
	l, ok := ext.(Extension)
	if !ok {
		return nil, fmt.Errorf("ledger: extension %q is not a consent_ledger extension", id)
	}
	return l, nil
}

// ID is the `ledger` setting of the components that use a consent ledger
// (the quarantine exporter, the consent processor, the consent_router):
// the component id of a consent_ledger extension, such as consent_ledger
// or consent_ledger/pg. The zero value means unset.
type ID struct {
	id component.ID
}

// NewID returns the ID naming id.
func NewID(id component.ID) ID { return ID{id: id} }

// ComponentID is the extension's component id.
func (id ID) ComponentID() component.ID { return id.id }

// IsSet reports whether an extension is named.
func (id ID) IsSet() bool { return id.id != component.ID{} }

// String is the id as written in the configuration.
func (id ID) String() string { return id.id.String() }

// UnmarshalText reads the id from the configuration.
func (id *ID) UnmarshalText(text []byte) error { return id.id.UnmarshalText(text) }

// MarshalText writes the id as in the configuration.
func (id ID) MarshalText() ([]byte, error) { return id.id.MarshalText() }

// Require is the check of a component whose ledger setting is required.
// (It is not called Validate: the collector would call that on every
// component's setting, required or not.)
func (id ID) Require() error {
	if !id.IsSet() {
		return errors.New("ledger: the id of a consent_ledger extension is required (e.g. ledger: consent_ledger)")
	}
	return nil
}
