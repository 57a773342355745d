package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/consentry/consentry/internal/phone"
)

func (p *Policy) compileProcessors(v *validator) {
	if len(p.cfg.Processors) == 0 {
		v.errf("processors", "no processors: list every party that touches events (at least the vendors themselves)")
	}
	for i, pc := range p.cfg.Processors {
		path := fmt.Sprintf("processors[%d]", i)
		if pc.ID != "" {
			path += " (" + pc.ID + ")"
		}
		switch {
		case pc.ID == "":
			v.errf(path, "id must be set")
		case !idPattern.MatchString(pc.ID):
			v.errf(path, "id %q must be lower-case letters, digits, '-', '_' or '.'", pc.ID)
		case p.procByID[pc.ID] != nil:
			v.errf(path, "id %q is defined twice", pc.ID)
		}
		pr := &processor{id: pc.ID, name: pc.Name, role: pc.Role, secondary: pc.SecondaryUses, tcfVendor: pc.TCFVendorID, art28: pc.Art28Agreement,
			vendors: pc.Touches.Vendors, tenants: pc.Touches.Tenants, events: pc.Touches.Events}
		if len(pr.tenants) > 0 {
			pr.tenantSet = make(map[string]bool, len(pr.tenants))
			for _, t := range pr.tenants {
				pr.tenantSet[t] = true
			}
		}
		switch pc.Role {
		case RoleProcessor, RoleServiceProvider, RoleContractor:
		case RoleThirdParty:
			pr.thirdParty = true
		case "":
			v.errf(path, "role must be set: processor, service_provider, contractor or third_party")
		default:
			v.errf(path, "role %q is not processor, service_provider, contractor or third_party", pc.Role)
		}
		for j, su := range pc.SecondaryUses {
			use, ok := SecondaryUsePurposes[su]
			if !ok {
				v.errf(fmt.Sprintf("%s.secondary_uses[%d]", path, j), "unknown secondary use %q (want train_ai_system, product_improvement, cross_customer_profiling or advertising)", su)
				continue
			}
			pr.secondaryPurposes = append(pr.secondaryPurposes, use)
			pr.thirdParty = true // the capability test
		}
		if pc.TCFVendorID < 0 || pc.TCFVendorID > 65535 {
			v.errf(path+".tcf_vendor_id", "%d is not a Global Vendor List id (1..65535)", pc.TCFVendorID)
		}
		for j, vendor := range pc.Touches.Vendors {
			checkVendor(v, fmt.Sprintf("%s.touches.vendors[%d]", path, j), vendor)
		}
		for j, e := range pc.Touches.Events {
			checkEventPattern(v, fmt.Sprintf("%s.touches.events[%d]", path, j), e)
		}
		if pc.ID != "" && p.procByID[pc.ID] == nil {
			p.procByID[pc.ID] = pr
			p.processors = append(p.processors, pr)
		}
	}
}

func (p *Policy) checkProcessorRefs(v *validator, path string, ids []string) {
	for i, id := range ids {
		if p.procByID[id] == nil {
			if v.full() {
				v.moreErrs++
				continue
			}
			msg := fmt.Sprintf("unknown processor %q", id)
			if s := suggest(id, sortedKeys(p.procByID)); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			v.errf(fmt.Sprintf("%s[%d]", path, i), "%s", msg)
		}
	}
}

