package policy

import (
	"slices"

	"github.com/consentry/consentry/internal/consentstore"
)

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
	// late: a store record dated after the event (a withdrawal recorded
	// before the event was decided, see Config.Withdrawals).
	late bool
	// kind is what an opt-out statement is ("gpc", "gpp:usca=sale"), the
	// same for every event that repeats it; api: it came through the API.
	kind string
	api  bool
	cite string // the evidence entry, or
	// recordID is a consent record's id, cited as "consent:<id>".
	recordID string
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

// status finds the latest evidence about purpose q for processor pr. A
// played notice (implied consent, the weakest evidence) counts only where
// the subject made no explicit statement: continuing a call after a generic
// "this call is recorded" prompt does not override a refusal on record.
func (d *Decision) status(pr *processor, q string) (Status, *item) {
	var implied *item
	for i := range d.items {
		it := &d.items[i]
		if it.optOut != consentstore.OptOutUnset || !it.appliesTo(pr) || !it.coversUse(q) {
			continue
		}
		switch {
		case it.deny:
			return StatusDenied, it
		case it.implied:
			if implied == nil {
				implied = it
			}
		default:
			return StatusGranted, it
		}
	}
	if implied != nil {
		return StatusGranted, implied
	}
	return StatusUnknown, nil
}

// storeItems turns the subject's consent records into evidence. Records of
// another interaction do not apply. Records dated after the event do not
// cover it (consent given later does not cure what happened before), except
// withdrawals when they apply at forwarding: a denial or an opt-out already
// recorded when the event is decided blocks it.
func (p *Policy) storeItems(v *View, records []consentstore.Record, at int64, d *Decision) {
	for i := len(records) - 1; i >= 0; i-- { // newest first: nearly sorted already
		r := &records[i]
		if r.Interaction != "" && r.Interaction != v.InteractionID {
			continue
		}
		if r.At.UnixNano() > at {
			if p.withdrawalsNow {
				d.addRecordItems(r, true)
			}
			continue
		}
		d.addRecordItems(r, false)
	}
}

// addRecordItems adds a record's grants, denials and opt-out statement; of
// a late record, only its withdrawals (denials and opt-outs).
func (d *Decision) addRecordItems(r *consentstore.Record, late bool) {
	base := item{
		at:             r.At.UnixNano(),
		strength:       int8(r.Source.Strength()),
		processors:     r.Processors,
		firstPartyOnly: r.FirstPartyOnly,
		implied:        r.Source == consentstore.SourceNotice,
		recordID:       r.ID,
		late:           late,
		kind:           r.Signal,
		api:            r.Source == consentstore.SourceAPI,
	}
	if len(r.Granted) > 0 && !late {
		it := base
		it.uses = r.Granted
		d.items = append(d.items, it)
	}
	// An opt-out's denied uses belong to the opt-out (an opt-in lifts them
	// with it), not to an ordinary denial.
	if len(r.Denied) > 0 && r.OptOut != consentstore.OptOutSaleSharing {
		it := base
		it.uses, it.deny = r.Denied, true
		d.items = append(d.items, it)
	}
	if r.OptOut == consentstore.OptOutSaleSharing || r.OptOut == consentstore.OptInSaleSharing && !late {
		it := base
		it.optOut = r.OptOut
		if r.OptOut == consentstore.OptOutSaleSharing {
			it.uses = r.Denied // what this opt-out denies beyond opt_out.purposes
		}
		d.items = append(d.items, it)
	}
}

// optOutState is the subject's standing on sale and sharing for this
// event.
type optOutState struct {
	// out: opted out; inForce are the opt-out statements that say so,
	// newest first.
	out     bool
	inForce []*item
	// optIn is the API opt-in that outlasted later repeats of the opt-out
	// signals already in force before it (nil if none was overridden);
	// overridden are the kinds it outlasted.
	optIn      *item
	overridden []string
}

// optOutState resolves the opt-out statements among the evidence (sorted
// newest first): the newest opt-in through the API lifts every earlier
// opt-out; opt-outs after it count, except, when opt_out.
// opt_in_overrides_signals is set, repeats of signals that were already in
// force before the opt-in (the browser that keeps sending Sec-GPC: 1 after
// the consumer confirmed the opt-in, 11 CCR 7025(c)(3)).
func (p *Policy) optOutState(d *Decision) optOutState {
	var st optOutState
	in := -1
	for i := range d.items {
		if d.items[i].optOut == consentstore.OptInSaleSharing {
			in = i
			break
		}
	}
	end := len(d.items)
	if in >= 0 {
		end = in
	}
	for i := 0; i < end; i++ {
		it := &d.items[i]
		if it.optOut != consentstore.OptOutSaleSharing {
			continue
		}
		if in >= 0 && p.optInOverrides && !it.api && it.kind != "" && d.optedOutBefore(in, it.kind) {
			st.optIn = &d.items[in]
			if !slices.Contains(st.overridden, it.kind) {
				st.overridden = append(st.overridden, it.kind)
			}
			continue
		}
		st.out = true
		st.inForce = append(st.inForce, it)
	}
	return st
}

// optedOutBefore reports whether an opt-out statement of the given kind is
// older than the item at index in.
func (d *Decision) optedOutBefore(in int, kind string) bool {
	for j := in + 1; j < len(d.items); j++ {
		if it := &d.items[j]; it.optOut == consentstore.OptOutSaleSharing && it.kind == kind {
			return true
		}
	}
	return false
}

// deniesUse reports whether the opt-outs in force deny data use q: it
// overlaps opt_out.purposes or the uses of an opt-out statement.
func (p *Policy) deniesUse(st *optOutState, q string) bool {
	if !st.out {
		return false
	}
	for _, o := range p.optOutUses {
		if covers(o, q) || covers(q, o) {
			return true
		}
	}
	for _, it := range st.inForce {
		for _, o := range it.uses {
			if covers(o, q) || covers(q, o) {
				return true
			}
		}
	}
	return false
}
