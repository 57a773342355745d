package policy

import (
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

// UnknownJurisdiction is listed in consent.jurisdictions when the
// customer's location is unknown.
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
	if slices.Contains(d.Reasons, r) {
		return
	}
	d.Reasons = append(d.Reasons, r)
	if r.Blocking() {
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

// item is one piece of evidence, from the event or the store, normalised.
type item struct {
	at             int64 // unix nanoseconds
	strength       int8
	deny           bool
	uses           []string
	processors     []string
	firstPartyOnly bool
	optOut         consentstore.OptOut
	implied        bool
	cite           string // the evidence entry, or
	recordID       string // a consent record's id, cited as "consent:<id>"
}

func (it *item) appliesTo(pr *processor) bool {
	if it.firstPartyOnly && pr.thirdParty {
		return false
	}
	return len(it.processors) == 0 || slices.Contains(it.processors, pr.id)
}

func (it *item) coversUse(q string) bool {
	for _, u := range it.uses {
		if covers(u, q) {
			return true
		}
	}
	return false
}

// planKey and plan: what depends only on vendor, tenant and event name,
// computed once and memoised.
type planKey struct{ vendor, tenant, event string }

type plan struct {
	block             Reason
	tenant            *tenant
	procs             []*processor
	processorIDs      []string
	disclosed         []string
	undisclosed       []string
	purposes          []string // the event's, then the secondary uses' of the processors touching it
	recordingPurposes []string
	needs             []need
	consentAlways     bool // some purpose needs consent whatever the jurisdiction
	recordingNeed     bool // some purpose needs consent where all-party consent is required
	contractUsed      bool
	optOutUses        []string // purposes an opt-out denies
	thirdParty        bool
	staticReasons     []Reason
	consentEvent      bool
}

type need struct {
	proc      *processor
	always    []string
	recording []string
}

const maxPlans = 8192

func (p *Policy) plan(vendor, tenantID, event string) *plan {
	k := planKey{vendor, tenantID, event}
	p.plansMu.RLock()
	pl := p.plans[k]
	p.plansMu.RUnlock()
	if pl != nil {
		return pl
	}
	pl = p.buildPlan(vendor, tenantID, event)
	p.plansMu.Lock()
	if len(p.plans) < maxPlans {
		p.plans[k] = pl
	}
	p.plansMu.Unlock()
	return pl
}

func (p *Policy) buildPlan(vendor, tenantID, event string) *plan {
	pl := &plan{consentEvent: p.consentEvents[event]}
	for _, pr := range p.processors {
		if pr.touches(vendor, tenantID, event) {
			pl.procs = append(pl.procs, pr)
			pl.processorIDs = append(pl.processorIDs, pr.id)
		}
	}
	t := p.tenants[tenantKey{vendor, tenantID}]
	pl.tenant = t
	eventPurposes := p.purposesOf(t, event)
	pl.purposes = eventPurposes
	for _, u := range eventPurposes {
		if p.isRecording(u) {
			pl.recordingPurposes = append(pl.recordingPurposes, u)
		}
	}
	switch {
	case t == nil:
		pl.block = ReasonTenantUnknown
		return pl
	case len(pl.procs) == 0:
		pl.block = ReasonProcessorUnknown
	case len(eventPurposes) == 0:
		pl.block = ReasonPurposeUnknown
	}
	add := func(r Reason) {
		if !slices.Contains(pl.staticReasons, r) {
			pl.staticReasons = append(pl.staticReasons, r)
		}
	}
	for _, pr := range pl.procs {
		if t.disclosed[pr.id] {
			pl.disclosed = append(pl.disclosed, pr.id)
		} else {
			pl.undisclosed = append(pl.undisclosed, pr.id)
			add(ReasonProcessorUndisclosed)
		}
		if pr.role == RoleThirdParty {
			add(ReasonThirdPartyRole)
			if t.sensitive {
				add(ReasonSensitiveThirdParty)
			}
		}
		if len(pr.secondary) > 0 {
			add(ReasonSecondaryUse)
			if t.sensitive {
				add(ReasonSensitiveSecondaryUse)
			}
		}
		pl.thirdParty = pl.thirdParty || pr.thirdParty
		n := need{proc: pr}
		uses := eventPurposes
		if len(pr.secondaryPurposes) > 0 {
			uses = append(slices.Clip(uses), pr.secondaryPurposes...)
		}
		for _, q := range uses {
			switch {
			case pr.thirdParty || !coveredBy(t.contract, q):
				n.always = appendUnique(n.always, q)
			case p.isRecording(q):
				n.recording = appendUnique(n.recording, q)
				pl.contractUsed = true
			default:
				pl.contractUsed = true
			}
			for _, o := range p.optOutUses {
				if covers(o, q) || covers(q, o) {
					pl.optOutUses = appendUnique(pl.optOutUses, q)
				}
			}
		}
		for _, u := range pr.secondaryPurposes {
			if !slices.Contains(pl.purposes, u) {
				pl.purposes = append(slices.Clip(pl.purposes), u)
			}
		}
		pl.consentAlways = pl.consentAlways || len(n.always) > 0
		pl.recordingNeed = pl.recordingNeed || len(n.recording) > 0
		pl.needs = append(pl.needs, n)
	}
	if pl.block != "" {
		return pl
	}
	if pl.contractUsed {
		add(ReasonContractBasis)
	}
	return pl
}

func appendUnique(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

func coveredBy(set []string, q string) bool {
	for _, c := range set {
		if covers(c, q) {
			return true
		}
	}
	return false
}

func (p *Policy) isRecording(u string) bool {
	for _, r := range p.recording {
		if covers(r, u) {
			return true
		}
	}
	return false
}

// StoreKey says whether Evaluate needs the subject's consent records for
// this view, and under which key. It is false when the tenant is unknown,
// the record has no subject, or nothing about the record can depend on
// consent (no purpose needs consent, no opt-out can apply, no consent
// signal to de-duplicate).
func (p *Policy) StoreKey(v *View) (consentstore.Key, bool) {
	if v.Subject == "" || v.Vendor == "" || v.Tenant == "" {
		return consentstore.Key{}, false
	}
	pl := p.planFor(v)
	if pl.tenant == nil {
		return consentstore.Key{}, false
	}
	key := consentstore.Key{Scope: pl.tenant.scope, Subject: v.Subject}
	v.ensureScan()
	if pl.consentAlways || pl.recordingNeed || len(pl.optOutUses) > 0 || pl.thirdParty || v.scan.any {
		return key, true
	}
	return key, false
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

	// Jurisdictions and all-party consent.
	allParty := p.jurisdictions(v, t, pl, d)

	// Evidence: the event's own signals, then the store's records.
	at := v.Time.UnixNano()
	p.readSignals(v, t, pl, at, d)
	if v.Subject != "" && ev.Err != nil {
		d.AddReason(ReasonStoreError)
	}
	for i := len(ev.Records) - 1; i >= 0; i-- { // newest first: nearly sorted already
		r := &ev.Records[i]
		if r.At.UnixNano() > at || r.Interaction != "" && r.Interaction != v.InteractionID {
			continue
		}
		d.addRecordItems(r)
	}
	sortItems(d.items)
	p.learn(v, t, ev.Records, d)

	// Opt-out of sale and sharing: the latest statement wins.
	optedOut := false
	for i := range d.items {
		if it := &d.items[i]; it.optOut != consentstore.OptOutUnset {
			optedOut = it.optOut == consentstore.OptOutSaleSharing
			if optedOut && (pl.thirdParty || len(pl.optOutUses) > 0) {
				d.citeItem(it)
			}
			break
		}
	}

	// Every (processor, purpose) that needs consent.
	needed, denied, unknown, implied := false, false, false, false
	optOutApplies := optedOut && (pl.thirdParty || len(pl.optOutUses) > 0)
	if optOutApplies {
		needed = true
		d.AddReason(ReasonOptOutSaleSharing)
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
			default:
				unknown = true
			}
		}
		for _, q := range n.always {
			check(q)
		}
		if allParty {
			for _, q := range n.recording {
				check(q)
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

// sortItems orders evidence newest first, then strongest, then denials
// first: a stable insertion sort, cheap for the few, nearly ordered items
// a record has.
func sortItems(items []item) {
	for i := 1; i < len(items); i++ {
		for j := i; j > 0 && before(&items[j], &items[j-1]); j-- {
			items[j], items[j-1] = items[j-1], items[j]
		}
	}
}

func before(a, b *item) bool {
	switch {
	case a.at != b.at:
		return a.at > b.at
	case a.strength != b.strength:
		return a.strength > b.strength
	default:
		return a.deny && !b.deny
	}
}

// status finds the latest evidence about purpose q for processor pr.
func (d *Decision) status(pr *processor, q string) (Status, *item) {
	for i := range d.items {
		it := &d.items[i]
		if it.optOut != consentstore.OptOutUnset || !it.appliesTo(pr) || !it.coversUse(q) {
			continue
		}
		if it.deny {
			return StatusDenied, it
		}
		return StatusGranted, it
	}
	return StatusUnknown, nil
}

func (d *Decision) addRecordItems(r *consentstore.Record) {
	base := item{
		at:             r.At.UnixNano(),
		strength:       int8(r.Source.Strength()),
		processors:     r.Processors,
		firstPartyOnly: r.FirstPartyOnly,
		implied:        r.Source == consentstore.SourceNotice,
		recordID:       r.ID,
	}
	if len(r.Granted) > 0 {
		it := base
		it.uses = r.Granted
		d.items = append(d.items, it)
	}
	if len(r.Denied) > 0 {
		it := base
		it.uses, it.deny = r.Denied, true
		d.items = append(d.items, it)
	}
	if r.OptOut != consentstore.OptOutUnset {
		it := base
		it.optOut = r.OptOut
		d.items = append(d.items, it)
	}
}

// jurisdictions fills consent.jurisdictions and decides whether all-party
// consent is required.
func (p *Policy) jurisdictions(v *View, t *tenant, pl *plan, d *Decision) bool {
	d.Jurisdictions = append(d.Jurisdictions, t.jurisdictions...)
	customer := v.Region
	unknown := false
	switch {
	case customer != "":
	case v.Country != "" && !p.regionCountries[v.Country]:
		customer = v.Country
	default:
		// No location, or only a country whose rules differ by region.
		unknown = true
		customer = UnknownJurisdiction
		if v.Country != "" {
			customer = v.Country
		}
	}
	if !slices.Contains(d.Jurisdictions, customer) {
		d.Jurisdictions = append(d.Jurisdictions, customer)
	}
	if len(pl.recordingPurposes) == 0 {
		return false
	}
	call := v.Channel == "" || p.callChannels[v.Channel]
	allParty := false
	for _, j := range d.Jurisdictions {
		country, _, _ := strings.Cut(j, "-")
		if p.allParty[j] || p.allParty[country] || call && (p.allPartyCalls[j] || p.allPartyCalls[country]) {
			allParty = true
		}
	}
	if unknown {
		d.AddReason(ReasonJurisdictionUnknown)
		allParty = allParty || p.unknownAllParty
	}
	if allParty {
		d.AllPartyRequired = true
		d.AddReason(ReasonAllPartyJurisdiction)
	}
	return allParty
}
