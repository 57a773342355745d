package policy

import (
	"strconv"

	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/gpp"
)

// readGPP reads a GPP string: every statement of every US section (see
// readUSSection), the US Privacy section, and the EU TCF section when the
// event has no separate TC string. A string that cannot be fully read
// (malformed, a US section of an unknown version or with undefined values)
// is signal_malformed; a section Consentry does not decode is
// signal_unmapped, quarantining as gpp.unknown_sections says.
func (p *Policy) readGPP(s string, withTCF bool, v *View, t *tenant, pl *plan, base item, learnSource consentstore.Source, d *Decision) {
	g, err := gpp.Decode(s)
	if err == nil {
		for _, u := range g.US {
			if err = u.Validate(); err != nil {
				break
			}
		}
	}
	if err != nil {
		d.AddReason(ReasonSignalMalformed)
		d.cite("gpp=invalid")
		return
	}
	if len(g.Unknown) > 0 {
		p.unmappedSections(g.Unknown, pl, d)
	}
	if p.gpp {
		for _, u := range g.US {
			p.readUSSection(u, t, base, learnSource, d)
		}
		if g.USPrivacy != nil {
			p.readUSPrivacy(g.USPrivacy, "gpp:uspv1", base, d)
		}
	}
	if withTCF && g.TCFEU != "" && p.tcf.enabled {
		p.readTCF(g.TCFEU, "gpp:tcfeuv2", v, pl, base, pl.consentEvent, learnSource, d)
	}
}

// unmappedSections reports GPP sections Consentry does not decode: never
// silently, and quarantining as gpp.unknown_sections says.
func (p *Policy) unmappedSections(ids []int, pl *plan, d *Decision) {
	block := false
	switch p.gppRules.unknown {
	case UnknownSectionsQuarantine:
		block = true
	case UnknownSectionsThirdParty:
		block = pl.thirdParty
	}
	d.addReason(ReasonSignalUnmapped, block)
	for _, id := range ids {
		d.cite("gpp:section=" + strconv.Itoa(id))
	}
}

// readUSSection turns the statements of a US section into evidence, each
// of kind "gpp:<section>=<statement>":
//
//   - sale, sharing, targeted_advertising (SaleOptOut, SharingOptOut,
//     TargetedAdvertisingOptOut = 1) and known_child (a
//     KnownChildSensitiveDataConsents entry = 1) are opt-outs of sale and
//     sharing, denying their gpp.opt_outs uses too; the GPC sub-section's
//     Gpc is an opt-out like Sec-GPC ("gpp:<section>:gpc");
//   - sensitive_data (a SensitiveDataProcessing entry = 1) and processing
//     (PersonalDataConsents or AdditionalDataProcessingConsent = 1) refuse
//     consent to their uses; on a sensitive tenant a sensitive data refusal
//     also quarantines the event (sensitive_data_refused).
func (p *Policy) readUSSection(u *gpp.US, t *tenant, base item, learnSource consentstore.Source, d *Decision) {
	r := &p.gppRules
	kind := "gpp:" + u.Name
	if u.OptedOutOfSale() {
		p.optOut(base, kind+"=sale", r.sale, d)
	}
	if u.OptedOutOfSharing() {
		p.optOut(base, kind+"=sharing", r.sharing, d)
	}
	if u.OptedOutOfTargetedAdvertising() {
		p.optOut(base, kind+"=targeted_advertising", r.targeted, d)
	}
	if u.KnownChildConsentRefused() {
		p.optOut(base, kind+"=known_child", r.child, d)
	}
	if u.GpcSegmentIncluded && u.Gpc && p.gpc {
		p.optOut(base, kind+":gpc", nil, d)
	}
	if u.SensitiveDataRefused() {
		p.refuse(base, kind+"=sensitive_data", r.sensitive, learnSource, d)
		if t.sensitive {
			d.AddReason(ReasonSensitiveDataRefused)
			d.cite(kind + "=sensitive_data")
		}
	}
	if u.ProcessingConsentRefused() {
		p.refuse(base, kind+"=processing", r.processing, learnSource, d)
	}
}

// readUSPrivacy turns a US Privacy string's OptOutSale = Y into an opt-out
// of sale and sharing of kind "<label>=sale".
func (p *Policy) readUSPrivacy(u *gpp.USPrivacy, label string, base item, d *Decision) {
	if u.OptedOutOfSale() {
		p.optOut(base, label+"=sale", p.gppRules.sale, d)
	}
}

// readUSPString reads a standalone US Privacy string (ccaas.consent.usp,
// a us_privacy value).
func (p *Policy) readUSPString(s string, base item, d *Decision) {
	u, err := gpp.DecodeUSPrivacy(s)
	if err != nil {
		d.AddReason(ReasonSignalMalformed)
		d.cite("usp=invalid")
		return
	}
	if p.gpp {
		p.readUSPrivacy(u, "usp", base, d)
	}
}
