package policy

import (
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
)

// consentScan is what one pass over a record's attributes found about
// consent.
type consentScan struct {
	done        bool
	any         bool // some ccaas.consent.* attribute
	signals     bool // some ccaas.consent.signal.* attribute
	categories  bool // some ccaas.consent.category.*, or categories_present: true
	gpc, badGPC bool
	tcf, gpp    string
	usp         string
	notice      string
	// noticeVersion and noticeOffset (seconds; hasOffset) come with the
	// notice marker; badOffset: an offset that is not a number.
	noticeVersion        string
	noticeOffset         float64
	hasOffset, badOffset bool
	unreadable           pcommon.Slice // ccaas.consent.unreadable
	hasUnreadable        bool
	consentTags          bool // some consent.* attribute (set upstream, to be replaced)
	// The ccaas.consent.signal.* attributes, as found (up to len(sigs);
	// more set sigOverflow and are read again when needed).
	sigs        [4]attr
	nSigs       int
	sigOverflow bool
}

type attr struct {
	key string
	val pcommon.Value
}

// Load fills v from a record of the given vendor and tenant (the resource's
// ccaas.vendor and ccaas.tenant.id), reading its attributes in one pass.
// Time is the record's Timestamp, else its ObservedTimestamp, else zero.
func (v *View) Load(vendor, tenant string, lr plog.LogRecord) {
	attrs := lr.Attributes()
	hints := v.Hints[:0]
	*v = View{Vendor: vendor, Tenant: tenant, EventName: lr.EventName(), Attrs: attrs}
	switch {
	case lr.Timestamp() != 0:
		v.Time = lr.Timestamp().AsTime()
	case lr.ObservedTimestamp() != 0:
		v.Time = lr.ObservedTimestamp().AsTime()
	}
	attrs.Range(func(k string, val pcommon.Value) bool {
		switch k {
		case ccaas.AttrEventID:
			v.EventID = strValue(val)
		case ccaas.AttrInteractionID:
			v.InteractionID = strValue(val)
		case ccaas.AttrSubjectKey:
			v.Subject = strValue(val)
		case ccaas.AttrChannel:
			v.Channel = strValue(val)
		case ccaas.AttrJurisdictionCountry:
			v.Country = strValue(val)
		case ccaas.AttrJurisdictionRegion:
			v.Region = strValue(val)
		case ccaas.AttrJurisdictionSource:
			v.Source = strValue(val)
		case ccaas.AttrJurisdictionHints:
			if val.Type() == pcommon.ValueTypeSlice {
				for _, h := range val.Slice().All() {
					hints = append(hints, h.AsString())
				}
			} else {
				hints = append(hints, val.AsString())
			}
			v.Hints = hints
		case ccaas.AttrAgentID:
			v.AgentID = strValue(val)
		case ccaas.AttrQueueID:
			v.QueueID = strValue(val)
		case ccaas.AttrBusinessNumber:
			v.BusinessNumber = strValue(val)
		default:
			v.scan.note(k, val)
		}
		return true
	})
	v.scan.done = true
}

// HasConsentTags reports whether the record already carried consent.*
// attributes (which the processor replaces). Valid after Load.
func (v *View) HasConsentTags() bool { return v.scan.consentTags }

func strValue(v pcommon.Value) string {
	if v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}

// ensureScan scans the attributes of a view not filled by Load.
func (v *View) ensureScan() {
	if v.scan.done {
		return
	}
	v.Attrs.Range(func(k string, val pcommon.Value) bool {
		v.scan.note(k, val)
		return true
	})
	v.scan.done = true
}

func (s *consentScan) note(k string, val pcommon.Value) {
	if !strings.HasPrefix(k, consentAttrPrefix) {
		if strings.HasPrefix(k, "consent.") {
			s.consentTags = true
		}
		return
	}
	s.any = true
	switch rest := k[len(consentAttrPrefix):]; {
	case strings.HasPrefix(rest, "signal."):
		s.signals = true
		if s.nSigs < len(s.sigs) {
			s.sigs[s.nSigs] = attr{k, val}
			s.nSigs++
		} else {
			s.sigOverflow = true
		}
	case strings.HasPrefix(rest, "category."):
		s.categories = true
	case k == attrCategoriesPresent:
		// The event carried a consent object, possibly empty: every mapped
		// category it lacks counts as false (Segment).
		if val.Type() == pcommon.ValueTypeBool && val.Bool() {
			s.categories = true
		}
	case k == ccaas.AttrConsentTCF:
		s.tcf = val.AsString()
	case k == ccaas.AttrConsentGPP:
		s.gpp = val.AsString()
	case k == ccaas.AttrConsentGPC:
		switch {
		case val.Type() == pcommon.ValueTypeBool:
			s.gpc = val.Bool()
		case val.Type() == pcommon.ValueTypeStr && (val.Str() == "1" || strings.EqualFold(val.Str(), "true")):
			s.gpc = true
		case val.Type() == pcommon.ValueTypeStr && (val.Str() == "0" || strings.EqualFold(val.Str(), "false")):
		default:
			s.badGPC = true
		}
	case k == ccaas.AttrConsentUSP:
		s.usp = val.AsString()
	case k == ccaas.AttrConsentNoticeID:
		s.notice = val.AsString()
	case k == ccaas.AttrConsentNoticeVersion:
		s.noticeVersion = val.AsString()
	case k == ccaas.AttrConsentNoticeOffset:
		s.hasOffset = true
		switch val.Type() {
		case pcommon.ValueTypeInt:
			s.noticeOffset = float64(val.Int())
		case pcommon.ValueTypeDouble:
			s.noticeOffset = val.Double()
		case pcommon.ValueTypeStr:
			f, err := strconv.ParseFloat(strings.TrimSpace(val.Str()), 64)
			s.noticeOffset, s.badOffset = f, err != nil
		default:
			s.badOffset = true
		}
		if s.noticeOffset < 0 || s.noticeOffset != s.noticeOffset {
			s.badOffset = true
		}
	case k == ccaas.AttrConsentUnreadable:
		s.hasUnreadable = true
		if val.Type() == pcommon.ValueTypeSlice {
			s.unreadable = val.Slice()
		}
	}
}
