// Package consentledgertest holds an in-memory consent ledger for the
// tests of the components that use one (Fake: no database, no keys), and
// the contract test suite (RunContract) that every implementation of
// consentledger.Extension passes: the fake here, the consent_ledger
// extension on SQLite and on PostgreSQL.
package consentledgertest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentstore"
)

// Fake is an in-memory consentledger.Extension. It stores quarantined
// records and consent records in memory, de-duplicates them like the real
// ledger, and releases records through its Hub. Create it with New; it
// must be started (extensions start before pipelines) before its clients
// are asked for.
type Fake struct {
	hub      consentledger.Hub
	consents *consentstore.Memory
	store    consentstore.Store // the consent store clients use: consents unless replaced

	writer    fifo          // serialises throttled appends in arrival order, like the real ledger's writer
	perRecord time.Duration // Throttle's cost of a record

	mu      sync.Mutex
	started bool
	failErr error
	shared  consentledger.Interactions
	records []Stored
	index   map[[3]string]int
}

// Stored is a quarantined record as the ledger keeps it.
type Stored struct {
	consentledger.Record
	ID       string
	Released bool
}

var _ consentledger.Extension = (*Fake)(nil)

// New returns an empty, stopped Fake.
func New() *Fake {
	m := consentstore.NewMemory()
	return &Fake{consents: m, store: m, index: map[[3]string]int{}}
}

// UseConsentStore makes the consent clients use s (a store that fails, say)
// instead of the fake's own. Call it before handing the fake out.
func (f *Fake) UseConsentStore(s consentstore.Store) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.store = s
}

// Start implements component.Component.
func (f *Fake) Start(context.Context, component.Host) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = true
	return nil
}

// Shutdown implements component.Component: the clients fail from now on.
func (f *Fake) Shutdown(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = false
	return nil
}

// Host returns a host whose extensions are this ledger under id.
func (f *Fake) Host(id component.ID) component.Host {
	return Host(map[component.ID]component.Component{id: f})
}

// Host returns a host with these extensions (for a test that hands a
// component something that is not a ledger, say).
func Host(exts map[component.ID]component.Component) component.Host {
	return host{componenttest.NewNopHost(), exts}
}

type host struct {
	component.Host
	exts map[component.ID]component.Component
}

func (h host) GetExtensions() map[component.ID]component.Component { return h.exts }

// Fail makes every client call fail with err (nil: succeed again), as a
// database that went away would.
func (f *Fake) Fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failErr = err
}

// Throttle makes the quarantine client a slow ledger: appends are
// serialised, as behind the real ledger's single writer, and each takes
// perRecord per record before it stores anything, so the ledger commits at
// most 1/perRecord records per second and callers beyond that queue. Zero
// turns it off. Call it before handing the fake out.
func (f *Fake) Throttle(perRecord time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.perRecord = perRecord
}

func (f *Fake) check() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checkLocked()
}

func (f *Fake) checkLocked() error {
	if !f.started {
		return consentledger.ErrNotStarted
	}
	return f.failErr
}

// Quarantine implements consentledger.Extension.
func (f *Fake) Quarantine(component.ID) (consentledger.Quarantine, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	return quarantine{f}, nil
}

// Consents implements consentledger.Extension.
func (f *Fake) Consents(component.ID) (consentledger.Consents, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	return consents{f}, nil
}

// Releases implements consentledger.Extension.
func (f *Fake) Releases() consentledger.Registry { return &f.hub }

// Hub is the fake's release registry, for tests that push records
// through the registered evaluator and forward pipeline directly.
func (f *Fake) Hub() *consentledger.Hub { return &f.hub }

// Records returns the stored quarantined records, oldest first.
func (f *Fake) Records() []Stored {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.records)
}

// ConsentStore is the fake's consent store, for tests that record consent
// the way the auditor API would (its subscribers are notified).
func (f *Fake) ConsentStore() *consentstore.Memory { return f.consents }

