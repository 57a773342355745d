package phone

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// usTerritories are the NANP members that have their own ISO 3166-1 code but are also
// subdivisions of the United States in ISO 3166-2:US; their rows carry region "US-<code>".
var usTerritories = map[string]bool{"AS": true, "GU": true, "MP": true, "PR": true, "VI": true}

// parseNANP reads data/nanp_area_codes.csv into a table indexed by area code.
func parseNANP(data string) (*[1000]npaEntry, error) {
	recs, err := readCSV(data, "area_code,country,region")
	if err != nil {
		return nil, err
	}
	var t [1000]npaEntry
	var seen [1000]bool
	for _, r := range recs {
		line, npa, country, region := r.line, r.fields[0], r.fields[1], r.fields[2]
		if len(npa) != 3 || !allDigits(npa) || npa[0] < '2' {
			return nil, fmt.Errorf("line %d: area code %q is not NXX with N in 2-9", line, npa)
		}
		i := prefix3(npa[0], npa[1], npa[2])
		if seen[i] {
			return nil, fmt.Errorf("line %d: duplicate area code %s", line, npa)
		}
		seen[i] = true
		if country != "" && !isAlpha2(country) {
			return nil, fmt.Errorf("line %d: country %q is not an ISO 3166-1 alpha-2 code", line, country)
		}
		e := npaEntry{country: country}
		if region != "" {
			if country == "" {
				return nil, fmt.Errorf("line %d: region %q without a country", line, region)
			}
			for _, sub := range strings.Split(region, "|") {
				if !isSubdivision(sub) {
					return nil, fmt.Errorf("line %d: region %q is not an ISO 3166-2 code", line, sub)
				}
				if sub[:2] != country && !(sub[:2] == "US" && usTerritories[country] && sub[3:] == country) {
					return nil, fmt.Errorf("line %d: region %s does not belong to country %s", line, sub, country)
				}
				e.regions = append(e.regions, sub)
			}
			if len(e.regions) == 1 {
				e.region = e.regions[0]
			}
		}
		t[i] = e
	}
	return &t, nil
}

// parseCallingCodes reads data/calling_codes.csv into a table indexed by the first three
// digits of an E.164 number.
func parseCallingCodes(data string) (*[1000]ccEntry, error) {
	recs, err := readCSV(data, "calling_code,national_prefix,country")
	if err != nil {
		return nil, err
	}
	var t [1000]ccEntry
	base := map[string]bool{}
	// Calling codes first, so that the ranges below can refer to them wherever they appear.
	for _, r := range recs {
		line, code, np, country := r.line, r.fields[0], r.fields[1], r.fields[2]
		if len(code) < 1 || len(code) > 3 || !allDigits(code) || code[0] == '0' {
			return nil, fmt.Errorf("line %d: calling code %q is not 1-3 digits", line, code)
		}
		if np != "" && !allDigits(np) {
			return nil, fmt.Errorf("line %d: national prefix %q is not digits", line, np)
		}
		if country != "" && !isAlpha2(country) {
			return nil, fmt.Errorf("line %d: country %q is not an ISO 3166-1 alpha-2 code", line, country)
		}
		if np != "" {
			continue
		}
		if base[code] {
			return nil, fmt.Errorf("line %d: duplicate calling code %s", line, code)
		}
		base[code] = true
		lo, hi := span3(code)
		for i := lo; i < hi; i++ {
			if t[i].ccLen != 0 {
				return nil, fmt.Errorf("line %d: calling code %s overlaps another code", line, code)
			}
			t[i] = ccEntry{ccLen: uint8(len(code)), country: country}
		}
	}
	for _, r := range recs {
		line, code, np, country := r.line, r.fields[0], r.fields[1], r.fields[2]
		if np == "" {
			continue
		}
		if !base[code] {
			return nil, fmt.Errorf("line %d: range for unknown calling code %s", line, code)
		}
		if country == "" {
			return nil, fmt.Errorf("line %d: range %s %s without a country", line, code, np)
		}
		p := code + np
		if len(p) > 15 {
			return nil, fmt.Errorf("line %d: range %s %s is too long", line, code, np)
		}
		if len(p) <= 3 {
			lo, hi := span3(p)
			for i := lo; i < hi; i++ {
				t[i].country = country
			}
			continue
		}
		e := &t[prefix3(p[0], p[1], p[2])]
		for _, o := range e.overrides {
			if o.prefix == p {
				return nil, fmt.Errorf("line %d: duplicate range %s %s", line, code, np)
			}
		}
		e.overrides = append(e.overrides, prefixCountry{prefix: p, country: country})
		sort.SliceStable(e.overrides, func(a, b int) bool { return len(e.overrides[a].prefix) > len(e.overrides[b].prefix) })
	}
	return &t, nil
}

type csvRecord struct {
	line   int
	fields []string
}

// readCSV parses data, skipping '#' comment lines, checks the header and returns the data rows.
func readCSV(data, header string) ([]csvRecord, error) {
	want := strings.Split(header, ",")
	r := csv.NewReader(strings.NewReader(data))
	r.Comment = '#'
	r.FieldsPerRecord = len(want)
	var recs []csvRecord
	first := true
	for {
		fields, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if first {
			first = false
			if strings.Join(fields, ",") != header {
				return nil, fmt.Errorf("header is %q, want %q", strings.Join(fields, ","), header)
			}
			continue
		}
		line, _ := r.FieldPos(0)
		recs = append(recs, csvRecord{line: line, fields: fields})
	}
	if first {
		return nil, errors.New("empty file")
	}
	return recs, nil
}

// span3 returns the half-open range of three-digit indexes whose decimal form starts with p (1-3 digits).
func span3(p string) (lo, hi int) {
	v := 0
	for i := 0; i < len(p); i++ {
		v = v*10 + int(p[i]-'0')
	}
	scale := 1
	for i := len(p); i < 3; i++ {
		scale *= 10
	}
	return v * scale, (v + 1) * scale
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isAlpha2(s string) bool {
	return len(s) == 2 && isUpper(s[0]) && isUpper(s[1])
}

// isSubdivision checks the ISO 3166-2 shape: alpha-2 country, '-', 1-3 upper-case letters or digits.
func isSubdivision(s string) bool {
	if len(s) < 4 || len(s) > 6 || !isAlpha2(s[:2]) || s[2] != '-' {
		return false
	}
	for i := 3; i < len(s); i++ {
		if !isUpper(s[i]) && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
