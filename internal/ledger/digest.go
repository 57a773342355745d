package ledger

import (
	"time"

	"github.com/consentry/consentry/internal/ledger/chain"
)

// RecordDigest is a record's chain digest: SHA-256 over the canonical
// encoding (package chain) of its metadata, its data key id and its
// payload hash SHA-256(nonce || ciphertext). Covering the payload through
// its hash keeps a record verifiable after retention deleted the payload;
// changing one byte of the ciphertext still changes the digest.
func RecordDigest(m *RecordMeta) chain.Hash {
	e := chain.NewEncoder("consentry.ledger.record.v1")
	e.String(m.ID)
	e.String(m.Tenant)
	e.String(m.Vendor)
	e.String(m.EventID)
	e.String(m.EventName)
	e.String(m.SubjectKey)
	e.String(m.InteractionID)
	e.Strings(m.Reasons)
	e.String(m.ConsentStatus)
	e.Int64(unixNano(m.OccurredAt))
	e.Int64(unixNano(m.ReceivedAt))
	e.String(m.KeyID)
	e.Hash(m.PayloadHash)
	return e.Sum()
}

// ConsentDigest is a consent record's chain digest.
func ConsentDigest(c *Consent) chain.Hash {
	e := chain.NewEncoder("consentry.ledger.consent.v1")
	e.String(c.ID)
	e.String(c.Tenant)
	e.String(c.SubjectKey)
	e.String(c.InteractionID)
	e.String(string(c.Status))
	e.Strings(c.Purposes)
	e.String(c.Source)
	e.String(c.Vendor)
	e.String(c.EventID)
	e.String(c.Signal)
	e.String(c.Caller)
	e.String(c.NoticeID)
	e.Bytes(c.Details)
	e.Int64(unixNano(c.At))
	e.Int64(unixNano(c.RecordedAt))
	e.Int64(unixNano(c.ExpiresAt))
	return e.Sum()
}

// AccessDigest is an access-log entry's chain digest.
func AccessDigest(a *AccessEntry) chain.Hash {
	e := chain.NewEncoder("consentry.ledger.access.v1")
	e.String(a.ID)
	e.Int64(unixNano(a.Time))
	e.String(a.Identity)
	e.String(a.Method)
	e.String(a.Target)
	e.String(a.Reason)
	e.String(a.Result)
	return e.Sum()
}

// EventDigest is the chain digest of an event (tombstone): its kind and
// body.
func EventDigest(kind string, body []byte) chain.Hash {
	e := chain.NewEncoder("consentry.ledger.event.v1")
	e.String(kind)
	e.Bytes(body)
	return e.Sum()
}

// payloadAAD binds a payload's ciphertext to the row's identity.
func payloadAAD(tenant, vendor, eventID, id string) []byte {
	e := chain.NewEncoder("consentry.ledger.payload.v1")
	e.String(tenant)
	e.String(vendor)
	e.String(eventID)
	e.String(id)
	return e.Encoded()
}

// dataKeyAAD binds a wrapped data key to its owner.
func dataKeyAAD(tenant, subjectKey, dkID string) []byte {
	e := chain.NewEncoder("consentry.ledger.data-key.v1")
	e.String(tenant)
	e.String(subjectKey)
	e.String(dkID)
	return e.Encoded()
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
