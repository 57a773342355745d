package phone

import (
	"encoding/csv"
	"regexp"
	"strings"
	"testing"
)

// iso3166Alpha2 is the ISO 3166-1 alpha-2 officially assigned code list (249 codes), plus XK,
// the user-assigned code commonly used for Kosovo.
var iso3166Alpha2 = strings.Fields(`
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ
EC EE EG EH ER ES ET
FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU
ID IE IL IM IN IO IQ IR IS IT
JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ
LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ
OM
PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA
RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
UA UG UM US UY UZ
VA VC VE VG VI VN VU
WF WS
YE YT
ZA ZM ZW
XK`)

// usStatesAndDC are the ISO 3166-2:US codes of the 50 states and the District of Columbia.
var usStatesAndDC = strings.Fields(`
AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC
ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC`)

var usTerritoryCodes = strings.Fields(`AS GU MP PR VI`)

// caSubdivisions are ISO 3166-2:CA: ten provinces and three territories.
var caSubdivisions = strings.Fields(`AB BC MB NB NL NS ON PE QC SK NT NU YT`)

// nanpMembers are the countries and territories that take part in the NANP.
var nanpMembers = strings.Fields(`US CA AG AI AS BB BM BS DM DO GD GU JM KN KY LC MP MS PR SX TC TT VC VG VI`)

func set(codes []string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}

func TestISOListSizes(t *testing.T) {
	if n := len(set(iso3166Alpha2)); n != 250 || n != len(iso3166Alpha2) {
		t.Fatalf("ISO 3166-1 list has %d unique of %d codes, want 250 (249 + XK)", n, len(iso3166Alpha2))
	}
	if n := len(set(usStatesAndDC)); n != 51 {
		t.Fatalf("US list has %d codes, want 51", n)
	}
	if n := len(set(caSubdivisions)); n != 13 {
		t.Fatalf("Canada list has %d codes, want 13", n)
	}
}

// readDataCSV parses an embedded data file independently of the production parser.
func readDataCSV(t *testing.T, data string, wantHeader string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(data))
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 2 {
		t.Fatal("no data rows")
	}
	if got := strings.Join(recs[0], ","); got != wantHeader {
		t.Fatalf("header %q, want %q", got, wantHeader)
	}
	if !strings.HasPrefix(data, "#") {
		t.Fatal("data file must start with a comment naming its sources")
	}
	return recs[1:]
}

func TestNANPDataWellFormed(t *testing.T) {
	if !strings.Contains(nanpCSV, "2026-11-23") || !strings.Contains(nanpCSV, "NANPA") ||
		!strings.Contains(nanpCSV, "Canadian Numbering Administrator") {
		t.Error("nanp_area_codes.csv header must name NANPA, the CNA and the compilation date")
	}
	rows := readDataCSV(t, nanpCSV, "area_code,country,region")
	iso := set(iso3166Alpha2)
	members := set(nanpMembers)
	us, ca, terr := set(usStatesAndDC), set(caSubdivisions), set(usTerritoryCodes)
	npaRE := regexp.MustCompile(`^[2-9][0-9]{2}$`)
	seen := map[string]bool{}
	seenUS, seenCA := map[string]bool{}, map[string]bool{}
	geo := map[string]int{}
	for i, row := range rows {
		line := i + 1
		if len(row) != 3 {
			t.Fatalf("row %d: %d fields", line, len(row))
		}
		npa, country, region := row[0], row[1], row[2]
		if !npaRE.MatchString(npa) {
			t.Errorf("row %d: area code %q is not three digits NXX", line, npa)
		}
		if npa[1:] == "11" {
			t.Errorf("row %d: %s is an N11 service code, not an area code", line, npa)
		}
		if seen[npa] {
			t.Errorf("row %d: duplicate area code %s", line, npa)
		}
		seen[npa] = true
		if country != "" && (!iso[country] || !members[country]) {
			t.Errorf("row %d: %s country %q is not a NANP member's ISO 3166-1 code", line, npa, country)
		}
		if region == "" {
			if country == "US" || country == "CA" {
				if npa[1] != npa[2] && npa != "710" {
					// Only easily recognizable codes (N22..N88 style) and 710 are non-geographic.
					t.Errorf("row %d: geographic %s code %s has no region", line, country, npa)
				}
			}
			continue
		}
		for _, sub := range strings.Split(region, "|") {
			prefix, code, ok := strings.Cut(sub, "-")
			if !ok {
				t.Errorf("row %d: region %q has no '-'", line, sub)
				continue
			}
			switch {
			case prefix == "US" && country == "US" && us[code]:
				seenUS[code] = true
			case prefix == "CA" && country == "CA" && ca[code]:
				seenCA[code] = true
			case prefix == "US" && terr[country] && code == country:
				// US territories: own ISO 3166-1 code, ISO 3166-2:US subdivision.
			default:
				t.Errorf("row %d: %s region %q does not match country %q", line, npa, sub, country)
			}
		}
		geo[country]++
	}
	for _, s := range usStatesAndDC {
		if !seenUS[s] {
			t.Errorf("no area code for US-%s", s)
		}
	}
	for _, s := range caSubdivisions {
		if !seenCA[s] {
			t.Errorf("no area code for CA-%s", s)
		}
	}
	for c := range terr {
		if geo[c] == 0 {
			t.Errorf("no area code for territory %s", c)
		}
	}
	for _, c := range nanpMembers {
		if !strings.Contains(nanpCSV, ","+c+",") {
			t.Errorf("NANP member %s has no area code", c)
		}
	}
	if geo["US"] < 330 {
		t.Errorf("only %d geographic US area codes, want at least 330", geo["US"])
	}
	if geo["CA"] < 40 {
		t.Errorf("only %d geographic Canadian area codes, want at least 40", geo["CA"])
	}
	for _, tf := range []string{"800", "833", "844", "855", "866", "877", "888"} {
		if !seen[tf] {
			t.Errorf("toll-free code %s missing", tf)
		}
	}
}

