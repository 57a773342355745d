package consentprocessor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/policy"
)

// Evaluator tags records with the consent policy's decision: it reads each
// record, recalls its interaction, looks up the subject's consent through
// the cache, evaluates the policy, records the consent the record carries,
// and writes the consent.* attributes. The processor wraps one; tools such
// as `consentry policy explain` use one directly, so that they decide
// exactly as the collector would.
type Evaluator struct {
	policy       atomic.Pointer[policy.Policy]
	store        *consentstore.Cache
	interactions *interactionMemory
	shared       *sharedInteractions
	tel          *telemetry
	logger       *zap.Logger
	minimal      bool
	now          func() time.Time
	pool         sync.Pool

	lookups [4]atomic.Int64 // by consentstore.Result
	writes  [2]atomic.Int64 // ok, error
}

func errIndex(err error) int {
	if err != nil {
		return 1
	}
	return 0
}

// EvaluatorSettings configure an Evaluator.
type EvaluatorSettings struct {
	// Store holds consent records; the Evaluator reads and writes it
	// through Cache. Nil: a new in-memory store.
	Store consentstore.Store
	// Cache configures the lookup cache.
	Cache consentstore.CacheConfig
	// InteractionMaxEntries and InteractionTTL configure the interaction
	// memory (0 entries disables it).
	InteractionMaxEntries int
	InteractionTTL        time.Duration
	// SharedInteractions, when set, is the interaction memory replicas
	// share (the PostgreSQL ledger's); InteractionMissTTL is how long an
	// interaction it did not know is not asked about again.
	SharedInteractions consentledger.Interactions
	InteractionMissTTL time.Duration
	// Logger receives errors (never record contents). Nil: no logging.
	Logger *zap.Logger
	// MinimalForwarded writes only the decision attributes on records
	// decided forward (forwarded_attributes: minimal).
	MinimalForwarded bool

	telemetry *telemetry
}

// NewEvaluator returns an Evaluator deciding with pol.
func NewEvaluator(pol *policy.Policy, set EvaluatorSettings) *Evaluator {
	store := set.Store
	if store == nil {
		store = consentstore.NewMemory()
	}
	logger := set.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	e := &Evaluator{
		store:        consentstore.NewCache(store, set.Cache),
		interactions: newInteractionMemory(set.InteractionMaxEntries, set.InteractionTTL),
		shared:       newSharedInteractions(set.SharedInteractions, set.InteractionMissTTL, logger),
		tel:          set.telemetry,
		logger:       logger,
		minimal:      set.MinimalForwarded,
		now:          time.Now,
	}
	e.pool.New = func() any { return &state{} }
	e.policy.Store(pol)
	return e
}

// SetPolicy replaces the policy; records being decided finish with the
// policy they started with.
func (e *Evaluator) SetPolicy(p *policy.Policy) { e.policy.Store(p) }

// Policy returns the policy in force.
func (e *Evaluator) Policy() *policy.Policy { return e.policy.Load() }

// Store returns the cache the Evaluator reads and writes consent through.
func (e *Evaluator) Store() *consentstore.Cache { return e.store }

// Close releases the cache's subscription to the store.
func (e *Evaluator) Close() { e.store.Close() }

// state is per-call scratch space, pooled.
type state struct {
	view     policy.View
	decision policy.Decision
	// release: re-evaluating a stored record for the ledger's release; it
	// reads the interaction memory but does not change it (an old record
	// must not refresh or evict live interactions) and is not counted in
	// the live decision metrics.
	release bool
	// share collects what the batch taught about interactions, for the
	// shared memory.
	share []consentledger.Interaction
}

// ProcessLogs tags every record of ld in place. It never fails and never
// drops a record: anything that cannot be decided is tagged quarantine
// with a reason.
func (e *Evaluator) ProcessLogs(ctx context.Context, ld plog.Logs) {
	e.processLogs(ctx, ld, false)
}

// Reevaluate tags stored records again under the policy and consent in
// force now, for the ledger's release, without changing what the
// processor remembers about live interactions or counting them as live
// decisions.
func (e *Evaluator) Reevaluate(ctx context.Context, ld plog.Logs) {
	e.processLogs(ctx, ld, true)
}

