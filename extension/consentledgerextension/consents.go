package consentledgerextension

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/ledger"
)

// consentDetails is the part of a consentstore.Record that the ledger's
// consent columns do not hold. It is stored as the record's details (JSON,
// covered by the hash chain) so that Lookup returns exactly what Append got.
type consentDetails struct {
	// Format marks details written by this extension (detailsFormat). Only
	// such details are read back: details recorded through the auditor API
	// are the caller's opaque data and never change what a row says.
	Format         int                 `json:"consentry_record"`
	Granted        []string            `json:"granted,omitempty"`
	Denied         []string            `json:"denied,omitempty"`
	Processors     []string            `json:"processors,omitempty"`
	OptOut         consentstore.OptOut `json:"opt_out,omitempty"`
	FirstPartyOnly bool                `json:"first_party_only,omitempty"`
	Tenant         string              `json:"tenant,omitempty"`
}

// detailsFormat is the version of consentDetails.
const detailsFormat = 1

// toLedgerConsent maps a processor's consent record to a ledger consent
// row. The row's status says what an auditor reads first: "denied" when the
// record denies some purposes or opts out of sale and sharing, otherwise
// "granted" (an opt-in, or a record that only limits processors, grants);
// the details say exactly what it grants and denies.
func toLedgerConsent(rec consentstore.Record) (ledger.Consent, error) {
	d := consentDetails{
		Format:  detailsFormat,
		Granted: rec.Granted, Denied: rec.Denied, Processors: rec.Processors,
		OptOut: rec.OptOut, FirstPartyOnly: rec.FirstPartyOnly, Tenant: rec.Tenant,
	}
	details, err := json.Marshal(d)
	if err != nil {
		return ledger.Consent{}, err
	}
	status, purposes := ledger.ConsentGranted, rec.Granted
	if len(rec.Denied) > 0 || rec.OptOut == consentstore.OptOutSaleSharing {
		status, purposes = ledger.ConsentDenied, rec.Denied
	}
	return ledger.Consent{
		ID:            rec.ID,
		Tenant:        rec.Scope,
		SubjectKey:    rec.Subject,
		InteractionID: rec.Interaction,
		Status:        status,
		Purposes:      purposes,
		Source:        string(rec.Source),
		Vendor:        rec.Vendor,
		EventID:       rec.EventID,
		Signal:        rec.Signal,
		NoticeID:      rec.NoticeID,
		Details:       details,
		At:            rec.At,
		RecordedAt:    rec.RecordedAt,
	}, nil
}

// fromLedgerConsent maps a ledger row back. Rows written by the consent
// processor carry their details; for every other row the status and
// purposes say it all (a withdrawal denies).
func fromLedgerConsent(c *ledger.Consent) (consentstore.Record, error) {
	rec := consentstore.Record{
		ID:          c.ID,
		Key:         consentstore.Key{Scope: c.Tenant, Subject: c.SubjectKey},
		Interaction: c.InteractionID,
		Source:      consentstore.Source(c.Source),
		Vendor:      c.Vendor,
		EventID:     c.EventID,
		Signal:      c.Signal,
		NoticeID:    c.NoticeID,
		At:          c.At,
		RecordedAt:  c.RecordedAt,
	}
	// Details are this extension's only if they say so and the row did not
	// come through the auditor API, which stores the caller's details as
	// given: those never change what the row's status and purposes say.
	var d consentDetails
	if c.Source != string(consentstore.SourceAPI) && len(c.Details) > 0 &&
		json.Unmarshal(c.Details, &d) == nil && d.Format == detailsFormat {
		rec.Granted, rec.Denied, rec.OptOut = d.Granted, d.Denied, d.OptOut
		rec.Processors, rec.FirstPartyOnly, rec.Tenant = d.Processors, d.FirstPartyOnly, d.Tenant
	} else {
		switch c.Status {
		case ledger.ConsentGranted:
			rec.Granted = slices.Clone(c.Purposes)
		case ledger.ConsentDenied, ledger.ConsentWithdrawn:
			rec.Denied = slices.Clone(c.Purposes)
		case ledger.ConsentOptedIn:
			// Back into sale and sharing (after Sec-GPC or a GPP opt-out);
			// the purposes it names are granted too.
			rec.OptOut, rec.Granted = consentstore.OptInSaleSharing, slices.Clone(c.Purposes)
		case ledger.ConsentOptedOut:
			rec.OptOut, rec.Denied = consentstore.OptOutSaleSharing, slices.Clone(c.Purposes)
		default:
			// Fail closed: a record we cannot read might be an opt-out.
			return rec, fmt.Errorf("consent %s: unknown status %q", c.ID, c.Status)
		}
	}
	if rec.Source == "" {
		rec.Source = consentstore.SourceAPI
	}
	return rec, nil
}

