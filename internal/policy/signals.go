package policy

import (
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentstore"
)

// attrCategoriesPresent is the segment receiver's
// ccaas.consent.categories_present: true when the event carried a
// categoryPreferences object, even an empty one.
const attrCategoriesPresent = "ccaas.consent.categories_present"

const (
	strengthNotice = 1
	strengthSignal = 3
	strengthEvent  = 4
)

// readSignals turns the record's in-event consent signals into evidence
// items, and into consent records to learn (d.Learned, filtered later).
func (p *Policy) readSignals(v *View, t *tenant, pl *plan, at int64, d *Decision) {
	v.ensureScan()
	sc := &v.scan
	if !sc.any {
		return
	}
	src := p.sources[v.Vendor]
	strength := int8(strengthSignal)
	learnSource := consentstore.SourceSignal
	if pl.consentEvent {
		strength, learnSource = strengthEvent, consentstore.SourceConsentEvent
	}
	base := item{at: at, strength: strength}

	if src != nil {
		// Signals read from attributes of their own (not
		// ccaas.consent.signal.*).
		for _, sig := range src.custom {
			if val, ok := v.Attrs.Get(sig.attr); ok {
				p.readSignal(v, sig, val, base, pl.consentEvent, learnSource, d)
			}
		}
	}
	if sc.signals {
		sigs := sc.sigs[:sc.nSigs]
		if sc.sigOverflow {
			sigs = nil
			v.Attrs.Range(func(k string, val pcommon.Value) bool {
				if strings.HasPrefix(k, signalAttrPrefix) {
					sigs = append(sigs, attr{k, val})
				}
				return true
			})
		}
		for _, a := range sigs {
			var sig *signal
			if src != nil {
				sig = src.byAttr[a.key]
			}
			if sig == nil {
				d.AddReason(ReasonSignalUnmapped)
				continue
			}
			p.readSignal(v, sig, a.val, base, pl.consentEvent, learnSource, d)
		}
	}

	if sc.categories {
		p.readCategories(v, src, base, pl.consentEvent, learnSource, d)
	}
	if sc.tcf != "" && p.tcf.enabled {
		p.readTCF(sc.tcf, "tcf", v, pl, base, pl.consentEvent, learnSource, d)
	}
	if sc.gpp != "" {
		p.readGPP(sc.gpp, sc.tcf == "", v, t, pl, base, learnSource, d)
	}
	if sc.usp != "" {
		p.readUSPString(sc.usp, base, d)
	}
	if sc.badGPC {
		d.AddReason(ReasonSignalMalformed)
		d.cite("gpc=malformed")
	} else if sc.gpc && p.gpc {
		p.optOut(base, "gpc", nil, d)
	}
	if sc.notice != "" {
		p.readNotice(v, t, base, d)
	}
	if sc.hasUnreadable {
		p.readUnreadable(sc, d)
	}
}

// readNotice turns a played-notice marker into implied consent to the
// notice's purposes, if the tenant lists the notice (and its version), and
// it was played in time.
func (p *Policy) readNotice(v *View, t *tenant, base item, d *Decision) {
	sc := &v.scan
	pn := t.played[sc.notice]
	if pn == nil || pn.version != "" && sc.noticeVersion != "" && sc.noticeVersion != pn.version {
		d.AddReason(ReasonNoticeUnknown)
		cite := "notice:" + sc.notice
		if sc.noticeVersion != "" {
			cite += "@" + sc.noticeVersion
		}
		d.cite(cite)
		return
	}
	switch {
	case sc.badOffset:
		d.AddReason(ReasonSignalMalformed)
		d.cite(pn.cite + "=offset_malformed")
		return
	case pn.maxOffset > 0 && !sc.hasOffset:
		d.AddReason(ReasonNoticeTimingUnknown)
		d.cite(pn.cite + "=timing_unknown")
		return
	case pn.maxOffset > 0 && sc.noticeOffset > pn.maxOffset:
		d.AddReason(ReasonNoticeLate)
		d.cite(pn.cite + "=late")
		return
	}
	it := base
	it.strength = strengthNotice
	it.uses, it.processors, it.firstPartyOnly, it.implied = pn.purposes, pn.processors, len(pn.processors) == 0, true
	it.cite = pn.cite
	d.items = append(d.items, it)
	if v.InteractionID != "" {
		d.Learned = append(d.Learned, consentstore.Record{Interaction: v.InteractionID, Granted: pn.purposes,
			Processors: pn.processors, FirstPartyOnly: it.firstPartyOnly, Source: consentstore.SourceNotice, Signal: it.cite})
	}
}

// readUnreadable: the receiver found consent signals it could not copy
// (ccaas.consent.unreadable); each is a signal Consentry cannot read.
func (p *Policy) readUnreadable(sc *consentScan, d *Decision) {
	d.AddReason(ReasonSignalMalformed)
	if sc.unreadable == (pcommon.Slice{}) {
		d.cite("unreadable")
		return
	}
	for _, v := range sc.unreadable.All() {
		d.cite(v.AsString() + "=unreadable")
	}
}

// optOut records an opt-out of sale and sharing of the given kind ("gpc",
// "gpp:usca=sale"), which also denies uses; it persists for the subject.
func (p *Policy) optOut(base item, kind string, uses []string, d *Decision) {
	it := base
	it.optOut, it.uses, it.kind, it.cite = consentstore.OptOutSaleSharing, uses, kind, kind
	d.items = append(d.items, it)
	d.Learned = append(d.Learned, consentstore.Record{OptOut: consentstore.OptOutSaleSharing, Denied: uses,
		Source: consentstore.SourceOptOut, Signal: kind})
}

