package segmentreceiver

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/phone"
	"github.com/consentry/consentry/internal/region"
)

// Values of ccaas.jurisdiction.source written by this receiver.
const (
	sourceVendorField = "vendor_field"
	sourceLocale      = "locale"
	sourceIP          = "ip"
)

// setJurisdiction writes where the person probably is. Every hint the
// event has becomes a ccaas.jurisdiction.hints entry (an address on file
// and an area code can disagree; the consent processor weighs them all),
// and the most precise one is also the primary hint
// (ccaas.jurisdiction.country / region / source):
//
//  1. the person's postal address (traits.address on identify calls,
//     context.traits.address otherwise; a group's traits describe the
//     company, not the person): country and, for the US and Canada, state
//     or province (a state with no country takes the locale's country);
//  2. the device's location (context.location: country and region, as the
//     mobile SDKs send it);
//  3. the person's phone number (traits.phone): its calling code and NANP
//     area code;
//  4. context.locale ("en-US" -> US);
//  5. context.ip: Consentry has no GeoIP database, so it records only that
//     an IP hint exists (source "ip", no country); the address stays in the
//     body for a later lookup. A country is never guessed.
func setJurisdiction(attrs pcommon.Map, ev map[string]any, typ string) {
	traits := ccaas.Obj(ev, "context", "traits")
	if typ == typeIdentify {
		if t := ccaas.Obj(ev, "traits"); t != nil {
			traits = t
		}
	}
	locale := localeCountry(ccaas.Str(ev, "context", "locale"))
	primary := false
	setPrimary := func(country, reg, source string) {
		if primary {
			return
		}
		primary = true
		attrs.PutStr(ccaas.AttrJurisdictionCountry, country)
		ccaas.PutStr(attrs, ccaas.AttrJurisdictionRegion, reg)
		attrs.PutStr(ccaas.AttrJurisdictionSource, source)
	}
	hint := func(country, reg, source string) {
		code := reg
		if code == "" {
			code = country
		}
		ccaas.AddJurisdictionHint(attrs, code, ccaas.PartyCustomer, source)
	}

	if addr := ccaas.Obj(traits, "address"); addr != nil {
		if country, reg := place(ccaas.Str(addr, "country"), ccaas.Str(addr, "state"), locale); country != "" {
			setPrimary(country, reg, sourceVendorField)
			hint(country, reg, ccaas.HintAddress)
		}
	}
	if loc := ccaas.Obj(ev, "context", "location"); loc != nil {
		if country, reg := place(ccaas.Str(loc, "country"), ccaas.Str(loc, "region"), ""); country != "" {
			setPrimary(country, reg, sourceVendorField)
			hint(country, reg, ccaas.HintVendorField)
		}
	}
	if p := ccaas.Str(traits, "phone"); p != "" {
		if e164, ok := phone.Normalize(p); ok {
			if country, reg := phone.Lookup(e164); country != "" {
				setPrimary(country, reg, ccaas.HintE164)
				hint(country, reg, ccaas.HintE164)
			}
		}
	}
	if locale != "" {
		setPrimary(locale, "", sourceLocale)
		hint(locale, "", ccaas.HintLocale)
	}
	if !primary && strings.TrimSpace(ccaas.Str(ev, "context", "ip")) != "" {
		attrs.PutStr(ccaas.AttrJurisdictionSource, sourceIP)
	}
}

// place resolves a country and state as an address or a location holds
// them; a state without a country takes defaultCountry.
func place(country, state, defaultCountry string) (string, string) {
	cc := region.Country(country)
	c := cc
	if c == "" {
		c = defaultCountry
	}
	c, reg := region.Subdivision(c, state)
	if reg != "" {
		return c, reg // the subdivision's country (a US territory's own code)
	}
	return cc, ""
}

// localeCountry returns the ISO 3166-1 region of a BCP 47 locale ("en-US",
// "zh-Hant-TW", and the POSIX spelling "en_US.UTF-8"), or "" when it has
// none or a non-country region ("es-419").
func localeCountry(locale string) string {
	locale = strings.TrimSpace(locale)
	if i := strings.IndexAny(locale, ".@"); i >= 0 {
		locale = locale[:i]
	}
	parts := strings.FieldsFunc(locale, func(r rune) bool { return r == '-' || r == '_' })
	if len(parts) < 2 {
		return ""
	}
	for _, p := range parts[1:] {
		switch {
		case len(p) == 2:
			return region.Country(p)
		case len(p) == 3 && region.IsAlpha(p), len(p) == 4 && region.IsAlpha(p):
			continue // extended language or script subtag
		default:
			return "" // a numeric region, a variant or an extension: no country
		}
	}
	return ""
}
