package policy

import (
	"slices"
	"strings"
)

// placeResult is what the parties' locations require.
type placeResult struct {
	allParty bool // recording needs every party's consent
	gdpr     bool // some party is where the GDPR applies
}

// Sources of consent.jurisdictions entries the processor itself adds.
const (
	sourceConfig       = "config"        // the tenant's jurisdictions
	sourceTenantNumber = "tenant_number" // tenants[].numbers
	sourceSite         = "site"          // tenants[].sites
	sourceNone         = "none"          // nothing is known
)

// jurisdictions lists every party's jurisdictions in consent.jurisdictions
// ("US-CA@customer.e164"), each with where it came from: the tenant's own,
// every location hint of the customer (the receiver's primary hint and
// ccaas.jurisdiction.hints), of the business number (hints and the
// tenant's numbers) and of the agent (hints and the tenant's sites). The
// strictest law among them applies: all-party consent is required when any
// of them is an all-party jurisdiction, or the customer's location is
// unknown (unless unknown_location is one_party); the GDPR applies when any
// of them is in gdpr.jurisdictions.
func (p *Policy) jurisdictions(v *View, t *tenant, pl *plan, d *Decision) placeResult {
	var res placeResult
	customerKnown, customerAny := false, false
	add := func(entry, code, party string) {
		if !slices.Contains(d.Jurisdictions, entry) {
			d.Jurisdictions = append(d.Jurisdictions, entry)
		}
		p.consider(code, v, pl, &res)
		if party == PartyCustomer {
			customerAny = true
			customerKnown = customerKnown || code != UnknownJurisdiction && p.precise(code)
		}
	}
	for i, j := range t.jurisdictions {
		add(t.jurEntries[i], j.code, j.party)
	}
	// The receiver's primary customer hint.
	if code := p.customerCode(v); code != "" {
		src := v.Source
		if src == "" {
			src = "attribute"
		}
		add(p.entry(code, PartyCustomer, src), code, PartyCustomer)
	}
	// Every hint of every party.
	{
		for _, entry := range v.Hints {
			code, party, src := ParseJurisdiction(entry)
			if !jurisdictionPattern.MatchString(code) || !knownParty(party) || src == "" {
				// A hint Consentry cannot read is a location it does not
				// know: fail closed.
				code, party = UnknownJurisdiction, partyOr(party)
				entry = code + "@" + party + ".unreadable"
				res.allParty = res.allParty || p.unknownAllParty && pl.recordingPurposes != nil
			}
			add(entry, code, party)
		}
	}
	// The business number, by the tenant's own list.
	if v.BusinessNumber != "" {
		if code := t.numbers[v.BusinessNumber]; code != "" {
			add(p.entry(code, PartyBusiness, sourceTenantNumber), code, PartyBusiness)
		}
	}
	// The agent, by the tenant's sites.
	for _, s := range t.sites {
		if v.AgentID != "" && slices.Contains(s.agents, v.AgentID) || v.QueueID != "" && slices.Contains(s.queues, v.QueueID) {
			add(s.entry, s.jurisdiction, PartyAgent)
		}
	}
	if !customerKnown {
		if !customerAny {
			add(unknownCustomer, UnknownJurisdiction, PartyCustomer)
		}
		if len(pl.recordingPurposes) > 0 {
			// No location, or only a country whose rules differ by region.
			d.AddReason(ReasonJurisdictionUnknown)
			res.allParty = res.allParty || p.unknownAllParty
		}
	}
	if res.allParty && len(pl.recordingPurposes) > 0 {
		d.AllPartyRequired = true
		d.AddReason(ReasonAllPartyJurisdiction)
	} else {
		res.allParty = false
	}
	if res.gdpr {
		d.AddReason(ReasonGDPRApplies)
	}
	return res
}

// customerCode is the receiver's primary customer hint: the region, else
// the country.
func (p *Policy) customerCode(v *View) string {
	if v.Region != "" {
		return v.Region
	}
	return v.Country
}

// precise reports whether a code locates a party well enough: a region, or
// a country whose rules do not differ by region.
func (p *Policy) precise(code string) bool {
	return strings.Contains(code, "-") || !p.regionCountries[code]
}

// consider applies one jurisdiction code to the result.
func (p *Policy) consider(code string, v *View, pl *plan, res *placeResult) {
	country, _, _ := strings.Cut(code, "-")
	if len(pl.recordingPurposes) > 0 {
		call := v.Channel == "" || p.callChannels[v.Channel]
		if p.allParty[code] || p.allParty[country] || call && (p.allPartyCalls[code] || p.allPartyCalls[country]) {
			res.allParty = true
		}
	}
	if p.gdprJurisdictions[code] || p.gdprJurisdictions[country] {
		res.gdpr = true
	}
}

func knownParty(p string) bool {
	return p == PartyCustomer || p == PartyBusiness || p == PartyAgent
}

func partyOr(p string) string {
	if knownParty(p) {
		return p
	}
	return PartyCustomer
}

// gdprReasons adds what the GDPR requires and the policy does not say.
func (p *Policy) gdprReasons(pl *plan, d *Decision) {
	if pl.gdprNoArt28 {
		d.AddReason(ReasonGDPRArt28Missing)
	}
	if pl.gdprNoBasis {
		d.AddReason(ReasonGDPRLegalBasisMissing)
	}
	if pl.gdprNoArt9 {
		d.AddReason(ReasonGDPRArt9Missing)
	}
}

var unknownCustomer = jurisdiction{UnknownJurisdiction, PartyCustomer, sourceNone}.String()

type entryKey struct{ code, party, source string }

// maxEntries bounds the cache of consent.jurisdictions entries.
const maxEntries = 4096

// entry returns the consent.jurisdictions entry of a code, party and source,
// from a bounded cache: building it per record would allocate on every
// event.
func (p *Policy) entry(code, party, source string) string {
	k := entryKey{code, party, source}
	p.entriesMu.RLock()
	e, ok := p.entries[k]
	p.entriesMu.RUnlock()
	if ok {
		return e
	}
	e = jurisdiction{code, party, source}.String()
	p.entriesMu.Lock()
	if len(p.entries) < maxEntries {
		p.entries[k] = e
	}
	p.entriesMu.Unlock()
	return e
}
