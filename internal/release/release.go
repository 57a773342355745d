// Package release is the contract by which quarantined records go back to
// the forward pipeline: the consent_ledger extension implements Registry;
// the consent processor registers an Evaluator (re-tag under the current
// policy and consent) and the consent_router connector registers its
// forward consumer. The ledger's auditor API releases a record by
// re-evaluating it and, when the new decision is "forward", handing it to
// that consumer. Without both registrations there is no release: records
// stay quarantined (fail closed).
package release

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
)

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

// Registry is implemented by the component that releases records (the
// consent_ledger extension). Each Register call returns a function that
// removes the registration (call it at Shutdown).
type Registry interface {
	RegisterEvaluator(owner component.ID, e Evaluator) (unregister func())
	RegisterForward(owner component.ID, next consumer.Logs) (unregister func())
}

// Errors of Release.
var (
	ErrNoEvaluator = errors.New("release: no consent processor uses this ledger as its store, so records cannot be re-evaluated")
	ErrNoForward   = errors.New("release: no consent_router registers a forward pipeline with this ledger (set its ledger option)")
	ErrAmbiguous   = errors.New("release: more than one consent processor or router is registered with this ledger; release needs exactly one of each")
)

// Hub is a Registry that releases records. The zero value is ready.
type Hub struct {
	// mu is held for reading through a whole release, so that unregistering
	// (the processor's and router's Shutdown) waits until no release is
	// handing records to a pipeline that is stopping.
	mu      sync.RWMutex
	evals   map[component.ID]Evaluator
	forward map[component.ID]consumer.Logs
}

// RegisterEvaluator implements Registry.
func (h *Hub) RegisterEvaluator(owner component.ID, e Evaluator) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.evals == nil {
		h.evals = map[component.ID]Evaluator{}
	}
	h.evals[owner] = e
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.evals, owner)
	}
}

// RegisterForward implements Registry.
func (h *Hub) RegisterForward(owner component.ID, next consumer.Logs) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.forward == nil {
		h.forward = map[component.ID]consumer.Logs{}
	}
	h.forward[owner] = next
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.forward, owner)
	}
}

// pick must be called with h.mu held (for reading at least).
func (h *Hub) pick() (Evaluator, consumer.Logs, error) {
	if len(h.evals) == 0 {
		return nil, nil, ErrNoEvaluator
	}
	if len(h.forward) == 0 {
		return nil, nil, ErrNoForward
	}
	if len(h.evals) > 1 || len(h.forward) > 1 {
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

// Release re-evaluates ld (one quarantined record, as stored) and, when
// every record in it is now to be forwarded and dryRun is false, hands it
// to the forward pipeline. It returns the new decision ("forward" only when
// every record says exactly "forward"; anything else keeps the record
// quarantined), the reasons of the first record not forwarded, and whether
// it was forwarded. An error from the forward pipeline is returned as is:
// the record stays quarantined and the caller may retry.
func (h *Hub) Release(ctx context.Context, ld plog.Logs, dryRun bool) (decision string, reasons []string, forwarded bool, err error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	e, f, err := h.pick()
	if err != nil {
		return "", nil, false, err
	}
	if ld.LogRecordCount() == 0 {
		return "", nil, false, errors.New("release: the stored record is empty")
	}
	if err := e.Reevaluate(ctx, ld); err != nil {
		return "", nil, false, err
	}
	decision = "forward"
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len() && decision == "forward"; i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len() && decision == "forward"; j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				attrs := lrs.At(k).Attributes()
				d, ok := attrs.Get(ccaas.AttrConsentDecision)
				if !ok || d.Type() != pcommon.ValueTypeStr || d.Str() != "forward" {
					decision = "quarantine"
					if ok && d.Type() == pcommon.ValueTypeStr && d.Str() != "" {
						decision = d.Str()
					}
					reasons = ccaas.Strings(attrs, ccaas.AttrConsentReasons)
					break
				}
			}
		}
	}
	if decision != "forward" || dryRun {
		return decision, reasons, false, nil
	}
	if err := f.ConsumeLogs(ctx, ld); err != nil {
		return decision, nil, false, err
	}
	return decision, nil, true, nil
}
