package phone

import (
	_ "embed"
	"strings"
)

//go:embed data/nanp_area_codes.csv
var nanpCSV string

//go:embed data/calling_codes.csv
var callingCSV string

// npaEntry is what the NANP table knows about one area code.
type npaEntry struct {
	country string   // ISO 3166-1 alpha-2, "" when shared by all NANP members or unknown
	region  string   // ISO 3166-2, "" unless the code serves exactly one subdivision
	regions []string // every ISO 3166-2 subdivision the code serves (shared overlays list several)
}

// ccEntry describes the calling code that every E.164 number starting with a given
// three-digit prefix belongs to.
type ccEntry struct {
	ccLen     uint8           // length of the calling code; 0 when no assigned code matches
	country   string          // ISO 3166-1 alpha-2 of the code's main country, "" if non-geographic
	overrides []prefixCountry // longer prefixes that belong to another country, longest first
}

type prefixCountry struct {
	prefix  string // digits of the E.164 number, without '+'
	country string
}

var (
	// nanpTable is indexed by the three-digit NPA.
	nanpTable *[1000]npaEntry
	// callingTable is indexed by the first three digits of an E.164 number (without '+').
	callingTable *[1000]ccEntry
)

func init() {
	var err error
	if nanpTable, err = parseNANP(nanpCSV); err != nil {
		panic("phone: embedded data/nanp_area_codes.csv: " + err.Error())
	}
	if callingTable, err = parseCallingCodes(callingCSV); err != nil {
		panic("phone: embedded data/calling_codes.csv: " + err.Error())
	}
}

// Country returns the ISO 3166-1 alpha-2 country for an E.164 number ("+44..." -> "GB"), using the longest matching ITU calling code;
// for +1 numbers the NANP area code decides (US, CA, or the Caribbean/Pacific NANP members such as JM, PR (treat PR as "PR"), DO, BS...).
// Returns "" when unknown, or for non-geographic codes.
//
// The input must already be in E.164 form (as returned by Normalize); anything else gives "".
// Shared calling codes resolve to their main country except for these ranges:
// +76/+77 KZ, +4779 SJ, +262269/+262639 YT, +35818 AX, +5993/+5994/+5997 BQ.
// Guernsey, Jersey and the Isle of Man (+44), Vatican City (+39), Cocos and Christmas Islands (+61),
// Saint Barthélemy and Saint Martin (+590), Western Sahara (+212) and Tristan da Cunha (+290) are
// reported as their main country. +247 Ascension is "SH" and +383 Kosovo the user-assigned "XK".
// The US territories served by the NANP report their own ISO 3166-1 code (PR, GU, VI, AS, MP).
func Country(e164 string) string {
	c, _ := Lookup(e164)
	return c
}

// Region returns an ISO 3166-2 subdivision for US and Canadian numbers from the NANP area code ("+14155550100" -> "US-CA", "+14165550100" -> "CA-ON"), "" otherwise
// (toll-free 800/888/877/866/855/844/833, non-geographic 500/521-533/600/700/900 etc. give "" region but country "US" only where the code is US-only; toll-free gives country "" since it is shared by all NANP members).
//
// US territories give their ISO 3166-2:US code ("+17875550100" -> country "PR", region "US-PR").
// Area codes that serve more than one subdivision (902 and 782: Nova Scotia and Prince Edward Island;
// 867: Yukon, Northwest Territories and Nunavut) give "" because the code alone cannot tell which one
// applies; Regions lists the candidates.
func Region(e164 string) string {
	_, r := Lookup(e164)
	return r
}

// Lookup returns both at once without repeated work.
// It does not allocate.
func Lookup(e164 string) (country, region string) {
	if !isE164(e164) {
		return "", ""
	}
	if e164[1] == '1' {
		if len(e164) != 12 {
			return "", ""
		}
		e := &nanpTable[prefix3(e164[2], e164[3], e164[4])]
		return e.country, e.region
	}
	e := &callingTable[prefix3(e164[1], e164[2], e164[3])]
	if e.ccLen == 0 {
		return "", ""
	}
	for _, o := range e.overrides {
		if strings.HasPrefix(e164[1:], o.prefix) {
			return o.country, ""
		}
	}
	return e.country, ""
}

// Regions returns every ISO 3166-2 subdivision the NANP area code of an E.164 number serves:
// one element for most codes, several for shared codes such as 902 (["CA-NS", "CA-PE"]),
// and nil for numbers outside +1 or codes without a subdivision. The slice is a fresh copy.
func Regions(e164 string) []string {
	if !isE164(e164) || e164[1] != '1' || len(e164) != 12 {
		return nil
	}
	rs := nanpTable[prefix3(e164[2], e164[3], e164[4])].regions
	if len(rs) == 0 {
		return nil
	}
	return append([]string(nil), rs...)
}

// isE164 reports whether s is '+' followed by 8 to 15 digits, the first not 0.
func isE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// prefix3 turns three ASCII digits into an index 0-999.
func prefix3(a, b, c byte) int {
	return int(a-'0')*100 + int(b-'0')*10 + int(c-'0')
}