// consentClient is the consent store in the ledger
// (consentledger.Consents), the consent processor's store.
type consentClient struct{ e *ledgerExtension }

// Append implements consentstore.Store: the record is committed to the
// ledger (hash-chained, de-duplicated by id) before Append returns.
func (c consentClient) Append(ctx context.Context, rec consentstore.Record) error {
	if err := rec.Validate(); err != nil {
		return err
	}
	l, err := c.e.ledgerOrErr()
	if err != nil {
		return err
	}
	row, err := toLedgerConsent(rec)
	if err != nil {
		return err
	}
	_, _, err = l.PutConsent(ctx, row)
	c.e.commitHealth(err)
	if err != nil {
		return contractErr(err)
	}
	c.e.notify(rec.Key)
	return nil
}

// Lookup implements consentstore.Store. Records that expired are left out.
func (c consentClient) Lookup(ctx context.Context, key consentstore.Key) ([]consentstore.Record, error) {
	l, err := c.e.ledgerOrErr()
	if err != nil {
		return nil, err
	}
	rows, err := l.LookupConsents(ctx, key.Scope, key.Subject)
	if errors.Is(err, ledger.ErrTampered) {
		// Fail closed with a reason of its own (consent_tampered).
		return nil, fmt.Errorf("%w: %w", consentstore.ErrTampered, err)
	}
	if err != nil || len(rows) == 0 {
		return nil, contractErr(err)
	}
	now := c.e.now()
	out := make([]consentstore.Record, 0, len(rows))
	for i := range rows {
		if !rows[i].ExpiresAt.IsZero() && !rows[i].ExpiresAt.After(now) {
			continue
		}
		rec, err := fromLedgerConsent(&rows[i])
		if err != nil {
			// Fail closed: a record we cannot read might be an opt-out.
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil // LookupConsents returns them oldest first
}

// Subscribe implements consentstore.Notifier: fn is called with the key of
// every subject whose consent records change through this extension (the
// consent processor's writes and the auditor API's).
func (c consentClient) Subscribe(fn func(consentstore.Key)) func() { return c.e.subscribe(fn) }

func (e *ledgerExtension) subscribe(fn func(consentstore.Key)) func() {
	e.subMu.Lock()
	defer e.subMu.Unlock()
	e.nextSub++
	id := e.nextSub
	if e.subs == nil {
		e.subs = map[int]func(consentstore.Key){}
	}
	e.subs[id] = fn
	return func() {
		e.subMu.Lock()
		defer e.subMu.Unlock()
		delete(e.subs, id)
	}
}

// notify reports a committed consent change: to this collector's
// subscribers, and to the other replicas of a shared ledger.
func (e *ledgerExtension) notify(k consentstore.Key) {
	e.notifyLocal(k)
	e.publish(k)
}

// notifyLocal calls this collector's subscribers; the zero Key means that
// any subject's consent may have changed.
func (e *ledgerExtension) notifyLocal(k consentstore.Key) {
	e.subMu.Lock()
	fns := make([]func(consentstore.Key), 0, len(e.subs))
	for _, fn := range e.subs {
		fns = append(fns, fn)
	}
	e.subMu.Unlock()
	for _, fn := range fns {
		fn(k)
	}
}
