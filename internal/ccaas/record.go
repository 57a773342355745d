package ccaas

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/phone"
	"github.com/consentry/consentry/internal/subject"
)

// Batch builds one plog.Logs for a request: one ResourceLogs per tenant
// (resource attributes ccaas.vendor and ccaas.tenant.id), one scope naming
// the receiver, and one log record per vendor event.
type Batch struct {
	vendor, scope, version string
	logs                   plog.Logs
	byTenant               map[string]plog.LogRecordSlice
}

// NewBatch starts an empty batch for a vendor; scope names the receiver
// package that produced the records.
func NewBatch(vendor, scope, version string) *Batch {
	return &Batch{vendor: vendor, scope: scope, version: version, logs: plog.NewLogs()}
}

// RecordAttributeCapacity is the room a new record's attribute map is
// given at once: what the receivers write (14-20 attributes) plus the
// consent processor's twelve consent.* attributes. Grown one attribute at a
// time, the map would be reallocated five times by the receiver and once
// more by the processor, copying every attribute each time.
const RecordAttributeCapacity = 32

// Record appends a new record for tenant and returns it.
func (b *Batch) Record(tenant string) plog.LogRecord {
	if recs, ok := b.byTenant[tenant]; ok {
		return newRecord(recs)
	}
	rl := b.logs.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(AttrVendor, b.vendor)
	rl.Resource().Attributes().PutStr(AttrTenantID, tenant)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(b.scope)
	sl.Scope().SetVersion(b.version)
	recs := sl.LogRecords()
	if b.byTenant == nil {
		b.byTenant = make(map[string]plog.LogRecordSlice, 1)
	}
	b.byTenant[tenant] = recs
	return newRecord(recs)
}

func newRecord(recs plog.LogRecordSlice) plog.LogRecord {
	lr := recs.AppendEmpty()
	lr.Attributes().EnsureCapacity(RecordAttributeCapacity)
	return lr
}

// Logs returns what was built.
func (b *Batch) Logs() plog.Logs { return b.logs }

// Len is the number of records built so far.
func (b *Batch) Len() int { return b.logs.LogRecordCount() }

// PutStr sets a string attribute unless the value is empty.
func PutStr(attrs pcommon.Map, key, val string) {
	if val != "" {
		attrs.PutStr(key, val)
	}
}

// Lower lower-cases a vendor enum value (vendors disagree on case; keep the
// value itself open-ended).
func Lower(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// SetTimestamps sets the vendor's occurrence time (when known) and the time
// Consentry received the event.
func SetTimestamps(lr plog.LogRecord, occurred, received time.Time) {
	if !occurred.IsZero() {
		lr.SetTimestamp(pcommon.NewTimestampFromTime(occurred))
	}
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(received))
}

// SetSubject derives the pseudonymous subject key of a raw identifier and
// writes it, with its type, to attrs. For phone numbers it also writes the
// jurisdiction hints of the E.164 number, unless the event already carries
// a hint (vendor fields are more precise than a calling code). The raw
// identifier itself never becomes an attribute. It reports whether a key was
// written.
func SetSubject(attrs pcommon.Map, k *subject.Keyer, t subject.IDType, raw string) bool {
	if k == nil || strings.TrimSpace(raw) == "" {
		return false
	}
	var (
		key, norm string
		err       error
	)
	if t == "" {
		t, norm, err = subject.Detect(raw)
		if err == nil {
			key = k.Key(t, norm)
		}
	} else {
		key, norm, err = k.KeyRaw(t, raw)
	}
	if err != nil {
		return false
	}
	attrs.PutStr(AttrSubjectKey, key)
	attrs.PutStr(AttrSubjectIDType, string(t))
	if t == subject.IDTypePhone {
		SetPhoneJurisdiction(attrs, norm)
		AddPhoneHint(attrs, norm, PartyCustomer)
	}
	return true
}

// SetPhoneJurisdiction writes country and region hints of an E.164 number
// unless a hint is already present.
func SetPhoneJurisdiction(attrs pcommon.Map, e164 string) {
	if _, ok := attrs.Get(AttrJurisdictionCountry); ok {
		return
	}
	country, region := phone.Lookup(e164)
	if country == "" {
		return
	}
	attrs.PutStr(AttrJurisdictionCountry, country)
	PutStr(attrs, AttrJurisdictionRegion, region)
	attrs.PutStr(AttrJurisdictionSource, "e164")
}

// PutConsentSignal writes a raw in-event consent signal as
// ccaas.consent.signal.<name>: strings as sent, booleans and numbers in
// their JSON spelling. An object, an array or a null where a signal was
// mapped is recorded as unreadable ("signal:<name>"), never dropped; it
// reports whether it wrote the signal.
func PutConsentSignal(attrs pcommon.Map, name string, v any) bool {
	s, ok := scalarString(v)
	if !ok {
		MarkUnreadable(attrs, "signal:"+name)
		return false
	}
	attrs.PutStr(AttrConsentSignalPrefix+name, s)
	return true
}

// Decision reads a record's consent.decision: DecisionForward or
// DecisionQuarantine, and whether the attribute held one of the two. A
// missing, non-string or unknown value reads as DecisionQuarantine with
// valid false: anything but an exact "forward" fails closed.
func Decision(attrs pcommon.Map) (decision string, valid bool) {
	v, ok := attrs.Get(AttrConsentDecision)
	if !ok || v.Type() != pcommon.ValueTypeStr {
		return DecisionQuarantine, false
	}
	switch v.Str() {
	case DecisionForward:
		return DecisionForward, true
	case DecisionQuarantine:
		return DecisionQuarantine, true
	}
	return DecisionQuarantine, false
}

// Strings reads a list attribute (e.g. consent.reasons) as its non-empty
// elements; a single string value counts as a one-element list. Missing or
// other types: nil.
func Strings(m pcommon.Map, key string) []string {
	v, ok := m.Get(key)
	if !ok {
		return nil
	}
	switch v.Type() {
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		out := make([]string, 0, s.Len())
		for i := 0; i < s.Len(); i++ {
			if e := s.At(i).AsString(); e != "" {
				out = append(out, e)
			}
		}
		return out
	case pcommon.ValueTypeStr:
		if v.Str() != "" {
			return []string{v.Str()}
		}
	}
	return nil
}
