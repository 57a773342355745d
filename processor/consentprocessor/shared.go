package consentprocessor

import (
	"context"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/consentry/consentry/internal/consentledger"
)

// sharedInteractions is the interaction memory replicas share through
// their PostgreSQL ledger. A replica writes what it learns of an
// interaction (its subject, the customer's location) before the request
// that taught it is acknowledged, and asks the shared memory about an
// interaction it does not know when a record lacks its subject. So a
// record is joined to its interaction's subject on any replica once the
// interaction's first record with a subject has been acknowledged by one
// of them; a replica that asked and found nothing does not ask again for
// missTTL (the bound of the delay in the rare race where a record reaches
// one replica while the record that names its subject is still being
// processed by another).
type sharedInteractions struct {
	store   consentledger.Interactions
	missTTL int64
	timeout time.Duration
	logger  *zap.Logger

	recalls, found, writes, failures atomic.Int64
}

// sharedTimeout bounds one read or write of the shared memory.
const sharedTimeout = 2 * time.Second

func newSharedInteractions(store consentledger.Interactions, missTTL time.Duration, logger *zap.Logger) *sharedInteractions {
	if store == nil {
		return nil
	}
	return &sharedInteractions{store: store, missTTL: int64(missTTL), timeout: sharedTimeout, logger: logger}
}

// recall asks the shared memory about k and fills in what the record
// lacks; the answer (or the miss) is kept in the local memory m.
func (s *sharedInteractions) recall(ctx context.Context, m *interactionMemory, k interactionKey, subject *string, loc place, now int64) bool {
	s.recalls.Add(1)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	it, ok, err := s.store.Recall(ctx, consentledger.InteractionKey{Vendor: k.vendor, Tenant: k.tenant, ID: k.interaction})
	if err != nil {
		s.failures.Add(1)
		s.logger.Warn("Shared interaction memory unavailable; the record is decided without its interaction's subject", zap.Error(err))
		return false
	}
	if !ok {
		m.recalled(k, nil, now+s.missTTL)
		return false
	}
	s.found.Add(1)
	m.recalled(k, &it, 0)
	filled := false
	if *subject == "" && it.Subject != "" {
		*subject, filled = it.Subject, true
	}
	if loc.empty() && (it.Country != "" || it.Region != "" || len(it.Hints) > 0) {
		*loc.country, *loc.region, *loc.source, filled = it.Country, it.Region, it.Source, true
		*loc.hints = append((*loc.hints)[:0], it.Hints...)
	}
	return filled
}

// remember writes what this batch taught about its interactions.
func (s *sharedInteractions) remember(ctx context.Context, its []consentledger.Interaction) {
	if s == nil || len(its) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.store.Remember(ctx, its); err != nil {
		s.failures.Add(1)
		s.logger.Warn("Shared interaction memory unavailable; other replicas may not join this batch's interactions to their subjects", zap.Int("interactions", len(its)), zap.Error(err))
		return
	}
	s.writes.Add(int64(len(its)))
}

func sharedEntry(k interactionKey, e *interactionEntry) consentledger.Interaction {
	return consentledger.Interaction{
		InteractionKey: consentledger.InteractionKey{Vendor: k.vendor, Tenant: k.tenant, ID: k.interaction},
		Subject:        e.subject, Country: e.country, Region: e.region, Source: e.source, Hints: e.hints,
		Expires: time.Unix(0, e.expires),
	}
}
