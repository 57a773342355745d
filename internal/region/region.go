// Package region normalises the places people and vendors write
// (country names and codes, US states and Canadian provinces by code or
// name) to ISO 3166-1 and 3166-2 codes, the form consent policies use.
package region

import "strings"

// Country normalises a country as people type it into an address:
// an ISO 3166-1 alpha-2 code in any case, or one of a few common names and
// alpha-3 codes. Anything else gives "" (no hint rather than a wrong one).
func Country(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) == 2 {
		if s == "UK" {
			return "GB"
		}
		if IsCountry(s) {
			return s
		}
		return ""
	}
	return countryNames[strings.NewReplacer(".", "", "  ", " ").Replace(s)]
}

// Subdivision resolves a state or province of a US or Canadian address to
// its ISO 3166-2 code, also accepting a code already in that form for any
// country ("DE-BY"). US territories take their own country code, as the
// phone package reports them (Puerto Rico: country PR, region US-PR). It
// returns the (possibly adjusted) country and the region.
func Subdivision(country, state string) (string, string) {
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

// IsAlpha reports whether s is ASCII letters only.
func IsAlpha(s string) bool {
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

// IsCountry reports whether code is an officially assigned ISO 3166-1
// alpha-2 code.
func IsCountry(code string) bool {
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

// Parse reads a location as a vendor field or a customer-defined attribute
// holds it: an ISO 3166-2 code ("US-CA", "DE-BY"), a US state, district or
// territory by code or name ("CA", "California"; a bare two-letter code is a
// US state when one has that code, as contact-center data usually is), a
// Canadian province by name, or a country by code or name ("GB",
// "Germany"). It returns "" when it cannot tell (no hint rather than a wrong
// one).
func Parse(s string) string {
	u := strings.ToUpper(strings.TrimSpace(s))
	if u == "" {
		return ""
	}
	if cc, sub, ok := strings.Cut(u, "-"); ok && len(cc) == 2 && IsCountry(cc) && sub != "" && len(sub) <= 3 && isAlnum(sub) {
		return u
	}
	if code, ok := usStates[u]; ok {
		if usTerritories[code] {
			return code // territories are countries of their own in ISO 3166-1
		}
		return "US-" + code
	}
	if code, ok := caProvinces[u]; ok && len(u) > 2 {
		return "CA-" + code
	}
	return Country(u)
}