func TestCallingCodesDataWellFormed(t *testing.T) {
	if !strings.Contains(callingCSV, "2026-11-23") || !strings.Contains(callingCSV, "ITU-T") {
		t.Error("calling_codes.csv header must name the ITU-T source and the compilation date")
	}
	rows := readDataCSV(t, callingCSV, "calling_code,national_prefix,country")
	iso := set(iso3166Alpha2)
	codeRE := regexp.MustCompile(`^[1-9][0-9]{0,2}$`)
	var codes []string
	seen := map[string]bool{}
	for i, row := range rows {
		line := i + 1
		code, np, country := row[0], row[1], row[2]
		if !codeRE.MatchString(code) {
			t.Errorf("row %d: calling code %q", line, code)
		}
		if country != "" && !iso[country] {
			t.Errorf("row %d: country %q is not ISO 3166-1 alpha-2", line, country)
		}
		key := code + "/" + np
		if seen[key] {
			t.Errorf("row %d: duplicate %s", line, key)
		}
		seen[key] = true
		if np == "" {
			codes = append(codes, code)
		} else if country == "" {
			t.Errorf("row %d: range %s without country", line, key)
		}
	}
	// E.164 country codes are prefix-free.
	for _, a := range codes {
		for _, b := range codes {
			if a != b && strings.HasPrefix(b, a) {
				t.Errorf("calling code %s is a prefix of %s", a, b)
			}
		}
	}
	for _, r := range rows {
		if r[1] != "" && !seen[r[0]+"/"] {
			t.Errorf("range %s/%s refers to an unlisted calling code", r[0], r[1])
		}
	}
	if len(codes) < 200 {
		t.Errorf("only %d calling codes", len(codes))
	}
	for _, must := range []string{"1", "7", "20", "44", "49", "86", "91", "352", "880", "998"} {
		if !seen[must+"/"] {
			t.Errorf("calling code %s missing", must)
		}
	}
}

func TestParsersRejectMalformedData(t *testing.T) {
	nanp := []struct{ name, data string }{
		{"empty", ""},
		{"bad header", "npa,country,region\n201,US,US-NJ\n"},
		{"two digits", "area_code,country,region\n20,US,US-NJ\n"},
		{"leading 1", "area_code,country,region\n101,US,US-NJ\n"},
		{"letters", "area_code,country,region\n2O1,US,US-NJ\n"},
		{"duplicate", "area_code,country,region\n201,US,US-NJ\n201,US,US-NJ\n"},
		{"bad country", "area_code,country,region\n201,USA,US-NJ\n"},
		{"lower-case country", "area_code,country,region\n201,us,US-NJ\n"},
		{"region without country", "area_code,country,region\n201,,US-NJ\n"},
		{"region of other country", "area_code,country,region\n201,CA,US-NJ\n"},
		{"bad region", "area_code,country,region\n201,US,NJ\n"},
		{"territory mismatch", "area_code,country,region\n787,PR,US-VI\n"},
		{"extra field", "area_code,country,region\n201,US,US-NJ,x\n"},
	}
	for _, tt := range nanp {
		if _, err := parseNANP(tt.data); err == nil {
			t.Errorf("parseNANP(%s) accepted malformed data", tt.name)
		}
	}
	cc := []struct{ name, data string }{
		{"bad header", "code,np,country\n44,,GB\n"},
		{"leading zero", "calling_code,national_prefix,country\n044,,GB\n"},
		{"four digits", "calling_code,national_prefix,country\n4444,,GB\n"},
		{"duplicate", "calling_code,national_prefix,country\n44,,GB\n44,,GB\n"},
		{"overlap", "calling_code,national_prefix,country\n4,,GB\n44,,GB\n"},
		{"unknown base", "calling_code,national_prefix,country\n44,,GB\n45,1,DK\n"},
		{"range without country", "calling_code,national_prefix,country\n44,,GB\n44,1481,\n"},
		{"bad prefix", "calling_code,national_prefix,country\n44,,GB\n44,x,GG\n"},
		{"bad country", "calling_code,national_prefix,country\n44,,GBR\n"},
	}
	for _, tt := range cc {
		if _, err := parseCallingCodes(tt.data); err == nil {
			t.Errorf("parseCallingCodes(%s) accepted malformed data", tt.name)
		}
	}
	if _, err := parseNANP("# comment\narea_code,country,region\n201,US,US-NJ\n902,CA,CA-NS|CA-PE\n787,PR,US-PR\n800,,\n"); err != nil {
		t.Errorf("parseNANP rejected good data: %v", err)
	}
}
