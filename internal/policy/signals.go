package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/gpp"
	"github.com/consentry/consentry/internal/tcf"
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
	if sc.tcf != "" && p.tcfEnabled {
		p.readTCF(sc.tcf, "tcf", pl, base, pl.consentEvent, learnSource, d)
	}
	if sc.gpp != "" {
		p.readGPP(sc.gpp, sc.tcf == "", pl, base, learnSource, d)
	}
	if sc.badGPC {
		d.AddReason(ReasonSignalMalformed)
		d.cite("gpc=malformed")
	} else if sc.gpc && p.gpc {
		p.optOut(base, "gpc", d)
	}
	if sc.notice != "" {
		pn := t.played[sc.notice]
		if pn == nil {
			d.AddReason(ReasonNoticeUnknown)
			d.cite("notice:" + sc.notice)
		} else {
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
	}
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
		return
	}
	var granted, denied []string
	var cites []string
	for _, c := range src.categoryList {
		cite := c.citeAbsent
		deny := true
		if val, ok := v.Attrs.Get(c.attr); ok {
			switch {
			case val.Type() == pcommon.ValueTypeBool:
				deny = !val.Bool()
			case val.Type() == pcommon.ValueTypeStr && strings.EqualFold(val.Str(), "true"):
				deny = false
			case val.Type() == pcommon.ValueTypeStr && strings.EqualFold(val.Str(), "false"):
			default:
				d.AddReason(ReasonSignalMalformed)
				d.cite(c.citeMalformed)
				continue
			}
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
	unmapped := false
	v.Attrs.Range(func(k string, _ pcommon.Value) bool {
		if id, ok := strings.CutPrefix(k, ccaas.AttrConsentCategoryPrefix); ok && src.categories[id] == nil {
			unmapped = true
		}
		return !unmapped
	})
	if unmapped {
		d.AddReason(ReasonSignalIgnoredCategory)
	}
	if len(cites) > 0 {
		granted = slices.DeleteFunc(granted, func(u string) bool { return slices.Contains(denied, u) })
		d.Learned = append(d.Learned, consentstore.Record{Granted: granted, Denied: denied, Source: learnSource,
			Signal: strings.Join(cites, ",")})
	}
}

// readTCF turns a TC string into evidence: consent for a mapped purpose
// grants its data uses, its absence denies them; a processor with a
// tcf_vendor_id and no vendor consent is denied every mapped use.
func (p *Policy) readTCF(s, label string, pl *plan, base item, learnIt bool, learnSource consentstore.Source, d *Decision) {
	c, err := tcf.Decode(s)
	if err != nil || !c.IsServiceSpecific {
		d.AddReason(ReasonSignalMalformed)
		d.cite(label + "=invalid")
		return
	}
	var granted, denied, all []string
	var ids []string
	for id := 1; id < len(p.tcfPurposes); id++ {
		uses := p.tcfPurposes[id]
		if len(uses) == 0 {
			continue
		}
		all = append(all, uses...)
		if c.PurposeConsent(id) {
			granted = append(granted, uses...)
			ids = append(ids, strconv.Itoa(id))
		} else {
			denied = append(denied, uses...)
		}
	}
	cite := label + ":consent=" + strings.Join(ids, ",")
	if len(ids) == 0 {
		cite = label + ":consent=none"
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
	var noVendor []string
	for _, pr := range pl.procs {
		if pr.tcfVendor > 0 && !c.VendorConsent(pr.tcfVendor) {
			noVendor = append(noVendor, pr.id)
		}
	}
	if len(noVendor) > 0 {
		it := base
		it.uses, it.deny, it.processors = all, true, noVendor
		it.cite = label + ":vendor_consent=absent"
		d.items = append(d.items, it)
	}
	if learnIt {
		d.Learned = append(d.Learned, consentstore.Record{Granted: granted, Denied: denied, Source: learnSource, Signal: cite})
		if len(noVendor) > 0 {
			d.Learned = append(d.Learned, consentstore.Record{Denied: all, Processors: noVendor, Source: learnSource,
				Signal: label + ":vendor_consent=absent"})
		}
	}
}

// readGPP reads the opt-outs of every US section (and their GPC
// sub-sections) and of the US Privacy section, and the EU TCF section when
// the event has no separate TC string.
func (p *Policy) readGPP(s string, withTCF bool, pl *plan, base item, learnSource consentstore.Source, d *Decision) {
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
	if p.gpp {
		for _, u := range g.US {
			if u.OptedOutOfSale() || u.OptedOutOfSharing() || u.OptedOutOfTargetedAdvertising() {
				p.optOut(base, "gpp:"+u.Name+"=opt_out", d)
			}
			if u.GpcSegmentIncluded && u.Gpc && p.gpc {
				p.optOut(base, "gpp:"+u.Name+":gpc", d)
			}
		}
		if u := g.USPrivacy; u != nil && u.OptedOutOfSale() {
			p.optOut(base, "gpp:uspv1=opt_out", d)
		}
	}
	if withTCF && g.TCFEU != "" && p.tcfEnabled {
		p.readTCF(g.TCFEU, "gpp:tcfeuv2", pl, base, pl.consentEvent, learnSource, d)
	}
}

// optOut records an opt-out of sale and sharing; it persists for the
// subject.
func (p *Policy) optOut(base item, cite string, d *Decision) {
	it := base
	it.optOut, it.cite = consentstore.OptOutSaleSharing, cite
	d.items = append(d.items, it)
	d.Learned = append(d.Learned, consentstore.Record{OptOut: consentstore.OptOutSaleSharing, Source: consentstore.SourceOptOut, Signal: cite})
}

// learn completes the candidate records in d.Learned and drops those the
// store already says (the latest stored evidence is the same), so that a
// signal repeated on every event is stored once.
func (p *Policy) learn(v *View, t *tenant, stored []consentstore.Record, d *Decision) {
	if v.Subject == "" {
		d.Learned = d.Learned[:0]
		return
	}
	at := v.Time
	if at.IsZero() {
		at = time.Now()
	}
	n := 0
	for i := range d.Learned {
		rec := &d.Learned[i]
		if redundant(rec, stored, v) {
			continue
		}
		rec.Key = consentstore.Key{Scope: t.scope, Subject: v.Subject}
		rec.Vendor, rec.Tenant, rec.EventID, rec.NoticeID, rec.At = v.Vendor, v.Tenant, v.EventID, t.noticeID, at
		rec.ID = recordID(rec)
		if n != i {
			d.Learned[n] = *rec
		}
		n++
	}
	d.Learned = d.Learned[:n]
}

// redundant reports whether the latest stored evidence (at or before the
// event, in the same scope) already says what rec says.
func redundant(rec *consentstore.Record, stored []consentstore.Record, v *View) bool {
	at := v.Time.UnixNano()
	if rec.OptOut != consentstore.OptOutUnset {
		r := latestStored(rec, stored, at, "")
		if r == nil || r.OptOut != rec.OptOut {
			return false
		}
	}
	for _, q := range rec.Granted {
		if r := latestStored(rec, stored, at, q); r == nil || coveredBy(r.Denied, q) {
			return false
		}
	}
	for _, q := range rec.Denied {
		if r := latestStored(rec, stored, at, q); r == nil || !coveredBy(r.Denied, q) {
			return false
		}
	}
	return true
}

// latestStored returns the newest stored record that applies like rec
// (same interaction scope, processors and first-party limit, at or before
// at) and says something about use q ("" for the opt-out).
func latestStored(rec *consentstore.Record, stored []consentstore.Record, at int64, q string) *consentstore.Record {
	for i := len(stored) - 1; i >= 0; i-- {
		r := &stored[i]
		if r.At.UnixNano() > at || r.Interaction != "" && r.Interaction != rec.Interaction ||
			!slices.Equal(r.Processors, rec.Processors) || r.FirstPartyOnly != rec.FirstPartyOnly {
			continue
		}
		if q == "" && r.OptOut != consentstore.OptOutUnset || q != "" && (coveredBy(r.Granted, q) || coveredBy(r.Denied, q)) {
			return r
		}
	}
	return nil
}

// recordID is stable for one piece of evidence of one event, so a vendor's
// retry does not store it twice.
func recordID(r *consentstore.Record) string {
	h := sha256.New()
	for _, s := range [...]string{r.Scope, r.Subject, r.Interaction, r.Vendor, r.Tenant, r.EventID, r.Signal} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "cr_" + hex.EncodeToString(h.Sum(nil)[:12])
}