func (e *Evaluator) processLogs(ctx context.Context, ld plog.Logs, release bool) {
	pol := e.policy.Load()
	st := e.pool.Get().(*state)
	st.release = release
	st.share = st.share[:0]
	defer e.pool.Put(st)
	for _, rl := range ld.ResourceLogs().All() {
		res := rl.Resource().Attributes()
		vendor, tenant := str(res, ccaas.AttrVendor), str(res, ccaas.AttrTenantID)
		c := e.tel.countersFor(pol, vendor, tenant)
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				e.tag(ctx, pol, vendor, tenant, lr, st)
				if !release {
					c.count(&st.decision)
				}
			}
		}
	}
	// Before the batch is acknowledged, so that any replica joins the
	// next records of these interactions.
	e.shared.remember(ctx, st.share)
}

func (e *Evaluator) tag(ctx context.Context, pol *policy.Policy, vendor, tenant string, lr plog.LogRecord, st *state) {
	d := &st.decision
	defer func() {
		if r := recover(); r != nil {
			e.logger.Error("Consent evaluation failed; the record is quarantined",
				zap.String("vendor", vendor), zap.String("event", lr.EventName()), zap.String("panic", fmt.Sprint(r)))
			*d = policy.Decision{Status: policy.StatusUnknown}
			d.AddReason(policy.ReasonEvaluationError)
			if pol != nil {
				d.PolicyHash = pol.Hash()
			}
			writeAttributes(lr.Attributes(), d, true)
		}
	}()
	if pol == nil {
		*d = policy.Decision{Status: policy.StatusUnknown}
		d.AddReason(policy.ReasonPolicyUnavailable)
		writeAttributes(lr.Attributes(), d, true)
		return
	}
	v := &st.view
	v.Load(vendor, tenant, lr)
	// "Now" for the interaction memory is when the receiver got the record
	// (reading the clock costs more than the rest of the lookup).
	now := int64(lr.ObservedTimestamp())
	if now == 0 || v.Time.IsZero() {
		t := e.now()
		if now == 0 {
			now = t.UnixNano()
		}
		if v.Time.IsZero() {
			v.Time = t
		}
	}
	if v.InteractionID != "" {
		hadSubject := v.Subject != ""
		k := interactionKey{vendor, tenant, v.InteractionID}
		loc := place{&v.Country, &v.Region, &v.Source, &v.Hints}
		o := e.interactions.observe(k, &v.Subject, loc, now, !st.release)
		if o.recall && e.shared != nil {
			o.filled = e.shared.recall(ctx, e.interactions, k, &v.Subject, loc, now) || o.filled
		}
		if o.share && e.shared != nil {
			st.share = append(st.share, sharedEntry(k, &o.learned))
		}
		v.FromInteraction = o.filled
		if !hadSubject && v.Subject != "" {
			// The record is about the interaction's subject: say so, so that
			// the ledger encrypts it under the subject's key (erasure then
			// covers transcripts and recordings too) and a release or an
			// erasure by subject finds it.
			lr.Attributes().PutStr(ccaas.AttrSubjectKey, v.Subject)
		}
	}
	var ev policy.Evidence
	if key, ok := pol.StoreKey(v); ok {
		var res consentstore.Result
		ev.Records, res, ev.Err = e.store.LookupResult(ctx, key)
		e.lookups[res].Add(1)
		switch {
		case errors.Is(ev.Err, consentstore.ErrTampered):
			e.logger.Error("A stored consent record does not match the ledger's hash chain (altered in the database); the record is quarantined with consent_tampered: run VerifyLedger", zap.Error(ev.Err))
		case ev.Err != nil:
			e.logger.Warn("Consent store lookup failed; the record is quarantined", zap.Error(ev.Err))
		}
	}
	pol.Evaluate(v, ev, d)
	for i := range d.Learned {
		rec := d.Learned[i]
		err := e.store.Append(ctx, rec)
		e.writes[errIndex(err)].Add(1)
		switch {
		case err != nil:
			e.logger.Warn("Recording consent failed; the record is quarantined", zap.String("record", rec.ID), zap.Error(err))
			d.AddReason(policy.ReasonStoreError)
		case rec.OptOut == consentstore.OptOutSaleSharing:
			d.AddReason(policy.ReasonOptOutRecorded)
			d.AddEvidence("consent:" + rec.ID)
		default:
			d.AddReason(policy.ReasonConsentRecorded)
			d.AddEvidence("consent:" + rec.ID)
		}
	}
	if e.minimal && d.Forward {
		writeMinimal(lr.Attributes(), d, v.HasConsentTags())
		return
	}
	writeAttributes(lr.Attributes(), d, v.HasConsentTags())
}

