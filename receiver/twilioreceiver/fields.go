package twilioreceiver

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/subject"
)

// fields is read access to one Twilio event by its classic (PascalCase)
// parameter names, whether it arrived as a form callback or inside an Event
// Streams CloudEvent.
type fields interface {
	get(name string) string
}

// jsonFields reads a decoded JSON object. A name with dots that is not a key
// itself walks nested objects ("MessagingBinding.Address").
type jsonFields map[string]any

func (j jsonFields) get(name string) string {
	if v, ok := j[name]; ok {
		return scalar(v)
	}
	if strings.IndexByte(name, '.') < 0 {
		return ""
	}
	return scalar(ccaas.Lookup(j, name))
}

// renamed reads an object whose keys are spelled differently from the
// classic parameters (TaskRouter Event Streams payloads use snake_case).
type renamed struct {
	m     jsonFields
	names map[string]string
}

func (r renamed) get(name string) string {
	if n, ok := r.names[name]; ok {
		return r.m.get(n)
	}
	return r.m.get(name)
}

// scalar renders a JSON scalar as a string ("" for objects, arrays, null).
func scalar(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return string(t)
	case bool:
		return strconv.FormatBool(t)
	default:
		return ""
	}
}

// decodeAttributes parses a JSON attributes string (TaskAttributes,
// Conversations Attributes). Anything but an object gives nil: the
// attributes are customer-defined and their absence is not an error.
func decodeAttributes(s string) map[string]any {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' {
		return nil
	}
	v, err := ccaas.DecodeJSON([]byte(s))
	if err != nil {
		return nil
	}
	m, _ := v.(map[string]any)
	return m
}

// anonymousCallers are the From values Twilio uses for withheld caller ids;
// they identify nobody (and +266696687 is not a caller in Lesotho).
var anonymousCallers = map[string]bool{
	"+266696687": true, "266696687": true, "anonymous": true, "restricted": true,
	"private": true, "unknown": true, "unavailable": true,
}

// accept says which identifier types an address may yield a subject from.
type accept int

const (
	anyID        accept = iota // phone, e-mail or an opaque id (a Twilio Client identity)
	phoneOrEmail               // free-form fields such as a chat visitor's display name
	phoneOnly                  // fields that may hold an agent's login
)

// setSubject keys a customer address unless it is a withheld-caller marker
// or of a type that acc does not accept.
func setSubject(attrs pcommon.Map, k *subject.Keyer, raw string, acc accept) bool {
	raw = strings.TrimSpace(raw)
	if raw == "" || anonymousCallers[strings.ToLower(raw)] {
		return false
	}
	if acc == anyID {
		return ccaas.SetSubject(attrs, k, "", raw)
	}
	t, _, err := subject.Detect(raw)
	if err != nil || t == subject.IDTypeOpaque || (acc == phoneOnly && t != subject.IDTypePhone) {
		return false
	}
	return ccaas.SetSubject(attrs, k, t, raw)
}

// setVendorJurisdiction writes a country (ISO 3166-1 alpha-2, as Twilio's
// FromCountry) and, for the United States and Canada, the state or province
// (FromState "CA" -> "US-CA"), unless a hint is already present.
func setVendorJurisdiction(attrs pcommon.Map, country, state string) {
	if _, ok := attrs.Get(ccaas.AttrJurisdictionCountry); ok {
		return
	}
	country = strings.ToUpper(strings.TrimSpace(country))
	if !isAlpha2(country) {
		return
	}
	attrs.PutStr(ccaas.AttrJurisdictionCountry, country)
	state = strings.ToUpper(strings.TrimSpace(state))
	if (country == "US" || country == "CA") && isAlpha2(state) {
		attrs.PutStr(ccaas.AttrJurisdictionRegion, country+"-"+state)
	}
	attrs.PutStr(ccaas.AttrJurisdictionSource, "vendor_field")
}

func isAlpha2(s string) bool {
	return len(s) == 2 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z'
}

// consentSignals copies the mapped attributes to ccaas.consent.signal.<name>.
func consentSignals(attrs pcommon.Map, mapping []attrPath, m map[string]any) {
	for _, p := range mapping {
		if v := ccaas.Lookup(m, p.path); v != nil {
			ccaas.PutConsentSignal(attrs, p.signal, v)
		}
	}
}

// attrPath is one consent_attributes entry.
type attrPath struct{ path, signal string }

// parseTime reads the timestamps Twilio uses: RFC 2822 (voice callbacks),
// RFC 3339 / ISO 8601 (Conversations, CloudEvents), epoch seconds or epoch
// milliseconds (TaskRouter). Anything else is the zero time.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case n <= 0:
			return time.Time{}
		case len(s) >= 13:
			return time.UnixMilli(n).UTC()
		default:
			return time.Unix(n, 0).UTC()
		}
	}
	for _, layout := range [...]string{time.RFC3339Nano, time.RFC1123Z, time.RFC1123, "2006-01-02T15:04:05.000Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