func (p *Policy) compileTenants(v *validator) {
	if len(p.cfg.Tenants) == 0 {
		v.errf("tenants", "no tenants: every record would be quarantined as tenant_unknown")
	}
	for i, tc := range p.cfg.Tenants {
		path := fmt.Sprintf("tenants[%d]", i)
		if tc.Vendor != "" || tc.ID != "" {
			path += " (" + tc.Vendor + "/" + tc.ID + ")"
		}
		checkVendor(v, path+".vendor", tc.Vendor)
		if tc.ID == "" {
			v.errf(path, "id must be set (the ccaas.tenant.id: Genesys org id, Twilio account SID, Segment source, Talkdesk account; is its environment variable set?)")
		}
		key := tenantKey{tc.Vendor, tc.ID}
		if p.tenants[key] != nil {
			v.errf(path, "tenant %s/%s is defined twice", tc.Vendor, tc.ID)
		}
		t := &tenant{vendor: tc.Vendor, id: tc.ID, name: tc.Name, sensitive: tc.Sensitive, scope: tc.ConsentScope,
			contract: tc.ContractPurposes, disclosed: map[string]bool{}, played: map[string]*playedNotice{}}
		p.checkUses(v, path+".contract_purposes", tc.ContractPurposes)
		p.compileNotices(v, path, &tc, t)
		p.compilePlaces(v, path, &tc, t)
		t.legalBases = p.checkLegalBases(v, path+".legal_bases", tc.LegalBases)
		if tc.Art9Condition != "" && !slices.Contains(art9Conditions, tc.Art9Condition) {
			v.errf(path+".art9_condition", "%q is not an Art. 9(2) condition (%s)", tc.Art9Condition, strings.Join(art9Conditions, ", "))
		}
		t.art9 = tc.Art9Condition
		if len(tc.Purposes) > 0 {
			t.purposes = p.compilePurposeTable(v, path+".purposes", tc.Purposes)
		}
		if tc.ID != "" && p.tenants[key] == nil {
			p.tenants[key] = t
		}
	}
}

// compileNotices compiles a tenant's privacy notice and played notices.
func (p *Policy) compileNotices(v *validator, path string, tc *TenantConfig, t *tenant) {
	n := tc.Notice
	if n.ID == "" {
		v.errf(path+".notice.id", "must be set: the privacy notice the tenant's customers see (consent.notice.id)")
	}
	t.noticeID = n.ID
	if n.Version != "" {
		t.noticeID += "@" + n.Version
	}
	if n.Date != "" {
		if _, err := time.Parse(time.DateOnly, n.Date); err != nil {
			v.errf(path+".notice.date", "%q is not a date (YYYY-MM-DD)", n.Date)
		}
	}
	p.checkProcessorRefs(v, path+".notice.processors", n.Processors)
	for _, id := range n.Processors {
		t.disclosed[id] = true
	}
	for j, pn := range tc.PlayedNotices {
		pp := fmt.Sprintf("%s.played_notices[%d]", path, j)
		switch {
		case pn.ID == "":
			v.errf(pp, "id must be set (the marker in ccaas.consent.notice.id)")
		case t.played[pn.ID] != nil:
			v.errf(pp, "id %q is listed twice", pn.ID)
		}
		if len(pn.Purposes) == 0 {
			v.errf(pp+".purposes", "must list the purposes the notice announces")
		}
		if pn.MaxOffset < 0 {
			v.errf(pp+".max_offset", "must not be negative")
		}
		p.checkUses(v, pp+".purposes", pn.Purposes)
		p.checkProcessorRefs(v, pp+".processors", pn.Processors)
		cite := "notice:" + pn.ID
		if pn.Version != "" {
			cite += "@" + pn.Version
		}
		t.played[pn.ID] = &playedNotice{id: pn.ID, version: pn.Version, purposes: pn.Purposes, processors: pn.Processors,
			maxOffset: pn.MaxOffset.Seconds(), cite: cite}
	}
}