func str(m pcommon.Map, k string) string {
	if v, ok := m.Get(k); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}

const consentPrefix = "consent."

// writeAttributes writes the decision's consent.* attributes, replacing any
// the record carried (nothing upstream can pre-set a decision). Lists that
// would be empty, and an empty notice id, are omitted.
func writeAttributes(attrs pcommon.Map, d *policy.Decision, replace bool) {
	if replace {
		attrs.RemoveIf(func(k string, _ pcommon.Value) bool { return strings.HasPrefix(k, consentPrefix) })
	}
	attrs.EnsureCapacity(attrs.Len() + 12)
	attrs.PutStr(ccaas.AttrConsentStatus, string(d.Status))
	attrs.PutStr(ccaas.AttrConsentDecision, d.DecisionValue())
	if len(d.Reasons) > 0 {
		reasons := attrs.PutEmptySlice(ccaas.AttrConsentReasons)
		reasons.EnsureCapacity(len(d.Reasons))
		for _, r := range d.Reasons {
			reasons.AppendEmpty().SetStr(string(r))
		}
	}
	putStrings(attrs, ccaas.AttrConsentPurposes, d.Purposes)
	putStrings(attrs, ccaas.AttrConsentJurisdictions, d.Jurisdictions)
	attrs.PutBool(ccaas.AttrConsentAllPartyRequired, d.AllPartyRequired)
	putStrings(attrs, ccaas.AttrConsentProcessors, d.Processors)
	putStrings(attrs, ccaas.AttrConsentDisclosedProcessors, d.Disclosed)
	putStrings(attrs, ccaas.AttrConsentUndisclosedProcessors, d.Undisclosed)
	if d.NoticeID != "" {
		attrs.PutStr(ccaas.AttrConsentNoticeIDTag, d.NoticeID)
	}
	putStrings(attrs, ccaas.AttrConsentEvidence, d.Evidence)
	attrs.PutStr(ccaas.AttrConsentPolicyHash, d.PolicyHash)
}

// writeMinimal writes the decision attributes only (forwarded records with
// forwarded_attributes: minimal).
func writeMinimal(attrs pcommon.Map, d *policy.Decision, replace bool) {
	if replace {
		attrs.RemoveIf(func(k string, _ pcommon.Value) bool { return strings.HasPrefix(k, consentPrefix) })
	}
	attrs.EnsureCapacity(attrs.Len() + 5)
	attrs.PutStr(ccaas.AttrConsentStatus, string(d.Status))
	attrs.PutStr(ccaas.AttrConsentDecision, d.DecisionValue())
	if len(d.Reasons) > 0 {
		reasons := attrs.PutEmptySlice(ccaas.AttrConsentReasons)
		reasons.EnsureCapacity(len(d.Reasons))
		for _, r := range d.Reasons {
			reasons.AppendEmpty().SetStr(string(r))
		}
	}
	if d.NoticeID != "" {
		attrs.PutStr(ccaas.AttrConsentNoticeIDTag, d.NoticeID)
	}
	attrs.PutStr(ccaas.AttrConsentPolicyHash, d.PolicyHash)
}

func putStrings(attrs pcommon.Map, k string, vals []string) {
	if len(vals) == 0 {
		return
	}
	s := attrs.PutEmptySlice(k)
	s.EnsureCapacity(len(vals))
	for _, v := range vals {
		s.AppendEmpty().SetStr(v)
	}
}
