// Package release is the release of quarantined records, a domain
// operation of the consent ledger: select the unreleased records a request
// names, decrypt each, have the consent processor re-evaluate it under the
// policy and consent in force now, push the ones now decided "forward" into
// the consent_router's forward pipeline, and mark them released in the
// ledger's hash chain. The auditor API's ReleaseRecords (gRPC and REST)
// only maps its request and response onto Releaser.Release.
//
// The re-evaluation and the push go through the registrations of a
// consentledger.Hub (the consent processor's evaluator, the router's
// forward pipeline): without both, nothing is released.
package release

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/ledger"
)

// Bounds of one release.
const (
	// DefaultLimit is the number of records a request without a limit
	// evaluates at most.
	DefaultLimit = 1000
	// MaxLimit is the largest limit a request may ask for.
	MaxLimit = 10000
	// markBatch records are marked released in one chain entry batch.
	markBatch = 100
	// listPage is the page size of the ledger listing.
	listPage = 1000
	// markTimeout bounds marking the records already forwarded after the
	// caller went away.
	markTimeout = 30 * time.Second
)

// Ledger is what release needs of the ledger engine (*ledger.Ledger).
type Ledger interface {
	List(ctx context.Context, f ledger.Filter, p ledger.Page) (ledger.RecordPage, error)
	Get(ctx context.Context, id string) (*ledger.StoredRecord, error)
	MarkReleased(ctx context.Context, ids []string, caller, reason string) ([]string, error)
}

// Request names the records to release.
type Request struct {
	// Filter selects the records; it must name at least one criterion
	// (an empty filter would select every quarantined record). Only
	// records not yet released are considered, whatever Filter.Released
	// says (ReleasedOnly is refused).
	Filter ledger.Filter
	// Limit bounds the records evaluated (0: DefaultLimit; at most
	// MaxLimit).
	Limit int
	// DryRun evaluates without forwarding or marking anything.
	DryRun bool
	// Caller and Reason go into the release markers (Reason is required).
	Caller, Reason string
}

// Outcome is what happened to one record.
type Outcome struct {
	RecordID string
	// Decision and Reasons are the re-evaluation's (empty when the record
	// could not be evaluated).
	Decision string
	Reasons  []string
	// Forwarded: pushed into the forward pipeline. Released: marked
	// released in the ledger.
	Forwarded, Released bool
	// Err says why the record could not be evaluated or forwarded: it
	// wraps ledger.ErrErased or ledger.ErrPurged (its payload is gone),
	// ErrUnreadable, ErrReevaluation, or the ledger's or the pipeline's
	// error. The record stays quarantined.
	Err error
}

// Result is the outcome of a release.
type Result struct {
	DryRun   bool
	Outcomes []*Outcome
	// Evaluated, Eligible (decided forward), Forwarded and Released count
	// the outcomes.
	Evaluated, Eligible, Forwarded, Released int
	// More reports that the limit stopped the release before the last
	// matching record.
	More bool
}

// Errors of Release.
var (
	// ErrInvalid wraps a request that cannot be run as given.
	ErrInvalid = errors.New("invalid release request")
	// ErrNotReady wraps why release cannot run now (consentledger.ErrNoEvaluator,
	// ErrNoForward, ErrAmbiguous).
	ErrNotReady = errors.New("release is not available")
	// ErrUnreadable: the stored payload is not an OTLP logs record.
	ErrUnreadable = errors.New("the stored payload is not an OTLP logs record")
	// ErrReevaluation wraps the evaluator's error.
	ErrReevaluation = errors.New("re-evaluation failed")
)

// Releaser runs releases. Releases are serialised: two overlapping calls
// would both see the same records unreleased and forward them twice.
type Releaser struct {
	ledger Ledger
	hub    *consentledger.Hub
	mu     sync.Mutex
}

// New returns a Releaser over l whose evaluator and forward pipeline are
// those registered with hub.
func New(l Ledger, hub *consentledger.Hub) *Releaser {
	return &Releaser{ledger: l, hub: hub}
}

// CheckScope reports whether scope is a consent scope of the policy in
// force (see consentledger.Hub.CheckScope).
func (r *Releaser) CheckScope(scope string) error { return r.hub.CheckScope(scope) }

