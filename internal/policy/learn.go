package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	"github.com/consentry/consentry/internal/consentstore"
)

// learn completes the candidate records in d.Learned and drops those the
// store already says (the latest stored evidence is the same), so that a
// signal repeated on every event is stored once, and the opt-outs an API
// opt-in outlasts (they change nothing).
func (p *Policy) learn(v *View, t *tenant, stored []consentstore.Record, opt *optOutState, d *Decision) {
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
		if redundant(rec, stored, v) || rec.OptOut == consentstore.OptOutSaleSharing && slices.Contains(opt.overridden, rec.Signal) {
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
		// The same statement (kind) is on record and no opt-in came after
		// it. The kind matters: an opt-in outlasts only the kinds already
		// in force before it.
		return optOutOnRecord(rec, stored, at)
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

// optOutOnRecord reports whether the newest stored sale-and-sharing
// statement of rec's kind, at or before at, is the same opt-out, with no
// opt-in stored after it.
func optOutOnRecord(rec *consentstore.Record, stored []consentstore.Record, at int64) bool {
	for i := len(stored) - 1; i >= 0; i-- {
		r := &stored[i]
		if r.At.UnixNano() > at || r.Interaction != "" {
			continue
		}
		switch {
		case r.OptOut == consentstore.OptInSaleSharing:
			return false
		case r.OptOut == rec.OptOut && r.Signal == rec.Signal:
			return slices.Equal(r.Denied, rec.Denied)
		}
	}
	return false
}
