package policy

import (
	"errors"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentstore"
)

// Status is the value of consent.status.
type Status string

// Statuses.
const (
	StatusGranted     Status = "granted"
	StatusDenied      Status = "denied"
	StatusUnknown     Status = "unknown"
	StatusNotRequired Status = "not_required"
)

// Decision values (consent.decision), from the event model's one
// vocabulary.
const (
	DecisionForward    = ccaas.DecisionForward
	DecisionQuarantine = ccaas.DecisionQuarantine
)

// UnknownJurisdiction is the code listed in consent.jurisdictions when the
// customer's location is unknown ("unknown@customer.none").
const UnknownJurisdiction = "unknown"

// View is what the policy reads from one record. The processor fills it
// from the record's resource and attributes; Attrs is read for consent
// signals only.
type View struct {
	Vendor, Tenant string // resource: ccaas.vendor, ccaas.tenant.id
	EventName      string // LogRecord.EventName
	EventID        string // ccaas.event.id
	InteractionID  string // ccaas.interaction.id
	Subject        string // ccaas.subject.key (possibly learned from the interaction)
	Channel        string // ccaas.channel
	Country        string // ccaas.jurisdiction.country
	Region         string // ccaas.jurisdiction.region
	Source         string // ccaas.jurisdiction.source (of Country and Region)
	// Hints are ccaas.jurisdiction.hints: every location hint of every
	// party, "<code>@<party>.<source>".
	Hints          []string
	AgentID        string // ccaas.agent.id
	QueueID        string // ccaas.queue.id
	BusinessNumber string // ccaas.business.number
	// FromInteraction: Subject, Country or Region was learned from an
	// earlier record of the same interaction.
	FromInteraction bool
	// Time is when the event happened (Timestamp, else ObservedTimestamp).
	// Store records after it are not evidence for it: consent given later
	// does not cover what happened before.
	Time time.Time
	// Attrs are the record's attributes (ccaas.consent.* signals).
	Attrs pcommon.Map

	scan    consentScan
	pl      *plan // memoised by StoreKey for Evaluate
	plOwner *Policy
}

// planFor returns the view's plan, memoised on the view.
func (p *Policy) planFor(v *View) *plan {
	if v.pl == nil || v.plOwner != p {
		v.pl, v.plOwner = p.plan(v.Vendor, v.Tenant, v.EventName), p
	}
	return v.pl
}

// Evidence is what the consent store knows about the record's subject.
type Evidence struct {
	// Records are the subject's consent records (from Lookup).
	Records []consentstore.Record
	// Err is the store's error, if the lookup failed.
	Err error
}

// Decision is the outcome of Evaluate. Reuse one Decision across calls
// (Reset is implicit) to avoid allocations; slices that come from the
// policy (Purposes, Processors, Disclosed, Undisclosed) are shared and must
// not be modified.
type Decision struct {
	Status           Status
	Forward          bool
	Reasons          []Reason
	Purposes         []string
	Jurisdictions    []string
	AllPartyRequired bool
	Processors       []string
	Disclosed        []string
	Undisclosed      []string
	NoticeID         string
	Evidence         []string
	PolicyHash       string
	blocked          bool
	// Scope is the tenant's consent scope ("" for an unknown tenant).
	Scope string
	// Learned are the consent records this record contributes to the store
	// (consent events, consent signals, opt-outs, played notices), already
	// de-duplicated against Evidence.Records. The caller appends them.
	Learned []consentstore.Record

	items []item
}

// DecisionValue is consent.decision: "forward" or "quarantine".
func (d *Decision) DecisionValue() string {
	if d.Forward {
		return DecisionForward
	}
	return DecisionQuarantine
}

// Blocked reports whether a blocking reason was given.
func (d *Decision) Blocked() bool { return d.blocked }

// AddReason appends a reason once; a blocking reason quarantines the
// record. The processor uses it for store errors found after Evaluate.
func (d *Decision) AddReason(r Reason) {
	d.addReason(r, r.Blocking())
}

// note appends a reason without quarantining the record, whatever the
// reason (signal_unmapped for a GPP section the policy lets pass).
func (d *Decision) note(r Reason) { d.addReason(r, false) }

func (d *Decision) addReason(r Reason, block bool) {
	if !slices.Contains(d.Reasons, r) {
		d.Reasons = append(d.Reasons, r)
	}
	if block {
		d.Forward, d.blocked = false, true
	}
}

func (d *Decision) reset(hash string) {
	*d = Decision{
		Status:        StatusUnknown,
		Reasons:       d.Reasons[:0],
		Jurisdictions: d.Jurisdictions[:0],
		Evidence:      d.Evidence[:0],
		Learned:       d.Learned[:0],
		items:         d.items[:0],
		PolicyHash:    hash,
	}
}

// AddEvidence appends an evidence entry once (the processor cites the
// consent records a record created).
func (d *Decision) AddEvidence(s string) { d.cite(s) }

func (d *Decision) cite(s string) {
	if s != "" && !slices.Contains(d.Evidence, s) {
		d.Evidence = append(d.Evidence, s)
	}
}

const recordCitePrefix = "consent:"