// Release releases the records req names. Records pushed into the forward
// pipeline are marked released on every path, even when ctx ends or a
// later step fails: otherwise they would have left quarantine without a
// signed marker, and a retry would forward them again. An error of the
// listing or of the markers ends the release; an error of one record is
// its Outcome's.
func (r *Releaser) Release(ctx context.Context, req Request) (res *Result, err error) {
	f, limit, err := check(req)
	if err != nil {
		return nil, err
	}
	if err := r.hub.Ready(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()

	res = &Result{DryRun: req.DryRun}
	m := marker{r: r, req: &req, res: res, byID: map[string]*Outcome{}}
	m.ctx, m.cancel = context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer m.cancel()
	defer func() {
		// After an early return; a no-op after the last flush.
		if ferr := m.flush(); err == nil && ferr != nil {
			res, err = nil, ferr
		}
	}()

	token := ""
	for res.Evaluated < limit {
		p, err := r.ledger.List(ctx, f, ledger.Page{Size: min(limit-res.Evaluated, listPage), Token: token})
		if err != nil {
			return nil, err
		}
		for i := range p.Records {
			o := r.evaluate(ctx, p.Records[i].ID, req.DryRun)
			if ctx.Err() != nil {
				if o.Forwarded {
					m.add(o)
				}
				return nil, ctx.Err()
			}
			res.Outcomes = append(res.Outcomes, o)
			res.Evaluated++
			if o.Decision == ccaas.DecisionForward {
				res.Eligible++
			}
			if o.Forwarded {
				res.Forwarded++
				if err := m.add(o); err != nil {
					return nil, err
				}
			}
		}
		token = p.NextToken
		if token == "" {
			break
		}
	}
	if err := m.flush(); err != nil {
		return nil, err
	}
	res.More = token != "" && res.Evaluated >= limit
	return res, nil
}

// check validates a request and returns its filter and limit.
func check(req Request) (ledger.Filter, int, error) {
	f := req.Filter
	switch {
	case req.Reason == "":
		return f, 0, fmt.Errorf("%w: a reason is required", ErrInvalid)
	case f.Released == ledger.ReleasedOnly:
		return f, 0, fmt.Errorf("%w: the filter selects only records already released", ErrInvalid)
	case emptyFilter(&f):
		return f, 0, fmt.Errorf("%w: the filter is empty and would select every quarantined record: name at least one criterion", ErrInvalid)
	case req.Limit < 0 || req.Limit > MaxLimit:
		return f, 0, fmt.Errorf("%w: limit must be between 1 and %d", ErrInvalid, MaxLimit)
	}
	f.Released = ledger.UnreleasedOnly
	limit := req.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	return f, limit, nil
}

func emptyFilter(f *ledger.Filter) bool {
	return f.Tenant == "" && f.Vendor == "" && f.Reason == "" && f.EventName == "" && f.SubjectKey == "" &&
		f.InteractionID == "" && f.From.IsZero() && f.To.IsZero() && f.OccurredFrom.IsZero() && f.OccurredTo.IsZero() &&
		len(f.IDs) == 0
}

// evaluate decrypts one record and hands it to the hub.
func (r *Releaser) evaluate(ctx context.Context, id string, dryRun bool) *Outcome {
	o := &Outcome{RecordID: id}
	rec, err := r.ledger.Get(ctx, id)
	if err != nil {
		o.Err = err
		return o
	}
	logs, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(rec.Payload)
	if err != nil {
		o.Err = ErrUnreadable
		return o
	}
	out, err := r.hub.Release(ctx, logs, dryRun)
	o.Decision, o.Reasons = out.Decision, out.Reasons
	if err != nil {
		o.Err = fmt.Errorf("%w: %w", ErrReevaluation, err)
		return o
	}
	o.Forwarded = out.Forwarded && !dryRun
	return o
}

// marker marks forwarded records released, in batches.
type marker struct {
	r       *Releaser
	req     *Request
	res     *Result
	ctx     context.Context
	cancel  context.CancelFunc
	byID    map[string]*Outcome
	pending []string
}

func (m *marker) add(o *Outcome) error {
	m.byID[o.RecordID] = o
	m.pending = append(m.pending, o.RecordID)
	if len(m.pending) >= markBatch {
		return m.flush()
	}
	return nil
}

func (m *marker) flush() error {
	if len(m.pending) == 0 {
		return nil
	}
	ids, err := m.r.ledger.MarkReleased(m.ctx, m.pending, m.req.Caller, m.req.Reason)
	m.pending = m.pending[:0]
	if err != nil {
		return fmt.Errorf("release marker: %w", err)
	}
	for _, id := range ids {
		if o := m.byID[id]; o != nil && !o.Released {
			o.Released = true
			m.res.Released++
		}
	}
	return nil
}
