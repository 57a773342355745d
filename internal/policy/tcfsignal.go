package policy

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/tcf"
)

// tcfClockSkew is how much later than the event a TC string's timestamps
// may be before the string counts as postdated (CMP and vendor clocks).
// TCF v2.2 CMPs round both timestamps down to the day, which only ever
// makes them earlier.
const tcfClockSkew = 5 * time.Minute

// readTCF turns a TC string into evidence. The string is refused
// (signal_malformed, signal_outdated, signal_postdated) when it cannot be
// read, is not service-specific, predates tcf.min_policy_version, lacks a
// required DisclosedVendors segment, or was not the string in force at the
// event's time. Otherwise, for each mapped purpose, consent (or, where
// tcf.legitimate_interest allows it, an established legitimate interest)
// grants its data uses and its absence denies them; a processor with a
// tcf_vendor_id is also denied every mapped use the string does not allow
// that vendor: not disclosed to the user, no vendor consent (or LI), or a
// publisher restriction (not allowed; consent or LI required and absent).
func (p *Policy) readTCF(s, label string, v *View, pl *plan, base item, learnIt bool, learnSource consentstore.Source, d *Decision) {
	c, err := tcf.Decode(s)
	if err != nil || !c.IsServiceSpecific {
		d.AddReason(ReasonSignalMalformed)
		d.cite(label + "=invalid")
		return
	}
	if !p.tcfUsable(c, label, v, d) {
		return
	}
	if !p.tcf.anyMapping {
		return
	}
	var granted, denied, all []string
	var consentIDs, liIDs []string
	for id := 1; id < len(p.tcf.purposes); id++ {
		uses := p.tcf.purposes[id]
		if len(uses) == 0 {
			continue
		}
		all = append(all, uses...)
		switch {
		case c.PurposeConsent(id):
			granted = append(granted, uses...)
			consentIDs = append(consentIDs, strconv.Itoa(id))
		case p.tcf.li[id] && c.PurposeLITransparency(id):
			granted = append(granted, uses...)
			liIDs = append(liIDs, strconv.Itoa(id))
		default:
			denied = append(denied, uses...)
		}
	}
	cite := label + ":consent=" + orNone(strings.Join(consentIDs, ","))
	if len(liIDs) > 0 {
		cite += ":li=" + strings.Join(liIDs, ",")
	}
	if len(granted) > 0 {
		it := base
		it.uses, it.cite = granted, cite
		d.items = append(d.items, it)
	}
	if len(denied) > 0 {
		it := base
		it.uses, it.deny, it.cite = denied, true, cite
		d.items = append(d.items, it)
	}
	if learnIt {
		d.Learned = append(d.Learned, consentstore.Record{Granted: granted, Denied: denied, Source: learnSource, Signal: cite})
	}
	for _, pr := range pl.procs {
		if pr.tcfVendor == 0 {
			continue
		}
		for _, den := range p.tcfVendorDenied(c, pr.tcfVendor) {
			vcite := label + ":vendor=" + strconv.Itoa(pr.tcfVendor) + ":" + den.why
			it := base
			it.uses, it.deny, it.processors, it.cite = den.uses, true, []string{pr.id}, vcite
			d.items = append(d.items, it)
			if learnIt {
				d.Learned = append(d.Learned, consentstore.Record{Denied: den.uses, Processors: it.processors, Source: learnSource, Signal: vcite})
			}
		}
	}
}

// tcfUsable applies the policy's checks of the string as a whole.
func (p *Policy) tcfUsable(c *tcf.Consent, label string, v *View, d *Decision) bool {
	switch {
	case c.TCFPolicyVersion < p.tcf.minPolicy:
		d.AddReason(ReasonSignalOutdated)
		d.cite(label + "=policy_version:" + strconv.Itoa(c.TCFPolicyVersion))
		return false
	case p.tcf.requireDisclosed && c.DisclosedVendors == nil:
		d.AddReason(ReasonSignalOutdated)
		d.cite(label + "=disclosed_vendors:absent")
		return false
	}
	if v.Time.IsZero() {
		return true
	}
	latest := v.Time.Add(tcfClockSkew)
	switch {
	case c.Created.After(latest) || c.LastUpdated.After(latest):
		d.AddReason(ReasonSignalPostdated)
		d.cite(label + "=updated_after_event")
		return false
	case p.tcf.maxAge > 0 && v.Time.Sub(c.LastUpdated) > time.Duration(p.tcf.maxAge):
		d.AddReason(ReasonSignalOutdated)
		d.cite(label + "=expired")
		return false
	}
	return true
}

// vendorDenial is a set of mapped data uses a string does not allow a
// vendor, and why.
type vendorDenial struct {
	uses []string
	why  string // not_disclosed, no_consent, not_allowed=<purpose>, consent_required=<purpose>, li_required=<purpose>
}

// tcfVendorDenied returns the mapped data uses the string does not allow
// vendor, grouped by why.
func (p *Policy) tcfVendorDenied(c *tcf.Consent, vendor int) []vendorDenial {
	if c.DisclosedVendors != nil && !c.DisclosedVendors.Contains(vendor) {
		// The user was never shown this vendor: nothing they chose covers it.
		var all []string
		for id := 1; id < len(p.tcf.purposes); id++ {
			all = append(all, p.tcf.purposes[id]...)
		}
		return []vendorDenial{{all, "not_disclosed"}}
	}
	var out []vendorDenial
	for id := 1; id < len(p.tcf.purposes); id++ {
		if len(p.tcf.purposes[id]) == 0 {
			continue
		}
		consentOK := c.PurposeConsent(id) && c.VendorConsent(vendor)
		liOK := p.tcf.li[id] && c.PurposeLITransparency(id) && c.VendorLegitimateInterest(vendor)
		ok, why := consentOK || liOK, "no_consent"
		if rt, restricted := c.Restriction(vendor, id); restricted {
			switch rt {
			case tcf.RestrictionNotAllowed:
				ok, why = false, "not_allowed="+strconv.Itoa(id)
			case tcf.RestrictionRequireConsent:
				ok, why = consentOK, "consent_required="+strconv.Itoa(id)
			case tcf.RestrictionRequireLegitimateInterest:
				ok, why = liOK, "li_required="+strconv.Itoa(id)
			}
		}
		if ok {
			continue
		}
		if j := slices.IndexFunc(out, func(v vendorDenial) bool { return v.why == why }); j >= 0 {
			out[j].uses = append(out[j].uses, p.tcf.purposes[id]...)
			continue
		}
		out = append(out, vendorDenial{append([]string(nil), p.tcf.purposes[id]...), why})
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
