package consentledgertest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/consentry/consentry/internal/consentledger"
)

// Interactions is an in-memory shared interaction memory: what several
// collectors sharing one ledger would see.
type Interactions struct {
	mu   sync.Mutex
	m    map[consentledger.InteractionKey]consentledger.Interaction
	now  func() time.Time
	fail error

	// Recalls and Remembers count the calls.
	Recalls, Remembers int
}

// NewInteractions returns an empty memory.
func NewInteractions() *Interactions {
	return &Interactions{m: map[consentledger.InteractionKey]consentledger.Interaction{}, now: time.Now}
}

// SetNow replaces the clock that decides what has expired.
func (s *Interactions) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Fail makes every call fail with err (nil: succeed again).
func (s *Interactions) Fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// Remember implements consentledger.Interactions.
func (s *Interactions) Remember(ctx context.Context, its []consentledger.Interaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Remembers++
	if s.fail != nil {
		return s.fail
	}
	for _, it := range its {
		old, ok := s.m[it.InteractionKey]
		if ok {
			if it.Subject == "" {
				it.Subject = old.Subject
			}
			if it.Country == "" && it.Region == "" && len(it.Hints) == 0 {
				it.Country, it.Region, it.Source, it.Hints = old.Country, old.Region, old.Source, old.Hints
			}
			if old.Expires.After(it.Expires) {
				it.Expires = old.Expires
			}
		}
		it.Hints = slices.Clone(it.Hints)
		s.m[it.InteractionKey] = it
	}
	return nil
}

// Recall implements consentledger.Interactions.
func (s *Interactions) Recall(ctx context.Context, k consentledger.InteractionKey) (consentledger.Interaction, bool, error) {
	if err := ctx.Err(); err != nil {
		return consentledger.Interaction{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Recalls++
	if s.fail != nil {
		return consentledger.Interaction{}, false, s.fail
	}
	it, ok := s.m[k]
	if !ok || !it.Expires.After(s.now()) {
		return consentledger.Interaction{}, false, nil
	}
	return it, true, nil
}

// ShareInteractions makes the fake a ledger that replicas share, with s
// as their interaction memory (by default it is not shared).
func (f *Fake) ShareInteractions(s consentledger.Interactions) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shared = s
}

// Interactions implements consentledger.InteractionSharer.
func (f *Fake) Interactions(component.ID) (consentledger.Interactions, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.checkLocked(); err != nil {
		return nil, err
	}
	if f.shared == nil {
		return nil, consentledger.ErrNotShared
	}
	return f.shared, nil
}

// RunInteractionsContract checks a shared interaction memory: what one
// writer remembers another recalls; an empty subject or location keeps the
// stored one; the expiry only moves later; expired interactions are not
// recalled; a batch may name one interaction twice.
func RunInteractionsContract(t *testing.T, newStore func(t *testing.T) consentledger.Interactions) {
	ctx := context.Background()
	s := newStore(t)
	k := consentledger.InteractionKey{Vendor: "genesys", Tenant: "org-1", ID: "conv-1"}
	if _, ok, err := s.Recall(ctx, k); err != nil || ok {
		t.Fatalf("recall of an unknown interaction: %v %v", ok, err)
	}
	later := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if err := s.Remember(ctx, []consentledger.Interaction{
		{InteractionKey: k, Subject: "sk-1", Country: "US", Region: "US-CA", Source: "phone", Hints: []string{"US-CA", "US-NY"}, Expires: later},
		{InteractionKey: consentledger.InteractionKey{Vendor: "genesys", Tenant: "org-2", ID: "conv-1"}, Subject: "sk-other", Expires: later},
	}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Recall(ctx, k)
	if err != nil || !ok || got.Subject != "sk-1" || got.Region != "US-CA" || got.Source != "phone" || !slices.Equal(got.Hints, []string{"US-CA", "US-NY"}) || !got.Expires.Equal(later) {
		t.Fatalf("recall: %+v %v %v", got, ok, err)
	}
	// A record without a subject refreshes the expiry but keeps the
	// subject; an earlier expiry does not shorten it; a batch naming the
	// interaction twice is fine.
	evenLater := later.Add(time.Hour)
	if err := s.Remember(ctx, []consentledger.Interaction{
		{InteractionKey: k, Expires: evenLater},
		{InteractionKey: k, Country: "US", Region: "US-NY", Expires: later.Add(-time.Minute)},
	}); err != nil {
		t.Fatal(err)
	}
	got, ok, err = s.Recall(ctx, k)
	if err != nil || !ok || got.Subject != "sk-1" || got.Region != "US-NY" || len(got.Hints) != 0 || !got.Expires.Equal(evenLater) {
		t.Fatalf("after an update: %+v %v %v", got, ok, err)
	}
	other, ok, _ := s.Recall(ctx, consentledger.InteractionKey{Vendor: "genesys", Tenant: "org-2", ID: "conv-1"})
	if !ok || other.Subject != "sk-other" {
		t.Fatalf("the same interaction id of another tenant: %+v %v", other, ok)
	}
	gone := consentledger.InteractionKey{Vendor: "twilio", Tenant: "AC1", ID: "CA1"}
	if err := s.Remember(ctx, []consentledger.Interaction{{InteractionKey: gone, Subject: "sk-2", Expires: time.Now().Add(-time.Second)}}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Recall(ctx, gone); ok {
		t.Fatal("an expired interaction was recalled")
	}
}
