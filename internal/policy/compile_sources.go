package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/consentry/consentry/internal/ccaas"
)

func (p *Policy) compileSources(v *validator) {
	p.sources = map[string]*source{}
	for _, vendor := range sortedKeys(p.cfg.ConsentSources) {
		sc := p.cfg.ConsentSources[vendor]
		path := "consent_sources." + vendor
		checkVendor(v, path, vendor)
		src := &source{byAttr: map[string]*signal{}, categories: sc.Categories}
		for _, name := range sortedKeys(sc.Signals) {
			s := sc.Signals[name]
			sp := path + ".signals." + name
			if !signalNamePattern.MatchString(name) {
				v.errf(sp, "signal name %q must be letters, digits, '_' or '-' (the receiver writes ccaas.consent.signal.<name>)", name)
			}
			if len(s.Purposes) == 0 {
				v.errf(sp+".purposes", "must list the purposes the signal grants or denies")
			}
			p.checkUses(v, sp+".purposes", s.Purposes)
			p.checkProcessorRefs(v, sp+".processors", s.Processors)
			if s.Scope != ScopeInteraction && s.Scope != ScopeSubject {
				v.errf(sp+".scope", "%q is not interaction or subject", s.Scope)
			}
			sig := &signal{name: name, attr: s.Attribute, purposes: s.Purposes, processors: s.Processors,
				subjectScope: s.Scope == ScopeSubject, granted: map[string]bool{}, denied: map[string]bool{},
				citeGranted: "signal:" + name + "=granted", citeDenied: "signal:" + name + "=denied", citeMalformed: "signal:" + name + "=malformed"}
			for _, g := range s.Granted {
				sig.granted[g] = true
			}
			for _, d := range s.Denied {
				if sig.granted[d] {
					v.errf(sp, "value %q is both granted and denied", d)
				}
				sig.denied[d] = true
			}
			if other := src.byAttr[s.Attribute]; other != nil {
				v.errf(sp+".attribute", "attribute %q is also read by signal %q", s.Attribute, other.name)
			}
			src.byAttr[s.Attribute] = sig
			src.signals = append(src.signals, sig)
			if !strings.HasPrefix(s.Attribute, signalAttrPrefix) {
				src.custom = append(src.custom, sig)
			}
		}
		for _, id := range sortedKeys(sc.Categories) {
			cp := path + ".categories[" + strconv.Quote(id) + "]"
			if len(sc.Categories[id]) == 0 {
				v.errf(cp, "maps to no data uses")
			}
			p.checkUses(v, cp, sc.Categories[id])
			c := "category:" + id + "="
			src.categoryList = append(src.categoryList, &category{id: id, attr: ccaas.AttrConsentCategoryPrefix + id, uses: sc.Categories[id],
				citeTrue: c + "true", citeFalse: c + "false", citeAbsent: c + "absent", citeMalformed: c + "malformed"})
		}
		p.sources[vendor] = src
	}
}

// tcfRules is the compiled tcf section.
type tcfRules struct {
	enabled  bool
	purposes [25][]string
	// li[p]: an established legitimate interest counts for purpose p.
	li                [25]bool
	minPolicy         int
	requireDisclosed  bool
	maxAge            int64 // nanoseconds; 0: no limit
	anyLI, anyMapping bool
}

// Purposes for which TCF v2.2 allows no legitimate interest.
var tcfConsentOnly = []int{1, 3, 4, 5, 6}

func (p *Policy) compileTCF(v *validator) {
	c := p.cfg.TCF
	t := &p.tcf
	t.enabled, t.minPolicy, t.requireDisclosed, t.maxAge = *c.Enabled, c.MinPolicyVersion, c.RequireDisclosedVendors, int64(c.MaxAge)
	for _, k := range sortedKeys(c.Purposes) {
		path := "tcf.purposes[" + strconv.Quote(k) + "]"
		id, err := strconv.Atoi(k)
		if err != nil || id < 1 || id > 24 {
			v.errf(path, "%q is not a TCF purpose id (1..24)", k)
			continue
		}
		p.checkUses(v, path, c.Purposes[k])
		t.purposes[id] = c.Purposes[k]
		t.anyMapping = t.anyMapping || len(c.Purposes[k]) > 0
	}
	if c.MinPolicyVersion < 1 || c.MinPolicyVersion > 63 {
		v.errf("tcf.min_policy_version", "%d is not a TcfPolicyVersion (1..63; TCF v2.2 is 4)", c.MinPolicyVersion)
	}
	if c.MaxAge < 0 {
		v.errf("tcf.max_age", "must not be negative")
	}
	for i, id := range c.LegitimateInterest {
		path := fmt.Sprintf("tcf.legitimate_interest[%d]", i)
		switch {
		case id < 1 || id > 24:
			v.errf(path, "%d is not a TCF purpose id (1..24)", id)
		case slices.Contains(tcfConsentOnly, id):
			v.errf(path, "purpose %d allows no legitimate interest under TCF v2.2 (purposes 1, 3, 4, 5 and 6 need consent)", id)
		default:
			t.li[id], t.anyLI = true, true
		}
	}
}

// gppRules is the compiled gpp section: the data uses each statement denies.
type gppRules struct {
	sale, sharing, targeted, sensitive, child, processing []string
	unknown                                               string
}

func (p *Policy) compileGPP(v *validator) {
	p.gpc, p.gpp = *p.cfg.OptOut.GPC, *p.cfg.OptOut.GPP
	p.checkUses(v, "opt_out.purposes", p.cfg.OptOut.Purposes)
	p.optOutUses = p.cfg.OptOut.Purposes
	p.optInOverrides = *p.cfg.OptOut.OptInOverridesSignals
	o := p.cfg.GPP.OptOuts
	for _, l := range []struct {
		name string
		uses []string
		dst  *[]string
	}{{"sale", o.Sale, &p.gppRules.sale}, {"sharing", o.Sharing, &p.gppRules.sharing},
		{"targeted_advertising", o.TargetedAdvertising, &p.gppRules.targeted}, {"sensitive_data", o.SensitiveData, &p.gppRules.sensitive},
		{"known_child", o.KnownChild, &p.gppRules.child}, {"processing", o.Processing, &p.gppRules.processing}} {
		p.checkUses(v, "gpp.opt_outs."+l.name, l.uses)
		*l.dst = l.uses
	}
	switch u := p.cfg.GPP.UnknownSections; u {
	case UnknownSectionsThirdParty, UnknownSectionsQuarantine, UnknownSectionsRecord:
		p.gppRules.unknown = u
	default:
		v.errf("gpp.unknown_sections", "%q is not third_party, quarantine or record", u)
	}
	switch w := p.cfg.Withdrawals; w {
	case WithdrawalsAtForwarding:
		p.withdrawalsNow = true
	case WithdrawalsAtEventTime:
	default:
		v.errf("withdrawals", "%q is not at_forwarding or at_event_time", w)
	}
}