// refuse records a refusal of consent to uses ("gpp:usva=sensitive_data"),
// for the subject.
func (p *Policy) refuse(base item, kind string, uses []string, learnSource consentstore.Source, d *Decision) {
	if len(uses) == 0 {
		return
	}
	it := base
	it.deny, it.uses, it.cite = true, uses, kind
	d.items = append(d.items, it)
	d.Learned = append(d.Learned, consentstore.Record{Denied: uses, Source: learnSource, Signal: kind})
}

const signalAttrPrefix = consentAttrPrefix + "signal."

// readSignal reads one signal's value.
func (p *Policy) readSignal(v *View, sig *signal, val pcommon.Value, base item, consentEvent bool, learnSource consentstore.Source, d *Decision) {
	s, ok := signalValue(val)
	var deny bool
	switch {
	case ok && sig.granted[s]:
	case ok && sig.denied[s]:
		deny = true
	default:
		d.AddReason(ReasonSignalMalformed)
		d.cite(sig.citeMalformed)
		return
	}
	it := base
	it.uses, it.processors, it.deny, it.cite = sig.purposes, sig.processors, deny, sig.citeGranted
	if deny {
		it.cite = sig.citeDenied
	}
	d.items = append(d.items, it)
	interaction := ""
	if !sig.subjectScope && !consentEvent {
		if v.InteractionID == "" {
			return // nothing to scope it to; it still counts for this record
		}
		interaction = v.InteractionID
	}
	d.Learned = append(d.Learned, consentstore.Record{})
	rec := &d.Learned[len(d.Learned)-1]
	rec.Processors, rec.Source, rec.Signal, rec.Interaction = sig.processors, learnSource, it.cite, interaction
	if deny {
		rec.Denied = sig.purposes
	} else {
		rec.Granted = sig.purposes
	}
}

func grantedOrDenied(deny bool) string {
	if deny {
		return "denied"
	}
	return "granted"
}

// signalValue normalises a raw signal value for comparison.
func signalValue(v pcommon.Value) (string, bool) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return strings.ToLower(strings.TrimSpace(v.Str())), true
	case pcommon.ValueTypeBool:
		return strconv.FormatBool(v.Bool()), true
	case pcommon.ValueTypeInt:
		return strconv.FormatInt(v.Int(), 10), true
	default:
		return "", false
	}
}

// readCategories applies Segment semantics: once any category is present,
// a mapped category that is absent counts as false; a purpose several
// categories map to needs every one of them (a denial wins at equal time).
func (p *Policy) readCategories(v *View, src *source, base item, consentEvent bool, learnSource consentstore.Source, d *Decision) {
	if src == nil || len(src.categories) == 0 {
		d.AddReason(ReasonSignalIgnoredCategory)
		unmappedCategories(v, src, d)
		return
	}
	var granted, denied []string
	var cites []string
	for _, c := range src.categoryList {
		cite := c.citeAbsent
		deny := true
		if val, ok := v.Attrs.Get(c.attr); ok {
			granted, ok := categoryValue(val)
			if !ok {
				d.AddReason(ReasonSignalMalformed)
				d.cite(c.citeMalformed)
				continue
			}
			deny = !granted
			cite = c.citeTrue
			if deny {
				cite = c.citeFalse
			}
		}
		it := base
		it.uses, it.deny, it.cite = c.uses, deny, cite
		d.items = append(d.items, it)
		if !consentEvent {
			continue
		}
		cites = append(cites, cite)
		if deny {
			denied = append(denied, c.uses...)
		} else {
			granted = append(granted, c.uses...)
		}
	}
	if unmappedCategories(v, src, d) {
		d.AddReason(ReasonSignalIgnoredCategory)
	}
	if len(cites) > 0 {
		granted = slices.DeleteFunc(granted, func(u string) bool { return slices.Contains(denied, u) })
		d.Learned = append(d.Learned, consentstore.Record{Granted: granted, Denied: denied, Source: learnSource,
			Signal: strings.Join(cites, ",")})
	}
}

// categoryValue reads a consent category's value: a boolean (or the string
// "true" or "false"); anything else is not a category value (ok false).
func categoryValue(val pcommon.Value) (granted, ok bool) {
	switch {
	case val.Type() == pcommon.ValueTypeBool:
		return val.Bool(), true
	case val.Type() == pcommon.ValueTypeStr && strings.EqualFold(val.Str(), "true"):
		return true, true
	case val.Type() == pcommon.ValueTypeStr && strings.EqualFold(val.Str(), "false"):
		return false, true
	}
	return false, false
}

// unmappedCategories reports whether the record carries consent categories
// the policy does not map (they are ignored, as Segment ignores them). One
// whose value is not a boolean is still signal_malformed: a consent object
// holding something other than a yes or a no was not fully read, whichever
// of its categories the policy happens to use.
func unmappedCategories(v *View, src *source, d *Decision) bool {
	unmapped := false
	v.Attrs.Range(func(k string, val pcommon.Value) bool {
		id, ok := strings.CutPrefix(k, ccaas.AttrConsentCategoryPrefix)
		if !ok || src != nil && src.categories[id] != nil {
			return true
		}
		unmapped = true
		if _, ok := categoryValue(val); !ok {
			d.AddReason(ReasonSignalMalformed)
			d.cite("category:" + id + "=malformed")
		}
		return true
	})
	return unmapped
}
