package segmentreceiver

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/phone"
)

// Values of ccaas.jurisdiction.source written by this receiver.
const (
	sourceVendorField = "vendor_field"
	sourceLocale      = "locale"
	sourceIP          = "ip"
)

// setJurisdiction writes where the person probably is, from the most
// precise hint the event has:
//
//  1. the person's postal address (traits.address on identify calls,
//     context.traits.address otherwise; a group's traits describe the
//     company, not the person): country and, for the US and Canada, state
//     or province (a state with no country takes the locale's country);
//  2. the person's phone number (traits.phone): its calling code and NANP
//     area code;
//  3. context.locale ("en-US" -> US);
//  4. context.ip: Consentry has no GeoIP database, so it records only that
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

	if addr := ccaas.Obj(traits, "address"); addr != nil {
		country := countryCode(ccaas.Str(addr, "country"))
		c := country
		if c == "" {
			c = locale
		}
		if c, region := subdivision(c, ccaas.Str(addr, "state")); region != "" || country != "" {
			if region != "" {
				country = c // the subdivision's country (a US territory's own code)
			}
			attrs.PutStr(ccaas.AttrJurisdictionCountry, country)
			ccaas.PutStr(attrs, ccaas.AttrJurisdictionRegion, region)
			attrs.PutStr(ccaas.AttrJurisdictionSource, sourceVendorField)
			return
		}
	}
	if p := ccaas.Str(traits, "phone"); p != "" {
		if e164, ok := phone.Normalize(p); ok {
			ccaas.SetPhoneJurisdiction(attrs, e164)
			if _, ok := attrs.Get(ccaas.AttrJurisdictionCountry); ok {
				return
			}
		}
	}
	if locale != "" {
		attrs.PutStr(ccaas.AttrJurisdictionCountry, locale)
		attrs.PutStr(ccaas.AttrJurisdictionSource, sourceLocale)
		return
	}
	if strings.TrimSpace(ccaas.Str(ev, "context", "ip")) != "" {
		attrs.PutStr(ccaas.AttrJurisdictionSource, sourceIP)
	}
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
			return countryCode(p)
		case len(p) == 3 && isAlpha(p), len(p) == 4 && isAlpha(p):
			continue // extended language or script subtag
		default:
			return "" // a numeric region, a variant or an extension: no country
		}
	}
	return ""
}

// countryCode normalises a country as people type it into an address:
// an ISO 3166-1 alpha-2 code in any case, or one of a few common names and
// alpha-3 codes. Anything else gives "" (no hint rather than a wrong one).
func countryCode(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) == 2 {
		if s == "UK" {
			return "GB"
		}
		if isISOCountry(s) {
			return s
		}
		return ""
	}
	return countryNames[strings.NewReplacer(".", "", "  ", " ").Replace(s)]
}