// Release releases the unreleased records of a subject the way the
// auditor API does: each one is re-evaluated and, when now decided
// "forward", pushed into the forward pipeline and marked released. It
// returns how many were forwarded; a record the evaluator or the pipeline
// fails stays quarantined.
func (f *Fake) Release(ctx context.Context, tenant, subject string, dryRun bool) (int, error) {
	if err := f.hub.Ready(); err != nil {
		return 0, err
	}
	n := 0
	for _, s := range f.Records() {
		if s.Released || s.Tenant != tenant || s.SubjectKey != subject {
			continue
		}
		ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(s.Payload)
		if err != nil {
			return n, fmt.Errorf("record %s: %w", s.ID, err)
		}
		out, err := f.hub.Release(ctx, ld, dryRun)
		if err != nil || !out.Forwarded {
			continue
		}
		n++
		f.mu.Lock()
		f.records[f.index[key(&s.Record)]].Released = true
		f.mu.Unlock()
	}
	return n, nil
}

func key(r *consentledger.Record) [3]string { return [3]string{r.Tenant, r.Vendor, r.EventID} }

type quarantine struct{ f *Fake }

func (q quarantine) Append(ctx context.Context, recs []consentledger.Record) ([]consentledger.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f := q.f
	f.mu.Lock()
	perRecord := f.perRecord
	f.mu.Unlock()
	if perRecord > 0 {
		f.writer.lock()
		defer f.writer.unlock()
		time.Sleep(time.Duration(len(recs)) * perRecord)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.checkLocked(); err != nil {
		return nil, err
	}
	out := make([]consentledger.AppendResult, len(recs))
	for i := range recs {
		r := recs[i]
		if r.Tenant == "" || r.Vendor == "" || r.EventID == "" {
			out[i].Err = consentledger.ErrInvalidRecord
			continue
		}
		k := key(&r)
		if at, dup := f.index[k]; dup {
			out[i] = consentledger.AppendResult{ID: f.records[at].ID, Duplicate: true}
			continue
		}
		if r.ReceivedAt.IsZero() {
			r.ReceivedAt = time.Now()
		}
		r.Reasons = slices.Clone(r.Reasons)
		r.Payload = slices.Clone(r.Payload)
		id := fmt.Sprintf("rec-%06d", len(f.records)+1)
		f.index[k] = len(f.records)
		f.records = append(f.records, Stored{Record: r, ID: id})
		out[i] = consentledger.AppendResult{ID: id}
	}
	return out, nil
}

// fifo is a lock handed over in arrival order (sync.Mutex lets a newcomer
// overtake waiters, which a queue in front of a writer does not).
type fifo struct {
	mu      sync.Mutex
	held    bool
	waiters []chan struct{}
}

func (l *fifo) lock() {
	l.mu.Lock()
	if !l.held {
		l.held = true
		l.mu.Unlock()
		return
	}
	ch := make(chan struct{})
	l.waiters = append(l.waiters, ch)
	l.mu.Unlock()
	<-ch // handed over: held stays true
}

func (l *fifo) unlock() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.waiters) == 0 {
		l.held = false
		return
	}
	next := l.waiters[0]
	l.waiters = l.waiters[1:]
	close(next)
}

type consents struct{ f *Fake }

func (f *Fake) consentStore() (consentstore.Store, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.store, f.checkLocked()
}

func (c consents) Lookup(ctx context.Context, k consentstore.Key) ([]consentstore.Record, error) {
	s, err := c.f.consentStore()
	if err != nil {
		return nil, err
	}
	return s.Lookup(ctx, k)
}

func (c consents) Append(ctx context.Context, rec consentstore.Record) error {
	s, err := c.f.consentStore()
	if err != nil {
		return err
	}
	return s.Append(ctx, rec)
}

func (c consents) Subscribe(fn func(consentstore.Key)) func() {
	s, _ := c.f.consentStore()
	if n, ok := s.(consentstore.Notifier); ok {
		return n.Subscribe(fn)
	}
	return func() {}
}