// compilePlaces compiles where the tenant is: its jurisdictions, its phone
// numbers and its agents' sites.
func (p *Policy) compilePlaces(v *validator, path string, tc *TenantConfig, t *tenant) {
	checkCode := func(path, code string) bool {
		if !jurisdictionPattern.MatchString(code) {
			v.errf(path, "%q is not an ISO 3166-1 country (US) or 3166-2 subdivision (US-CA)", code)
			return false
		}
		return true
	}
	for j, jur := range tc.Jurisdictions {
		if checkCode(fmt.Sprintf("%s.jurisdictions[%d]", path, j), jur) {
			j := jurisdiction{jur, PartyTenant, sourceConfig}
			t.jurisdictions, t.jurEntries = append(t.jurisdictions, j), append(t.jurEntries, j.String())
		}
	}
	t.numbers = map[string]string{}
	for _, num := range sortedKeys(tc.Numbers) {
		np := path + ".numbers[" + strconv.Quote(num) + "]"
		e164, ok := phone.Normalize(num)
		if !ok || e164 != num {
			v.errf(np, "%q is not a phone number in E.164 (+14155550100)", num)
			continue
		}
		if checkCode(np, tc.Numbers[num]) {
			t.numbers[num] = tc.Numbers[num]
		}
	}
	ids := map[string]bool{}
	for j, sc := range tc.Sites {
		sp := fmt.Sprintf("%s.sites[%d]", path, j)
		switch {
		case sc.ID == "":
			v.errf(sp, "id must be set")
		case ids[sc.ID]:
			v.errf(sp, "id %q is listed twice", sc.ID)
		}
		ids[sc.ID] = true
		if len(sc.Agents) == 0 && len(sc.Queues) == 0 {
			v.errf(sp, "lists no agents and no queues: no event would be attributed to it")
		}
		if checkCode(sp+".jurisdiction", sc.Jurisdiction) {
			t.sites = append(t.sites, &site{id: sc.ID, jurisdiction: sc.Jurisdiction, agents: sc.Agents, queues: sc.Queues,
				entry: jurisdiction{sc.Jurisdiction, PartyAgent, sourceSite}.String()})
		}
	}
}

// crossChecks finds configurations that are valid piece by piece but
// cannot work together.
func (p *Policy) crossChecks(v *validator) {
	for i, tc := range p.cfg.Tenants {
		t := p.tenants[tenantKey{tc.Vendor, tc.ID}]
		if t == nil {
			continue
		}
		path := fmt.Sprintf("tenants[%d] (%s/%s)", i, tc.Vendor, tc.ID)
		touching := 0
		for _, pr := range p.processors {
			if pr.touchesTenant(tc.Vendor, tc.ID) {
				touching++
			}
		}
		if touching == 0 && len(p.processors) > 0 {
			v.errf(path, "no processor touches %s events: add one with touches.vendors: [%s] (every %s record would be quarantined as processor_unknown)", tc.Vendor, tc.Vendor, tc.Vendor)
		}
		for _, id := range tc.Notice.Processors {
			if pr := p.procByID[id]; pr != nil && !pr.touchesTenant(tc.Vendor, tc.ID) {
				v.warnf(path+".notice.processors", "processor %q never touches this tenant's events", id)
			}
		}
	}
	for i, pr := range p.processors {
		for j, id := range pr.tenants {
			found := false
			for _, t := range p.tenants {
				found = found || t.id == id && pr.touchesVendor(t.vendor)
			}
			if !found {
				v.errf(fmt.Sprintf("processors[%d] (%s).touches.tenants[%d]", i, pr.id, j), "no tenant %q of the processor's vendors", id)
			}
		}
	}
	for _, vendor := range sortedKeys(p.cfg.ConsentSources) {
		found := false
		for _, t := range p.tenants {
			found = found || t.vendor == vendor
		}
		if !found {
			v.warnf("consent_sources."+vendor, "no tenant of vendor %q", vendor)
		}
	}
}

func (pr *processor) touchesVendor(vendor string) bool {
	return len(pr.vendors) == 0 || slices.Contains(pr.vendors, vendor)
}

func (pr *processor) touchesTenant(vendor, tenant string) bool {
	return pr.touchesVendor(vendor) && (pr.tenantSet == nil || pr.tenantSet[tenant])
}

func (pr *processor) touches(vendor, tenant, event string) bool {
	if !pr.touchesVendor(vendor) || pr.tenantSet != nil && !pr.tenantSet[tenant] {
		return false
	}
	if len(pr.events) == 0 {
		return true
	}
	for _, pat := range pr.events {
		if matchEvent(pat, event) {
			return true
		}
	}
	return false
}

func matchEvent(pat, event string) bool {
	switch {
	case pat == "*":
		return true
	case strings.HasSuffix(pat, ".*"):
		return strings.HasPrefix(event, pat[:len(pat)-1])
	default:
		return pat == event
	}
}
