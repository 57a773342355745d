package phone

import (
	"reflect"
	"testing"
)

func TestCountry(t *testing.T) {
	tests := []struct {
		e164, want string
	}{
		{"+442079460958", "GB"},
		{"+447700900123", "GB"},
		{"+33142685300", "FR"},
		{"+49301234567", "DE"},
		{"+390669821234", "IT"},
		{"+34912345678", "ES"},
		{"+31201234567", "NL"},
		{"+353112345678", "IE"},
		{"+61212345678", "AU"},
		{"+81312345678", "JP"},
		{"+919876543210", "IN"},
		{"+5511912345678", "BR"},
		{"+525512345678", "MX"},
		{"+27211234567", "ZA"},
		{"+97141234567", "AE"},
		{"+6591234567", "SG"},
		{"+64912345678", "NZ"},
		{"+2348012345678", "NG"},
		{"+35212345678", "LU"},
		{"+35312345678", "IE"},
		{"+3545551234", "IS"},
		{"+38344123456", "XK"},
		{"+2476123", ""}, // too short to be E.164 here
		{"+24766123456", "SH"},
		// Shared calling codes.
		{"+74951234567", "RU"},
		{"+78121234567", "RU"},
		{"+77011234567", "KZ"},
		{"+77172123456", "KZ"},
		{"+76123456789", "KZ"},
		{"+4779021234", "SJ"},
		{"+4722123456", "NO"},
		{"+262269612345", "YT"},
		{"+262639123456", "YT"},
		{"+262262123456", "RE"},
		{"+35818123456", "AX"},
		{"+358912345678", "FI"},
		{"+5997151234", "BQ"},
		{"+59994612345", "CW"},
		{"+441481123456", "GB"}, // Guernsey range deliberately reported as GB
		// NANP members.
		{"+14155550100", "US"},
		{"+14165550100", "CA"},
		{"+18765550100", "JM"},
		{"+16585550100", "JM"},
		{"+17875550100", "PR"},
		{"+19395550100", "PR"},
		{"+18095550100", "DO"},
		{"+18295550100", "DO"},
		{"+12425550100", "BS"},
		{"+12465550100", "BB"},
		{"+14415550100", "BM"},
		{"+16715550100", "GU"},
		{"+13405550100", "VI"},
		{"+16705550100", "MP"},
		{"+16845550100", "AS"},
		{"+17215550100", "SX"},
		{"+18685550100", "TT"},
		// Non-geographic and unknown.
		{"+18005550100", ""},
		{"+18885550100", ""},
		{"+19005550100", ""},
		{"+15005550100", ""},
		{"+17105550100", "US"},
		{"+16005550100", "CA"},
		{"+12115550100", ""}, // N11 is not an area code
		{"+19995550100", ""}, // unassigned
		{"+80012345678", ""},
		{"+88213456789", ""},
		{"+87012345678", ""},
		{"+99912345678", ""},
		// Malformed input.
		{"", ""},
		{"+", ""},
		{"14155550100", ""},
		{"+1415555010", ""},
		{"+141555501000", ""},
		{"+1415555O100", ""},
		{"+0442079460958", ""},
		{"+4420794609581234", ""},
		{"(415) 555-0100", ""},
	}
	for _, tt := range tests {
		if got := Country(tt.e164); got != tt.want {
			t.Errorf("Country(%q) = %q, want %q", tt.e164, got, tt.want)
		}
	}
}