// subdivision resolves a state or province of a US or Canadian address to
// its ISO 3166-2 code, also accepting a code already in that form for any
// country ("DE-BY"). US territories take their own country code, as the
// phone package reports them (Puerto Rico: country PR, region US-PR). It
// returns the (possibly adjusted) country and the region.
func subdivision(country, state string) (string, string) {
	state = strings.ToUpper(strings.TrimSpace(state))
	if country == "" || state == "" {
		return country, ""
	}
	if cc, sub, ok := strings.Cut(state, "-"); ok && cc == country && sub != "" && len(sub) <= 3 && isAlnum(sub) {
		return country, state
	}
	switch {
	case country == "CA":
		if code, ok := caProvinces[state]; ok {
			return country, "CA-" + code
		}
	case country == "US" || usTerritories[country]:
		code, ok := usStates[state]
		switch {
		case !ok:
		case usTerritories[code]:
			return code, "US-" + code
		case country == "US":
			return country, "US-" + code
		}
	}
	return country, ""
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// isoCountries lists the officially assigned ISO 3166-1 alpha-2 codes.
const isoCountries = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
	"QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"

func isISOCountry(code string) bool {
	if len(code) != 2 {
		return false
	}
	for i := 0; i+2 <= len(isoCountries); i += 3 {
		if isoCountries[i:i+2] == code {
			return true
		}
	}
	return false
}

// countryNames are the spellings other than an alpha-2 code that addresses
// commonly carry, upper-cased and without dots.
var countryNames = map[string]string{
	"USA": "US", "UNITED STATES": "US", "UNITED STATES OF AMERICA": "US", "AMERICA": "US",
	"CAN": "CA", "CANADA": "CA",
	"GBR": "GB", "UNITED KINGDOM": "GB", "GREAT BRITAIN": "GB", "ENGLAND": "GB", "SCOTLAND": "GB", "WALES": "GB", "NORTHERN IRELAND": "GB",
	"MEX": "MX", "MEXICO": "MX", "MÉXICO": "MX",
	"AUS": "AU", "AUSTRALIA": "AU",
	"DEU": "DE", "GERMANY": "DE", "DEUTSCHLAND": "DE",
	"FRA": "FR", "FRANCE": "FR",
	"IRL": "IE", "IRELAND": "IE",
	"NLD": "NL", "NETHERLANDS": "NL",
	"ESP": "ES", "SPAIN": "ES", "ESPAÑA": "ES",
	"ITA": "IT", "ITALY": "IT", "ITALIA": "IT",
	"BRA": "BR", "BRAZIL": "BR", "BRASIL": "BR",
	"IND": "IN", "INDIA": "IN",
	"PRI": "PR", "PUERTO RICO": "PR",
}

// usTerritories are the US territories that have their own ISO 3166-1 code.
var usTerritories = map[string]bool{"AS": true, "GU": true, "MP": true, "PR": true, "UM": true, "VI": true}

// usStates maps US state, district and territory codes and names to their
// USPS / ISO 3166-2:US code.
var usStates = codeTable(map[string]string{
	"AL": "ALABAMA", "AK": "ALASKA", "AZ": "ARIZONA", "AR": "ARKANSAS", "CA": "CALIFORNIA",
	"CO": "COLORADO", "CT": "CONNECTICUT", "DE": "DELAWARE", "FL": "FLORIDA", "GA": "GEORGIA",
	"HI": "HAWAII", "ID": "IDAHO", "IL": "ILLINOIS", "IN": "INDIANA", "IA": "IOWA",
	"KS": "KANSAS", "KY": "KENTUCKY", "LA": "LOUISIANA", "ME": "MAINE", "MD": "MARYLAND",
	"MA": "MASSACHUSETTS", "MI": "MICHIGAN", "MN": "MINNESOTA", "MS": "MISSISSIPPI", "MO": "MISSOURI",
	"MT": "MONTANA", "NE": "NEBRASKA", "NV": "NEVADA", "NH": "NEW HAMPSHIRE", "NJ": "NEW JERSEY",
	"NM": "NEW MEXICO", "NY": "NEW YORK", "NC": "NORTH CAROLINA", "ND": "NORTH DAKOTA", "OH": "OHIO",
	"OK": "OKLAHOMA", "OR": "OREGON", "PA": "PENNSYLVANIA", "RI": "RHODE ISLAND", "SC": "SOUTH CAROLINA",
	"SD": "SOUTH DAKOTA", "TN": "TENNESSEE", "TX": "TEXAS", "UT": "UTAH", "VT": "VERMONT",
	"VA": "VIRGINIA", "WA": "WASHINGTON", "WV": "WEST VIRGINIA", "WI": "WISCONSIN", "WY": "WYOMING",
	"DC": "DISTRICT OF COLUMBIA",
	"AS": "AMERICAN SAMOA", "GU": "GUAM", "MP": "NORTHERN MARIANA ISLANDS", "PR": "PUERTO RICO",
	"UM": "UNITED STATES MINOR OUTLYING ISLANDS", "VI": "U.S. VIRGIN ISLANDS", "VI ": "VIRGIN ISLANDS",
	"DC ": "WASHINGTON DC", "DC  ": "WASHINGTON, DC",
})

// caProvinces maps Canadian province and territory codes and names (English
// and French) to their ISO 3166-2:CA code.
var caProvinces = codeTable(map[string]string{
	"AB": "ALBERTA", "BC": "BRITISH COLUMBIA", "MB": "MANITOBA", "NB": "NEW BRUNSWICK",
	"NL": "NEWFOUNDLAND AND LABRADOR", "NS": "NOVA SCOTIA", "NT": "NORTHWEST TERRITORIES",
	"NU": "NUNAVUT", "ON": "ONTARIO", "PE": "PRINCE EDWARD ISLAND", "QC": "QUEBEC",
	"SK": "SASKATCHEWAN", "YT": "YUKON",
	// French names.
	"QC ": "QUÉBEC", "NB ": "NOUVEAU-BRUNSWICK", "NS ": "NOUVELLE-ÉCOSSE", "BC ": "COLOMBIE-BRITANNIQUE",
	"PE ": "ÎLE-DU-PRINCE-ÉDOUARD", "NL ": "TERRE-NEUVE-ET-LABRADOR", "NT ": "TERRITOIRES DU NORD-OUEST",
	"NL  ": "NEWFOUNDLAND", "YT ": "YUKON TERRITORY",
})

// codeTable turns code -> name into a lookup of both the code and the name.
// Trailing spaces in a key mark other names of the same code.
func codeTable(names map[string]string) map[string]string {
	t := make(map[string]string, 2*len(names))
	for code, name := range names {
		code = strings.TrimSpace(code)
		t[code] = code
		t[name] = code
	}
	return t
}
