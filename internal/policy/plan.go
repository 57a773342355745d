package policy

import (
	"slices"

	"github.com/consentry/consentry/internal/consentstore"
)

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

	// Where the GDPR applies (the jurisdictions decide per record):
	// gdprNoBasis, some purpose has no legal basis; gdprNoArt28, a
	// processor without an Art. 28 agreement touches the event;
	// gdprNoArt9, the tenant is sensitive and names no Art. 9(2)
	// condition. needs[i].gdpr are the purposes that need consent only
	// under the GDPR (their legal basis is consent, or the tenant's Art. 9
	// condition is explicit consent).
	gdprNoBasis, gdprNoArt28, gdprNoArt9 bool
	gdprNeed                             bool // some needs[i].gdpr is not empty
}

type need struct {
	proc      *processor
	always    []string
	recording []string
	gdpr      []string
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
		p.planGDPR(pl, t, pr, uses, &n)
		pl.consentAlways = pl.consentAlways || len(n.always) > 0
		pl.recordingNeed = pl.recordingNeed || len(n.recording) > 0
		pl.needs = append(pl.needs, n)
	}
	if t.sensitive && slices.ContainsFunc(eventPurposes, sensitiveForbidden) {
		add(ReasonSensitivePurpose)
	}
	if pl.block != "" {
		return pl
	}
	if pl.contractUsed {
		add(ReasonContractBasis)
	}
	return pl
}

// sensitiveForbidden reports whether a sensitive tenant may not serve data
// use q, even with consent: training an AI system and marketing (consent.md
// R3: !(sensitive_context && purposes ∩ {train_ai_system, marketing.*})).
// A processor's own secondary uses are sensitive_secondary_use already.
func sensitiveForbidden(q string) bool {
	return covers("train_ai_system", q) || covers("marketing", q)
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
	if pl.consentAlways || pl.recordingNeed || pl.gdprNeed || len(pl.optOutUses) > 0 || pl.thirdParty || v.scan.any {
		return key, true
	}
	return key, false
}

// planGDPR works out what the GDPR would require of processor pr serving
// uses: an Art. 28 agreement, a legal basis per purpose, consent where the
// basis is consent or the tenant's Art. 9 condition is explicit consent.
func (p *Policy) planGDPR(pl *plan, t *tenant, pr *processor, uses []string, n *need) {
	// A processor or service provider acts on the tenant's instructions:
	// Art. 28 requires a contract. A third party is a controller of its own.
	if pr.role != RoleThirdParty && !pr.art28 {
		pl.gdprNoArt28 = true
	}
	if t.sensitive && t.art9 == "" {
		pl.gdprNoArt9 = true
	}
	for _, q := range uses {
		basis := p.basisFor(t, q)
		if basis == "" {
			pl.gdprNoBasis = true
		}
		explicit := t.sensitive && t.art9 == Art9ExplicitConsent
		if (basis == BasisConsent || explicit) && !slices.Contains(n.always, q) {
			n.gdpr = appendUnique(n.gdpr, q)
			pl.gdprNeed = true
		}
	}
}
