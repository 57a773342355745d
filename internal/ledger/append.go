package ledger

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/consentry/consentry/internal/ledger/chain"
	"github.com/consentry/consentry/internal/ledger/sqlstore"
)

// Append stores records and returns when they are durable: committed by
// the group-commit writer. results[i] belongs to recs[i]: the stored id,
// or Duplicate with the id stored first for a record whose (tenant,
// vendor, event id) is already stored (or appears earlier in the same
// call), or Err for an invalid record. The error is set when nothing could
// be stored (the store failed, the context ended, the ledger is closed);
// test it with IsRetryable.
//
// Payloads are encrypted and digested here, in the caller's goroutine.
func (l *Ledger) Append(ctx context.Context, recs []Record) ([]AppendResult, error) {
	results := make([]AppendResult, len(recs))
	items := make([]*recItem, len(recs))
	var todo []int
	for i := range recs {
		if err := validRecord(&recs[i]); err != nil {
			results[i].Err = err
			continue
		}
		it, err := l.seal(ctx, &recs[i])
		if err != nil {
			return nil, err
		}
		items[i] = it
		todo = append(todo, i)
	}
	for round := 0; len(todo) > 0; round++ {
		req := &request{records: make([]*recItem, len(todo))}
		for j, i := range todo {
			req.records[j] = items[i]
		}
		if err := l.submit(ctx, req); err != nil {
			return nil, err
		}
		var again []int
		for _, i := range todo {
			it := items[i]
			if errors.Is(it.err, errKeyErased) && round < 3 {
				// The subject was erased while the record was queued: seal
				// it again under a new key.
				l.keys.dropKey(it.key)
				nit, err := l.seal(ctx, &recs[i])
				if err != nil {
					return nil, err
				}
				items[i] = nit
				again = append(again, i)
				continue
			}
			results[i] = AppendResult{ID: it.id, Duplicate: it.dup, Err: it.err}
		}
		todo = again
	}
	return results, nil
}

// clean makes a string storable the same way in both backends: valid
// UTF-8 without NUL (PostgreSQL text accepts nothing else). Metadata comes
// from vendor events, so it is repaired rather than refused: the payload,
// stored as bytes, keeps the original.
func clean(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func cleanAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = clean(s)
	}
	return out
}

func validRecord(r *Record) error {
	switch {
	case r.Tenant == "":
		return fmt.Errorf("%w: record without tenant", ErrInvalid)
	case r.Vendor == "":
		return fmt.Errorf("%w: record without vendor", ErrInvalid)
	case r.EventID == "":
		return fmt.Errorf("%w: record without event id", ErrInvalid)
	}
	return nil
}

// seal encrypts a record under its subject's data key and computes its
// digest.
func (l *Ledger) seal(ctx context.Context, r *Record) (*recItem, error) {
	rc := *r
	r = &rc
	for _, f := range []*string{&r.Tenant, &r.Vendor, &r.EventID, &r.EventName, &r.SubjectKey, &r.InteractionID, &r.ConsentStatus} {
		*f = clean(*f)
	}
	if r.Reasons != nil {
		r.Reasons = cleanAll(r.Reasons)
	}
	key, err := l.subjectKey(r.Tenant, r.SubjectKey)
	if err != nil {
		return nil, err
	}
	now := l.now()
	id := l.ids.next(now)
	aead, err := key.aead()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	ct := aead.Seal(nil, nonce, r.Payload, payloadAAD(r.Tenant, r.Vendor, r.EventID, id))
	received := r.ReceivedAt
	if received.IsZero() {
		received = now
	}
	reasons := r.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	meta := RecordMeta{
		ID: id, Tenant: r.Tenant, Vendor: r.Vendor, EventID: r.EventID, EventName: r.EventName,
		SubjectKey: r.SubjectKey, InteractionID: r.InteractionID, Reasons: reasons,
		ConsentStatus: r.ConsentStatus, OccurredAt: r.OccurredAt, ReceivedAt: received,
		KeyID: key.row.ID, PayloadHash: chain.PayloadHash(nonce, ct),
	}
	rj, err := json.Marshal(reasons)
	if err != nil {
		return nil, err
	}
	return &recItem{
		row: sqlstore.RecordRow{
			ID: id, Tenant: r.Tenant, Vendor: r.Vendor, EventID: r.EventID, EventName: r.EventName,
			SubjectKey: r.SubjectKey, InteractionID: r.InteractionID, Reasons: string(rj),
			ConsentStatus: r.ConsentStatus, OccurredAt: unixNano(r.OccurredAt), ReceivedAt: unixNano(received),
			DataKeyID: key.row.ID, PayloadHash: clone(meta.PayloadHash),
		},
		payload: sqlstore.PayloadRow{Nonce: nonce, Ciphertext: ct},
		digest:  RecordDigest(&meta),
		key:     key,
	}, nil
}

