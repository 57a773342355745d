package consentledger

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/collector/component"
)

// InteractionSharer is implemented by a consent ledger that replicas share
// (PostgreSQL): it hands out the interaction memory they share, so that a
// record carrying only an interaction id is joined to the interaction's
// subject whichever replica saw the interaction start. A ledger that one
// collector owns (SQLite) does not implement it, or answers ErrNotShared.
type InteractionSharer interface {
	Interactions(owner component.ID) (Interactions, error)
}

// ErrNotShared: the ledger is not shared between collectors, so there is
// nothing to share interactions with.
var ErrNotShared = errors.New("the consent ledger is not shared between collectors")

// InteractionKey identifies an interaction (a call, a chat) of a tenant.
type InteractionKey struct {
	Vendor, Tenant, ID string
}

// Interaction is what the consent processor remembers of an interaction:
// its subject and where its parties are (the customer's country, region
// and the source of that hint, and every party's jurisdiction hints), until
// Expires.
type Interaction struct {
	InteractionKey
	Subject, Country, Region, Source string
	Hints                            []string
	Expires                          time.Time
}

// Interactions is the interaction memory that replicas share.
type Interactions interface {
	// Remember stores interactions: what an interaction gets overwrites
	// what was stored (an empty subject, or an empty location: no country,
	// region or hints, keeps the stored one), and Expires only moves later. They are visible to every replica once
	// Remember returns. Errors that may pass on their own wrap
	// ErrUnavailable.
	Remember(ctx context.Context, its []Interaction) error
	// Recall returns the stored interaction, if there is one that has not
	// expired.
	Recall(ctx context.Context, key InteractionKey) (Interaction, bool, error)
}
