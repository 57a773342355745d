package consentledger

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
)

// Registry is where the components that take part in release register
// their part. Each Register call returns a function that removes the
// registration: call it at Shutdown, and it waits until no release is
// using the registration any more.
type Registry interface {
	// RegisterEvaluator registers the consent processor's Evaluator: it
	// re-tags stored records under the policy and consent in force.
	RegisterEvaluator(owner component.ID, e Evaluator) (unregister func())
	// RegisterForward registers the consent_router's forward pipelines:
	// released records are pushed into next.
	RegisterForward(owner component.ID, next consumer.Logs) (unregister func())
}

// Evaluator re-tags records in place under the current policy and consent
// (it overwrites consent.decision, consent.reasons and the other tags).
type Evaluator interface {
	Reevaluate(ctx context.Context, ld plog.Logs) error
}

// ScopeChecker is implemented by evaluators that know the consent scopes
// of the policy in force. Consent recorded under a scope the policy never
// looks up would be silently ineffective; the auditor API refuses it.
type ScopeChecker interface {
	CheckScope(scope string) error
}

// EvaluatorFunc adapts a function to Evaluator.
type EvaluatorFunc func(ctx context.Context, ld plog.Logs) error

// Reevaluate calls f.
func (f EvaluatorFunc) Reevaluate(ctx context.Context, ld plog.Logs) error { return f(ctx, ld) }

// Why release cannot run (Hub.Ready, Hub.Release).
var (
	ErrNoEvaluator = errors.New("release: no consent processor uses this ledger (set its ledger option), so records cannot be re-evaluated")
	ErrNoForward   = errors.New("release: no consent_router registers a forward pipeline with this ledger (set its ledger option)")
	ErrAmbiguous   = errors.New("release: more than one consent processor or router is registered with this ledger; release needs exactly one of each")
)

// Hub implements Registry and pushes released records into the registered
// forward pipeline. The zero value is ready.
type Hub struct {
	// mu is held for reading through a whole Release, so that
	// unregistering (the processor's and router's Shutdown) waits until no
	// release is handing records to a pipeline that is stopping.
	mu      sync.RWMutex
	evals   map[component.ID]Evaluator
	forward map[component.ID]consumer.Logs
}

var _ Registry = (*Hub)(nil)

// RegisterEvaluator implements Registry.
func (h *Hub) RegisterEvaluator(owner component.ID, e Evaluator) func() {
	return register(h, &h.evals, owner, e)
}

// RegisterForward implements Registry.
func (h *Hub) RegisterForward(owner component.ID, next consumer.Logs) func() {
	return register(h, &h.forward, owner, next)
}

func register[T any](h *Hub, m *map[component.ID]T, owner component.ID, v T) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if *m == nil {
		*m = map[component.ID]T{}
	}
	(*m)[owner] = v
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(*m, owner)
	}
}

// pick must be called with h.mu held (for reading at least).
func (h *Hub) pick() (Evaluator, consumer.Logs, error) {
	switch {
	case len(h.evals) == 0:
		return nil, nil, ErrNoEvaluator
	case len(h.forward) == 0:
		return nil, nil, ErrNoForward
	case len(h.evals) > 1 || len(h.forward) > 1:
		return nil, nil, ErrAmbiguous
	}
	var e Evaluator
	var f consumer.Logs
	for _, v := range h.evals {
		e = v
	}
	for _, v := range h.forward {
		f = v
	}
	return e, f, nil
}

// CheckScope asks the registered evaluator whether scope is a consent scope
// of the policy in force. It returns nil when that cannot be checked (no
// evaluator, or one that does not know).
func (h *Hub) CheckScope(scope string) error {
	h.mu.RLock()
	var checkers []ScopeChecker
	for _, e := range h.evals {
		if c, ok := e.(ScopeChecker); ok {
			checkers = append(checkers, c)
		}
	}
	h.mu.RUnlock()
	if len(checkers) != 1 {
		return nil
	}
	return checkers[0].CheckScope(scope)
}

// Ready reports why Release cannot work now (nil when it can): no
// evaluator, no forward pipeline, or more than one of either.
func (h *Hub) Ready() error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	_, _, err := h.pick()
	return err
}

// Outcome is what Release decided for one stored record.
type Outcome struct {
	// Decision is ccaas.DecisionForward only when every log record in the
	// stored record now says exactly "forward".
	Decision string
	// Reasons are consent.reasons of the first log record not forwarded.
	Reasons []string
	// Forwarded reports that the record was pushed into the forward
	// pipeline.
	Forwarded bool
}

// Release re-evaluates ld (one quarantined record, as stored) and, when
// every log record in it is now to be forwarded and dryRun is false,
// pushes it into the forward pipeline: all of it or none. An error from
// the forward pipeline is returned as is: the record stays quarantined and
// the caller may retry.
func (h *Hub) Release(ctx context.Context, ld plog.Logs, dryRun bool) (Outcome, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	e, f, err := h.pick()
	if err != nil {
		return Outcome{}, err
	}
	if ld.LogRecordCount() == 0 {
		return Outcome{}, errors.New("release: the stored record is empty")
	}
	if err := e.Reevaluate(ctx, ld); err != nil {
		return Outcome{}, err
	}
	o := Outcome{Decision: ccaas.DecisionForward}
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				if d, _ := ccaas.Decision(lr.Attributes()); d != ccaas.DecisionForward {
					o.Decision = d
					o.Reasons = ccaas.Strings(lr.Attributes(), ccaas.AttrConsentReasons)
					return o, nil
				}
			}
		}
	}
	if dryRun {
		return o, nil
	}
	if err := f.ConsumeLogs(ctx, ld); err != nil {
		return Outcome{Decision: o.Decision}, err
	}
	o.Forwarded = true
	return o, nil
}