func TestNANPLookup(t *testing.T) {
	tests := []struct {
		npa, country, region string
	}{
		// US states, DC and overlays, including recent ones.
		{"201", "US", "US-NJ"},
		{"202", "US", "US-DC"},
		{"771", "US", "US-DC"},
		{"205", "US", "US-AL"},
		{"483", "US", "US-AL"},
		{"907", "US", "US-AK"},
		{"808", "US", "US-HI"},
		{"212", "US", "US-NY"},
		{"624", "US", "US-NY"},
		{"279", "US", "US-CA"},
		{"350", "US", "US-CA"},
		{"357", "US", "US-CA"},
		{"369", "US", "US-CA"},
		{"415", "US", "US-CA"},
		{"738", "US", "US-CA"},
		{"837", "US", "US-CA"},
		{"445", "US", "US-PA"},
		{"582", "US", "US-PA"},
		{"835", "US", "US-PA"},
		{"472", "US", "US-NC"},
		{"645", "US", "US-FL"},
		{"656", "US", "US-FL"},
		{"728", "US", "US-FL"},
		{"826", "US", "US-VA"},
		{"948", "US", "US-VA"},
		{"861", "US", "US-IL"},
		{"464", "US", "US-IL"},
		{"943", "US", "US-GA"},
		{"227", "US", "US-MD"},
		{"274", "US", "US-WI"},
		{"353", "US", "US-WI"},
		{"326", "US", "US-OH"},
		{"436", "US", "US-OH"},
		{"924", "US", "US-MN"},
		{"729", "US", "US-TN"},
		{"679", "US", "US-MI"},
		{"621", "US", "US-TX"},
		{"983", "US", "US-CO"},
		// Canada.
		{"416", "CA", "CA-ON"},
		{"742", "CA", "CA-ON"},
		{"753", "CA", "CA-ON"},
		{"382", "CA", "CA-ON"},
		{"683", "CA", "CA-ON"},
		{"263", "CA", "CA-QC"},
		{"354", "CA", "CA-QC"},
		{"468", "CA", "CA-QC"},
		{"873", "CA", "CA-QC"},
		{"368", "CA", "CA-AB"},
		{"825", "CA", "CA-AB"},
		{"474", "CA", "CA-SK"},
		{"584", "CA", "CA-MB"},
		{"428", "CA", "CA-NB"},
		{"879", "CA", "CA-NL"},
		{"236", "CA", "CA-BC"},
		{"250", "CA", "CA-BC"},
		{"257", "CA", "CA-BC"},
		{"604", "CA", "CA-BC"},
		{"672", "CA", "CA-BC"},
		{"778", "CA", "CA-BC"},
		{"902", "CA", ""}, // NS and PE
		{"782", "CA", ""}, // NS and PE
		{"867", "CA", ""}, // YT, NT and NU
		// US territories and Caribbean members.
		{"787", "PR", "US-PR"},
		{"939", "PR", "US-PR"},
		{"340", "VI", "US-VI"},
		{"671", "GU", "US-GU"},
		{"670", "MP", "US-MP"},
		{"684", "AS", "US-AS"},
		{"876", "JM", ""},
		{"809", "DO", ""},
		{"849", "DO", ""},
		{"242", "BS", ""},
		{"268", "AG", ""},
		{"284", "VG", ""},
		{"345", "KY", ""},
		{"473", "GD", ""},
		{"649", "TC", ""},
		{"664", "MS", ""},
		{"758", "LC", ""},
		{"767", "DM", ""},
		{"784", "VC", ""},
		{"869", "KN", ""},
		// Non-geographic.
		{"800", "", ""},
		{"833", "", ""},
		{"844", "", ""},
		{"855", "", ""},
		{"866", "", ""},
		{"877", "", ""},
		{"888", "", ""},
		{"900", "", ""},
		{"700", "", ""},
		{"500", "", ""},
		{"533", "", ""},
		{"710", "US", ""},
		{"600", "CA", ""},
		{"622", "CA", ""},
		// Not in service.
		{"211", "", ""},
		{"555", "", ""},
		{"999", "", ""},
	}
	for _, tt := range tests {
		e164 := "+1" + tt.npa + "5550100"
		c, r := Lookup(e164)
		if c != tt.country || r != tt.region {
			t.Errorf("Lookup(%q) = %q, %q; want %q, %q", e164, c, r, tt.country, tt.region)
		}
		if got := Country(e164); got != tt.country {
			t.Errorf("Country(%q) = %q, want %q", e164, got, tt.country)
		}
		if got := Region(e164); got != tt.region {
			t.Errorf("Region(%q) = %q, want %q", e164, got, tt.region)
		}
	}
}

func TestRegionOutsideNANP(t *testing.T) {
	for _, e := range []string{"+442079460958", "+33142685300", "+77011234567", "not a number"} {
		if r := Region(e); r != "" {
			t.Errorf("Region(%q) = %q, want empty", e, r)
		}
		if rs := Regions(e); rs != nil {
			t.Errorf("Regions(%q) = %v, want nil", e, rs)
		}
	}
}

func TestRegions(t *testing.T) {
	tests := []struct {
		e164 string
		want []string
	}{
		{"+19025550100", []string{"CA-NS", "CA-PE"}},
		{"+17825550100", []string{"CA-NS", "CA-PE"}},
		{"+18675550100", []string{"CA-NT", "CA-NU", "CA-YT"}},
		{"+14155550100", []string{"US-CA"}},
		{"+17875550100", []string{"US-PR"}},
		{"+18005550100", nil},
		{"+18765550100", nil},
	}
	for _, tt := range tests {
		got := Regions(tt.e164)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Regions(%q) = %v, want %v", tt.e164, got, tt.want)
		}
	}
	// The result is a copy: changing it must not change the table.
	Regions("+19025550100")[0] = "XX-XX"
	if got := Regions("+19025550100"); got[0] != "CA-NS" {
		t.Fatalf("Regions result aliases the table: %v", got)
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		Lookup("+14155550100")
		Lookup("+77011234567")
		Lookup("+262269612345")
		Lookup("garbage")
	})
	if allocs != 0 {
		t.Fatalf("Lookup allocated %v times, want 0", allocs)
	}
}

func TestNormalizeThenLookup(t *testing.T) {
	tests := []struct {
		raw, country, region string
	}{
		{"sip:+14155550100@gw.example.com;user=phone", "US", "US-CA"},
		{"(416) 555-0100", "CA", "CA-ON"},
		{"1-876-555-0100", "JM", ""},
		{"whatsapp:+447700900123", "GB", ""},
		{"0033 1 42 68 53 00", "FR", ""},
		{"tel:+1-800-555-0100", "", ""},
	}
	for _, tt := range tests {
		e, ok := Normalize(tt.raw)
		if !ok {
			t.Fatalf("Normalize(%q) failed", tt.raw)
		}
		if c, r := Lookup(e); c != tt.country || r != tt.region {
			t.Errorf("Lookup(Normalize(%q)=%q) = %q, %q; want %q, %q", tt.raw, e, c, r, tt.country, tt.region)
		}
	}
}