// PutConsent stores a consent record and returns when it is durable. A
// record whose ID is already stored is not stored again (duplicate is
// true). An empty ID is assigned.
func (l *Ledger) PutConsent(ctx context.Context, c Consent) (id string, duplicate bool, err error) {
	if c.Tenant == "" || c.SubjectKey == "" {
		return "", false, fmt.Errorf("%w: consent record needs a tenant and a subject key", ErrInvalid)
	}
	switch c.Status {
	case ConsentGranted, ConsentDenied, ConsentWithdrawn, ConsentOptedIn, ConsentOptedOut:
	default:
		return "", false, fmt.Errorf("%w: consent status %q", ErrInvalid, c.Status)
	}
	for _, f := range []*string{&c.ID, &c.Tenant, &c.SubjectKey, &c.InteractionID, &c.Source, &c.Vendor, &c.EventID, &c.Signal, &c.Caller, &c.NoticeID} {
		*f = clean(*f)
	}
	c.Purposes = cleanAll(c.Purposes)
	now := l.now()
	if c.ID == "" {
		c.ID = "c_" + l.ids.next(now)
	}
	if c.RecordedAt.IsZero() {
		c.RecordedAt = now
	}
	if c.Purposes == nil {
		c.Purposes = []string{}
	}
	pj, err := json.Marshal(c.Purposes)
	if err != nil {
		return "", false, err
	}
	it := &consentItem{
		row: sqlstore.ConsentRow{
			ID: c.ID, Tenant: c.Tenant, SubjectKey: c.SubjectKey, InteractionID: c.InteractionID,
			Status: string(c.Status), Purposes: string(pj), Source: c.Source, Vendor: c.Vendor,
			EventID: c.EventID, Signal: c.Signal, Caller: c.Caller, NoticeID: c.NoticeID,
			Details: c.Details, At: unixNano(c.At), RecordedAt: unixNano(c.RecordedAt), ExpiresAt: unixNano(c.ExpiresAt),
		},
		digest: ConsentDigest(&c),
	}
	if err := l.submit(ctx, &request{consents: []*consentItem{it}}); err != nil {
		return "", false, err
	}
	return it.id, it.dup, nil
}

// AppendAccess appends an entry to the hash-chained access log and returns
// its id once it is durable. A zero Time is now.
func (l *Ledger) AppendAccess(ctx context.Context, e AccessEntry) (string, error) {
	for _, f := range []*string{&e.Identity, &e.Method, &e.Target, &e.Reason, &e.Result} {
		*f = clean(*f)
	}
	now := l.now()
	if e.Time.IsZero() {
		e.Time = now
	}
	e.ID = "a_" + l.ids.next(now)
	it := &accessItem{
		row: sqlstore.AccessRow{ID: e.ID, At: unixNano(e.Time), Identity: e.Identity, Method: e.Method,
			Target: e.Target, Reason: e.Reason, Result: e.Result},
		digest: AccessDigest(&e),
	}
	if err := l.submit(ctx, &request{access: []*accessItem{it}}); err != nil {
		return "", err
	}
	return e.ID, nil
}
