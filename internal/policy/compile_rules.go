package policy

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

func (p *Policy) compilePurposes(v *validator) {
	if len(p.cfg.Purposes) == 0 {
		v.errf("purposes", "no purposes: map event names to data uses (every record would be quarantined as purpose_unknown)")
	}
	p.purposes = *p.compilePurposeTable(v, "purposes", p.cfg.Purposes)
	for i, e := range p.cfg.ConsentEvents {
		checkEventPattern(v, fmt.Sprintf("consent_events[%d]", i), e)
	}
	p.consentEvents = map[string]bool{}
	for _, e := range p.cfg.ConsentEvents {
		p.consentEvents[e] = true
	}
}

func (p *Policy) compileJurisdiction(v *validator) {
	j := p.cfg.Jurisdiction
	p.allParty, p.allPartyCalls, p.callChannels, p.regionCountries = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for name, list := range map[string][]string{"all_party": j.AllParty, "all_party_calls": j.AllPartyCalls} {
		for i, code := range list {
			if !jurisdictionPattern.MatchString(code) {
				v.errf(fmt.Sprintf("jurisdiction.%s[%d]", name, i), "%q is not an ISO 3166-1 country (DE) or 3166-2 subdivision (US-CA)", code)
				continue
			}
			if country, _, ok := strings.Cut(code, "-"); ok {
				p.regionCountries[country] = true
			}
			if name == "all_party" {
				p.allParty[code] = true
			} else {
				p.allPartyCalls[code] = true
			}
		}
	}
	for _, ch := range j.CallChannels {
		p.callChannels[ch] = true
	}
	p.checkUses(v, "jurisdiction.recording_purposes", j.RecordingPurposes)
	p.recording = j.RecordingPurposes
	switch j.UnknownLocation {
	case UnknownAllParty:
		p.unknownAllParty = true
	case UnknownOneParty:
	default:
		v.errf("jurisdiction.unknown_location", "%q is not all_party or one_party", j.UnknownLocation)
	}
}

// compilePurposeTable checks and compiles a map of event names to data
// uses (the policy's purposes, or a tenant's).
func (p *Policy) compilePurposeTable(v *validator, path string, m map[string][]string) *purposeTable {
	pt := &purposeTable{exact: map[string][]string{}}
	for _, name := range sortedKeys(m) {
		uses := m[name]
		kp := path + "[" + strconv.Quote(name) + "]"
		checkEventPattern(v, kp, name)
		if len(uses) == 0 {
			v.errf(kp, "lists no data uses")
		}
		p.checkUses(v, kp, uses)
		switch {
		case name == "*":
			pt.any = uses
		case strings.HasSuffix(name, ".*"):
			pt.prefix = append(pt.prefix, prefixPurposes{prefix: strings.TrimSuffix(name, "*"), purposes: uses})
		default:
			pt.exact[name] = uses
		}
	}
	sort.SliceStable(pt.prefix, func(i, j int) bool { return len(pt.prefix[i].prefix) > len(pt.prefix[j].prefix) })
	return pt
}

// lookup returns the data uses of an event name, and whether a key matched.
func (pt *purposeTable) lookup(event string) ([]string, bool) {
	if u, ok := pt.exact[event]; ok {
		return u, true
	}
	for _, pp := range pt.prefix {
		if strings.HasPrefix(event, pp.prefix) {
			return pp.purposes, true
		}
	}
	return pt.any, pt.any != nil
}

// purposesOf returns the data uses of an event name for a tenant (nil if
// none): the tenant's own purposes when one of its keys matches the event,
// else the policy's.
func (p *Policy) purposesOf(t *tenant, event string) []string {
	if event == "" {
		return nil
	}
	if t != nil && t.purposes != nil {
		if u, ok := t.purposes.lookup(event); ok {
			return u
		}
	}
	u, _ := p.purposes.lookup(event)
	return u
}

// GDPR Art. 6(1) legal bases.
var legalBases = []string{"consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests"}

// BasisConsent is the legal basis that makes a purpose need consent.
const BasisConsent = "consent"

// GDPR Art. 9(2) conditions for processing special categories of data.
var art9Conditions = []string{"explicit_consent", "employment", "vital_interests", "not_for_profit", "made_public",
	"legal_claims", "substantial_public_interest", "health_care", "public_health", "archiving"}

// Art9ExplicitConsent is the Art. 9(2)(a) condition.
const Art9ExplicitConsent = "explicit_consent"

func (p *Policy) compileGDPR(v *validator) {
	g := p.cfg.GDPR
	p.gdprJurisdictions = map[string]bool{}
	for i, code := range g.Jurisdictions {
		if !jurisdictionPattern.MatchString(code) {
			v.errf(fmt.Sprintf("gdpr.jurisdictions[%d]", i), "%q is not an ISO 3166-1 country (DE) or 3166-2 subdivision", code)
			continue
		}
		p.gdprJurisdictions[code] = true
	}
	p.legalBases = p.checkLegalBases(v, "gdpr.legal_bases", g.LegalBases)
}

// checkLegalBases validates a data use -> legal basis map.
func (p *Policy) checkLegalBases(v *validator, path string, m map[string]string) map[string]string {
	for _, use := range sortedKeys(m) {
		up := path + "[" + strconv.Quote(use) + "]"
		p.checkUses(v, up, []string{use})
		if !slices.Contains(legalBases, m[use]) {
			v.errf(up, "%q is not a legal basis (%s)", m[use], strings.Join(legalBases, ", "))
		}
	}
	return m
}

// basisFor returns the legal basis of data use q for tenant t: the most
// specific entry that covers q, the tenant's before the policy's.
func (p *Policy) basisFor(t *tenant, q string) string {
	for _, m := range []map[string]string{t.legalBases, p.legalBases} {
		best, basis := -1, ""
		for use, b := range m {
			if covers(use, q) && len(use) > best {
				best, basis = len(use), b
			}
		}
		if basis != "" {
			return basis
		}
	}
	return ""
}

// jurisdiction is one entry of consent.jurisdictions: a code and the party
// and source it came from, written "US-CA@customer.e164".
type jurisdiction struct{ code, party, source string }

func (j jurisdiction) String() string { return j.code + "@" + j.party + "." + j.source }

// Parties of consent.jurisdictions entries.
const (
	PartyCustomer = "customer"
	PartyBusiness = "business"
	PartyAgent    = "agent"
	PartyTenant   = "tenant"
)

// ParseJurisdiction splits a consent.jurisdictions or
// ccaas.jurisdiction.hints entry ("US-CA@customer.e164") into its code,
// party and source. An entry without '@' is a bare code.
func ParseJurisdiction(s string) (code, party, source string) {
	code, rest, ok := strings.Cut(s, "@")
	if !ok {
		return s, "", ""
	}
	party, source, _ = strings.Cut(rest, ".")
	return code, party, source
}
