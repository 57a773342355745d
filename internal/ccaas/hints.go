package ccaas

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/consentry/consentry/internal/phone"
	"github.com/consentry/consentry/internal/region"
)

// Parties of a jurisdiction hint (ccaas.jurisdiction.hints).
const (
	PartyCustomer = "customer" // the person the event is about
	PartyBusiness = "business" // the business's number: the one called (inbound) or calling (outbound)
	PartyAgent    = "agent"    // the agent or the site handling the interaction
)

// Sources of a jurisdiction hint.
const (
	HintE164        = "e164"         // the calling code and NANP area code of a phone number
	HintVendorField = "vendor_field" // a vendor's own location field (Twilio FromState/ToState)
	HintAddress     = "address"      // a postal address
	HintLocale      = "locale"       // a locale's region
	HintAttribute   = "attribute"    // a customer-defined attribute (location_attributes)
)

// UnknownCode is the code of a hint whose value Consentry could not read:
// the consent processor counts it as an unknown location.
const UnknownCode = "unknown"

// AddJurisdictionHint appends "<code>@<party>.<source>" to
// ccaas.jurisdiction.hints, once. An empty code adds nothing.
func AddJurisdictionHint(attrs pcommon.Map, code, party, source string) {
	if code == "" {
		return
	}
	appendOnce(attrs, AttrJurisdictionHints, code+"@"+party+"."+source)
}

// appendOnce appends s to the string list attribute key unless it is there.
func appendOnce(attrs pcommon.Map, key, s string) {
	var l pcommon.Slice
	if v, ok := attrs.Get(key); ok && v.Type() == pcommon.ValueTypeSlice {
		l = v.Slice()
		for _, x := range l.All() {
			if x.Str() == s {
				return
			}
		}
	} else {
		l = attrs.PutEmptySlice(key)
	}
	l.AppendEmpty().SetStr(s)
}

// AddPhoneHint adds the hint of an E.164 number for a party: its NANP
// region, else its country.
func AddPhoneHint(attrs pcommon.Map, e164, party string) {
	country, reg := phone.Lookup(e164)
	if reg != "" {
		country = reg
	}
	AddJurisdictionHint(attrs, country, party, HintE164)
}

// SetBusinessNumber writes the business's own number of the interaction
// (ccaas.business.number, E.164) and its phone hint. A value that is not a
// phone number (a SIP address, a queue name) is ignored.
func SetBusinessNumber(attrs pcommon.Map, raw string) {
	raw = strings.TrimPrefix(strings.TrimSpace(raw), "tel:")
	if raw == "" {
		return
	}
	e164, ok := phone.Normalize(raw)
	if !ok {
		return
	}
	attrs.PutStr(AttrBusinessNumber, e164)
	AddPhoneHint(attrs, e164, PartyBusiness)
}

// AddVendorFieldHint adds a hint from a vendor's country and state fields
// (Twilio's FromCountry/FromState): "US" and "CA" become "US-CA".
func AddVendorFieldHint(attrs pcommon.Map, party, country, state string) {
	country = strings.ToUpper(strings.TrimSpace(country))
	if !region.IsCountry(country) {
		return
	}
	if _, sub := region.Subdivision(country, state); sub != "" {
		AddJurisdictionHint(attrs, sub, party, HintVendorField)
		return
	}
	AddJurisdictionHint(attrs, country, party, HintVendorField)
}

// MarkUnreadable records that the receiver found a consent signal it could
// not copy (ccaas.consent.unreadable): the consent processor quarantines
// the record (signal_malformed) rather than read it as absent.
func MarkUnreadable(attrs pcommon.Map, name string) {
	appendOnce(attrs, AttrConsentUnreadable, name)
}

// NoticeMapping names the vendor fields (Genesys participant attributes,
// Twilio task attribute paths, Talkdesk fields) that carry a played notice:
// its id, version, and when it was played.
type NoticeMapping struct {
	// ID is the field holding the notice id (ccaas.consent.notice.id).
	ID string `mapstructure:"id"`
	// Version is the field holding its version (ccaas.consent.notice.version).
	Version string `mapstructure:"version"`
	// Offset is the field holding when it was played, after the
	// interaction's start (ccaas.consent.notice.offset, in seconds).
	Offset string `mapstructure:"offset"`
	// OffsetUnit is the unit of the offset field: s (default) or ms.
	OffsetUnit string `mapstructure:"offset_unit"`
}

// Validate checks the mapping.
func (m *NoticeMapping) Validate() error {
	if m.ID == "" && (m.Version != "" || m.Offset != "") {
		return errors.New("id must be set when version or offset is")
	}
	switch m.OffsetUnit {
	case "", "s", "ms":
	default:
		return fmt.Errorf("offset_unit %q is not s or ms", m.OffsetUnit)
	}
	return nil
}

// Apply writes the notice attributes found through get (a lookup of the
// vendor's fields). Nothing is written without a notice id; a field holding
// an object, a list or null is recorded as unreadable.
func (m *NoticeMapping) Apply(attrs pcommon.Map, get func(field string) (any, bool)) {
	if m.ID == "" {
		return
	}
	id, ok := get(m.ID)
	if !ok {
		return
	}
	s, ok := scalarString(id)
	if !ok || s == "" {
		MarkUnreadable(attrs, "notice")
		return
	}
	attrs.PutStr(AttrConsentNoticeID, s)
	if m.Version != "" {
		if v, ok := get(m.Version); ok {
			if s, ok := scalarString(v); ok {
				PutStr(attrs, AttrConsentNoticeVersion, s)
			} else {
				MarkUnreadable(attrs, "notice")
			}
		}
	}
	if m.Offset == "" {
		return
	}
	v, ok := get(m.Offset)
	if !ok {
		return
	}
	s, ok = scalarString(v)
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	switch {
	case !ok:
		MarkUnreadable(attrs, "notice")
	case err != nil:
		attrs.PutStr(AttrConsentNoticeOffset, s) // the processor says it is malformed
	default:
		if m.OffsetUnit == "ms" {
			f /= 1000
		}
		attrs.PutDouble(AttrConsentNoticeOffset, f)
	}
}

// LocationMapping names the vendor fields that hold location hints, per
// party: a customer's state on file, the agent's site. Values are read with
// region.Parse ("US-CA", "CA", "California", "Germany"); one Consentry
// cannot read becomes an unknown location.
type LocationMapping struct {
	Customer []string `mapstructure:"customer"`
	Business []string `mapstructure:"business"`
	Agent    []string `mapstructure:"agent"`
}

// Apply adds the hints found through get.
func (m *LocationMapping) Apply(attrs pcommon.Map, get func(field string) (any, bool)) {
	for _, p := range [...]struct {
		party  string
		fields []string
	}{{PartyCustomer, m.Customer}, {PartyBusiness, m.Business}, {PartyAgent, m.Agent}} {
		for _, f := range p.fields {
			v, ok := get(f)
			if !ok {
				continue
			}
			s, ok := scalarString(v)
			if !ok || strings.TrimSpace(s) == "" {
				continue
			}
			code := region.Parse(s)
			if code == "" {
				code = UnknownCode
			}
			AddJurisdictionHint(attrs, code, p.party, HintAttribute)
		}
	}
}

// scalarString returns a JSON scalar as a string: strings as they are,
// booleans and numbers in their JSON spelling.
func scalarString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case json.Number:
		return string(t), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case int64:
		return strconv.FormatInt(t, 10), true
	case int:
		return strconv.Itoa(t), true
	}
	return "", false
}