// citeItem cites an evidence item; a consent record's entry is built only
// when it is cited.
func (d *Decision) citeItem(it *item) {
	if it.recordID == "" {
		d.cite(it.cite)
		return
	}
	for _, e := range d.Evidence {
		if len(e) == len(recordCitePrefix)+len(it.recordID) && strings.HasPrefix(e, recordCitePrefix) && e[len(recordCitePrefix):] == it.recordID {
			return
		}
	}
	d.Evidence = append(d.Evidence, recordCitePrefix+it.recordID)
}

const consentAttrPrefix = "ccaas.consent."

// Evaluate decides one record: a pure function of the policy, the view and
// the evidence. It never panics on any input; the caller should still
// quarantine the record (evaluation_error) if it does.
func (p *Policy) Evaluate(v *View, ev Evidence, d *Decision) {
	d.reset(p.hash)
	if v.Vendor == "" || v.Tenant == "" {
		d.AddReason(ReasonVendorUnknown)
		return
	}
	pl := p.planFor(v)
	d.Processors, d.Disclosed, d.Undisclosed, d.Purposes = pl.processorIDs, pl.disclosed, pl.undisclosed, pl.purposes
	t := pl.tenant
	if t == nil {
		d.AddReason(pl.block)
		return
	}
	d.NoticeID, d.Scope = t.noticeID, t.scope
	if v.FromInteraction {
		d.AddReason(ReasonFromInteraction)
	}
	for _, r := range pl.staticReasons {
		d.AddReason(r)
	}
	if pl.block != "" {
		d.AddReason(pl.block)
	}

	// Where the parties are: all-party consent, the GDPR.
	place := p.jurisdictions(v, t, pl, d)
	if place.gdpr {
		p.gdprReasons(pl, d)
	}

	// Evidence: the event's own signals, then the store's records.
	at := v.Time.UnixNano()
	p.readSignals(v, t, pl, at, d)
	switch {
	case v.Subject == "" || ev.Err == nil:
	case errors.Is(ev.Err, consentstore.ErrTampered):
		d.AddReason(ReasonConsentTampered)
	default:
		d.AddReason(ReasonStoreError)
	}
	p.storeItems(v, ev.Records, at, d)
	sortItems(d.items)
	opt := p.optOutState(d)
	p.learn(v, t, ev.Records, &opt, d)
	p.decide(v, t, pl, place, &opt, d)
}

// decide checks every (processor, purpose) that needs consent against the
// evidence, applies the opt-out of sale and sharing, and sets the status.
func (p *Policy) decide(v *View, t *tenant, pl *plan, place placeResult, opt *optOutState, d *Decision) {
	needed, denied, unknown, implied := false, false, false, false
	optOutApplies := false
	if opt.out {
		optOutApplies = pl.thirdParty || len(pl.optOutUses) > 0
		for _, q := range pl.purposes {
			optOutApplies = optOutApplies || p.deniesUse(opt, q)
		}
	}
	if optOutApplies {
		needed = true
		d.AddReason(ReasonOptOutSaleSharing)
		d.citeItem(opt.inForce[0])
		if opt.inForce[0].late {
			d.AddReason(ReasonWithdrawalAfterEvent)
		}
	}
	if opt.optIn != nil {
		d.AddReason(ReasonOptInOverridesSignal)
		d.citeItem(opt.optIn)
	}
	for _, n := range pl.needs {
		check := func(q string) {
			needed = true
			switch st, it := d.status(n.proc, q); st {
			case StatusGranted:
				d.citeItem(it)
				implied = implied || it.implied
			case StatusDenied:
				d.citeItem(it)
				denied = true
				if it.late {
					d.AddReason(ReasonWithdrawalAfterEvent)
				}
			default:
				unknown = true
			}
		}
		for _, q := range n.always {
			check(q)
		}
		if place.allParty {
			for _, q := range n.recording {
				if !slices.Contains(n.always, q) {
					check(q)
				}
			}
		}
		if place.gdpr {
			for _, q := range n.gdpr {
				if !place.allParty || !slices.Contains(n.recording, q) {
					check(q)
				}
			}
		}
	}
	// Without a subject the store could not be asked: fail closed where
	// it could have mattered (consent the event itself does not settle, or
	// an opt-out of sale and sharing on record).
	if v.Subject == "" && (unknown || pl.thirdParty || len(pl.optOutUses) > 0) {
		d.AddReason(ReasonSubjectUnknown)
	}
	switch {
	case !needed:
		d.Status = StatusNotRequired
	case denied || optOutApplies:
		d.Status = StatusDenied
		if denied {
			d.AddReason(ReasonConsentDenied)
		}
	case unknown:
		d.Status = StatusUnknown
		d.AddReason(ReasonConsentMissing)
	default:
		d.Status = StatusGranted
		d.AddReason(ReasonConsentGranted)
	}
	if implied && d.Status == StatusGranted {
		d.AddReason(ReasonImpliedConsent)
		if t.sensitive {
			d.AddReason(ReasonSensitiveAmbiguous)
		}
	}
	d.Forward = !d.Blocked()
}
