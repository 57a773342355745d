package tcf

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Test vectors. Each comment names where the string came from and where the
// expected values came from. "Cross-checked" means the values were not
// asserted by the source and were confirmed with an independent, string-based
// decoder written from the specification while developing this package.
const (
	// TCF v2 spec, "TC String Format" section (Consent string and vendor list
	// formats v2.md, InteractiveAdvertisingBureau/GDPR-Transparency-and-
	// Consent-Framework @10b489e). Values cross-checked.
	vecSpecExample = "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA.YAAAAAAAAAAA"

	// GPP "Consent String Specification.md", GPP String Example 1
	// (InteractiveAdvertisingBureau/Global-Privacy-Platform @b27beb4), the
	// TCF section. Values cross-checked.
	vecGPPSpecExample = "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"

	// iabtcf-java TCStringV2Test.testCanConstructTCModelFromBase64String
	// (InteractiveAdvertisingBureau/iabtcf-java @1bc03e6); values asserted
	// there.
	vecJavaBasic = "COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA"

	// iabtcf-java TCStringV2Test.testCanParseAllParts: core, DisclosedVendors,
	// AllowedVendors and a '='-padded PublisherTC segment. Vendor sets and
	// disclosed vendors asserted in testConstructConsentsFromBitFields and
	// testCanParseDisclosedAndAllowedVendors; publisher TC cross-checked.
	vecJavaAllParts = "COrEAV4OrXx94ACABBENAHCIAD-AAAAAAACAAxAAAAgAIAwgAgAAAAEAgQAAAAAEAYQAQAAAACAAAABAAA.IBAgAAAgAIAwgAgAAAAEAAAACA.QAagAQAgAIAwgA.cAAAAAAAITg="

	// iabtcf-java TCStringV2Test.testCanParseRangeEncodedVendorLegitimateInterests;
	// LI = {128} asserted there, consents = {127} cross-checked.
	vecJavaRangeLI = "COv__-wOv__-wC2AAAENAPCgAAAAAAAAAAAAA_wAQA_gEBABAEAAAA"

	// iabtcf-java TCStringV2Test.testRange; consents {702,703} and {703}
	// asserted there.
	vecJavaRange2 = "COwBOpCOwBOpCLqAAAENAPCAAAAAAAAAAAAAFfwAYFfAV-BVkAGBVYFWAAA.IFoEUQQgAIQwgIwQABAEAAAAOIAACAIAAAAQAIAgEAACEAAAAAgAQBAAAAAAAGBAAgAAAAAAAFAAECAAAgAAQARAEQAAAAAJAAIAAgAAAYQEAAAQmAgBC3ZAYzUw"
	vecJavaRange1 = "COwBOpCOwBOpCLqAAAENAPCAAAAAAAAAAAAAFfwAQFfgUbABAUaAAA"

	// iabtcf-java TCStringV2Test.testPurposesConsent; purposes 1 and 2
	// asserted there.
	vecJavaPurposes = "COwxsONOwxsONKpAAAENAdCAAMAAAAAAAAAAAAAAAAAA"

	// iabgpp-java GppModelTest.testDecodeTcfEuV2 (IABTechLab/iabgpp-java
	// @a51d55f), the TCF EU v2 section; values asserted there.
	vecGPPJavaTCF = "CPSG_8APSG_8ANwAAAENAwCAAAAAAAAAAAAAAAAAAAAA.QAAA.IAAA"
	// iabgpp-java GppModelTest.testDecode1/2/3: vendor consents [28], [29]
	// (range) and [1, 173, 722] (range) asserted there.
	vecGPPJavaVendors28  = "CPSG_8APSG_8AAAAAAENAACAAAAAAAAAAAAAAOAAAABAAAAA.QAAA.IAAA"
	vecGPPJavaVendors29  = "CPSG_8APSG_8AAAAAAENAACAAAAAAAAAAAAAAOwAQAOgAAAA.QAAA.IAAA"
	vecGPPJavaVendors722 = "CPSG_8APSG_8AAAAAAENAACAAAAAAAAAAAAAFpQAwAAgCtAWkAAAAAAA.QAAA.IAAA"

	// iabtcf-es core/test/ReportedIssues.test.ts "201 unable to decode valid
	// TCF2 String" (InteractiveAdvertisingBureau/iabtcf-es @839b955): must
	// decode; publisher restriction (purpose 1, require consent) vendors
	// [7, 20, 71, 122, 140, 183] asserted there; other values cross-checked.
	vecIssue201 = "CO4VGswO4VGswAfZCBDEAzCsAP_AAH_AAAigGUNf_X9fb2vj-_599_t0eY1f9_63t-wzjheMs-8NyZ-X_J4Wv2MyvB34JqQKGRgkunLBAQdtHGncTQgBwIlViTLMY02MjzNKJrJEilsbe2dYGH9vn8XT_ZKZ70-_v__7v3___33_5Ayhr_6_r7e18f3_Pvv9ujzGr_v_W9v2GccLxln3huTPy_5PC1-xmV4O_BNSBQyMEl05YICDto407iaEAOBEqsSZZjGmxkeZpRNZIkUtjb2zrAw_t8_i6f7JTPen39___d-___--__ICgKAOAAcAA4AFAAjgB6AEYALcGACAW0AtoJAHAAOAAcACgARwA9ACMAFuFABALaAW0GgDgAHAAOABQAI4AegBGAC3DgAgFtALaEQBwADgAHAAoAEcAPQAjABbiQAQC2gFtCoA4ABwADgAUACOAHoARgAtxYAIBbQC2hkAcAA4ABwAKABHAD0AIwAW40AEAtoBbQ6AOAAcAA4AFAAjgB6AEYALceACAW0AtohAHAAOAAcACgARwA9ACMAFuRABALaAW0SgDgAHAAOABQAI4AegBGAC3JgAgFtALaKQBwADgAHAAoAEcAPQAjABblQAQC2gFtA"

	// iabtcf-es core/test/ReportedIssues.test.ts "142 it should throw an
	// error if the bitfield length does not match the maxId". iabtcf-es
	// rejects the whole string; the short BitField is in the Disclosed Vendors
	// segment, which here must not make decoding fail, so the core decodes
	// and DisclosedVendors is nil. Core values cross-checked.
	vecIssue142 = "CLSYjTaOngnCIAOABBENAXCMAGOAABBAAA7IA5n-m7fP6_3fbqVv6E__PoA5Aqff3aJx8tv_1967rfnQEQoAIAAQCrwkAEABAcACABIMACAAuApEVABABUSABgBCAVSAtIoACACIArYQAHACgAFgAVwBJgDcAI7AWgMAAgBiKgAgBMgFfKQAQBRkQAQA4AFiBAAoA-AEVAJlAVgAtYcACAJcAr4eABAK8OgBgFzAOmAqwgABAWyA.IFukWSQh"

	// iabtcf-es core/test/ReportedIssues.test.ts "156 it should auto detect 1
	// version" and "191 ... TCF 1.1 consentString": TCF v1.1 strings, which
	// this package rejects.
	vecIssue156V1 = "BOhwdphOxFC7tAHABBFRC--AAAAuhr_7__7-_9_-_f__9uj3Or_v_f__32ccL59v_h_7v-_7fi_20nV4u_1vft9yfk1-5ctDztp507iakivXmqdeb9v_nz3_5pxP78k89r7337Ew_v8_v-b7BCON_YxEiA"
	vecIssue191V1 = "BO2e4qiO2e4qiB9ABADEDS-AAAAxKABgACBiQA"
)

func mustDecode(t *testing.T, s string) *Consent {
	t.Helper()
	c, err := Decode(s)
	require.NoError(t, err)
	require.NotNil(t, c)
	return c
}

func purposes(mask uint64, width int) []int {
	var out []int
	for i := 1; i <= width; i++ {
		if mask>>(i-1)&1 == 1 {
			out = append(out, i)
		}
	}
	return out
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestDecodeSpecExample(t *testing.T) {
	c := mustDecode(t, vecSpecExample)
	assert.Equal(t, 2, c.Version)
	assert.Equal(t, utc("2025-06-03T00:00:00Z"), c.Created)
	assert.Equal(t, utc("2025-06-03T00:00:00Z"), c.LastUpdated)
	assert.Equal(t, 880, c.CMPID)
	assert.Equal(t, 0, c.CMPVersion)
	assert.Equal(t, 0, c.ConsentScreen)
	assert.Equal(t, "EN", c.ConsentLanguage)
	assert.Equal(t, 48, c.VendorListVersion)
	assert.Equal(t, 2, c.TCFPolicyVersion)
	assert.True(t, c.IsServiceSpecific)
	assert.False(t, c.UseNonStandardTexts)
	assert.Zero(t, c.SpecialFeatureOptIns)
	assert.Zero(t, c.PurposesConsent)
	assert.Zero(t, c.PurposesLITransparency)
	assert.False(t, c.PurposeOneTreatment)
	assert.Equal(t, "DE", c.PublisherCC)

	assert.Equal(t, 4, c.VendorConsents.MaxVendorID())
	assert.False(t, c.VendorConsents.IsRangeEncoded())
	assert.Equal(t, []int{1, 2, 3, 4}, c.VendorConsents.IDs())
	assert.True(t, c.VendorConsent(1))
	assert.True(t, c.VendorConsent(4))
	assert.False(t, c.VendorConsent(5))
	assert.Equal(t, 0, c.VendorLegitimateInterests.MaxVendorID())
	assert.Empty(t, c.VendorLegitimateInterests.IDs())
	assert.Empty(t, c.PublisherRestrictions)

	require.NotNil(t, c.DisclosedVendors)
	assert.True(t, c.DisclosedVendors.IsRangeEncoded())
	assert.Equal(t, 404, c.DisclosedVendors.MaxVendorID())
	assert.Equal(t, []int{1, 2, 3, 4, 5, 100, 404}, c.DisclosedVendors.IDs())

	require.NotNil(t, c.PublisherTC)
	assert.Equal(t, PublisherTC{}, *c.PublisherTC)
}

func TestDecodeGPPSpecExample(t *testing.T) {
	c := mustDecode(t, vecGPPSpecExample)
	assert.Equal(t, utc("2022-04-20T22:00:00Z"), c.Created)
	assert.Equal(t, 31, c.CMPID)
	assert.Equal(t, 640, c.CMPVersion)
	assert.Equal(t, 1, c.ConsentScreen)
	assert.Equal(t, "EN", c.ConsentLanguage)
	assert.Equal(t, 126, c.VendorListVersion)
	assert.Equal(t, 2, c.TCFPolicyVersion)
	assert.True(t, c.IsServiceSpecific)
	assert.Equal(t, "DE", c.PublisherCC)
	assert.Zero(t, c.PurposesConsent)
	assert.Equal(t, 0, c.VendorConsents.Len())
	assert.Nil(t, c.DisclosedVendors)
	assert.Nil(t, c.PublisherTC)
}

func TestDecodeJavaBasic(t *testing.T) {
	c := mustDecode(t, vecJavaBasic)
	assert.Equal(t, 2, c.Version)
	assert.Equal(t, utc("2020-01-26T17:01:00Z"), c.Created)
	assert.Equal(t, utc("2021-02-02T17:01:00Z"), c.LastUpdated)
	assert.Equal(t, 675, c.CMPID)
	assert.Equal(t, 2, c.CMPVersion)
	assert.Equal(t, 1, c.ConsentScreen)
	assert.Equal(t, 15, c.VendorListVersion)
	assert.Equal(t, 2, c.TCFPolicyVersion)
	assert.Equal(t, "EN", c.ConsentLanguage)
	assert.Equal(t, "AA", c.PublisherCC)
	assert.False(t, c.IsServiceSpecific)
	assert.True(t, c.PurposeOneTreatment)
	assert.False(t, c.UseNonStandardTexts)
	assert.Equal(t, []int{1}, purposes(uint64(c.SpecialFeatureOptIns), 12))
	assert.True(t, c.SpecialFeatureOptIn(1))
	assert.False(t, c.SpecialFeatureOptIn(2))
	assert.Equal(t, []int{2, 10}, purposes(uint64(c.PurposesConsent), 24))
	assert.Equal(t, []int{2, 9}, purposes(uint64(c.PurposesLITransparency), 24))
	assert.True(t, c.PurposeConsent(2))
	assert.True(t, c.PurposeConsent(10))
	assert.False(t, c.PurposeConsent(1))
	assert.True(t, c.PurposeLITransparency(9))
	assert.False(t, c.PurposeLITransparency(10))
}

func TestDecodeJavaAllParts(t *testing.T) {
	c := mustDecode(t, vecJavaAllParts)
	assert.Equal(t, []int{3, 4, 5, 6, 7, 8, 9}, purposes(uint64(c.PurposesConsent), 24))
	assert.Equal(t, []int{23, 37, 47, 48, 53, 65, 98}, c.VendorConsents.IDs())
	assert.Equal(t, []int{37, 47, 48, 53, 65, 98, 129}, c.VendorLegitimateInterests.IDs())
	assert.True(t, c.VendorConsent(98))
	assert.False(t, c.VendorConsent(129))
	assert.True(t, c.VendorLegitimateInterest(129))
	require.NotNil(t, c.DisclosedVendors)
	assert.Equal(t, []int{23, 37, 47, 48, 53, 65, 98, 129}, c.DisclosedVendors.IDs())
	// The AllowedVendors segment (type 2, TCF v2.0 only) is skipped.
	require.NotNil(t, c.PublisherTC)
	assert.Equal(t, PublisherTC{
		PurposesConsent:              1 << 0,  // purpose 1
		PurposesLITransparency:       1 << 23, // purpose 24
		NumCustomPurposes:            2,
		CustomPurposesConsent:        1 << 1,      // custom purpose 2
		CustomPurposesLITransparency: 1<<0 | 1<<1, // custom purposes 1, 2
	}, *c.PublisherTC)
}

func TestDecodeRangeEncodedVectors(t *testing.T) {
	c := mustDecode(t, vecJavaRangeLI)
	assert.True(t, c.VendorLegitimateInterests.IsRangeEncoded())
	assert.Equal(t, []int{128}, c.VendorLegitimateInterests.IDs())
	assert.Equal(t, []int{127}, c.VendorConsents.IDs())

	c = mustDecode(t, vecJavaRange2)
	assert.Equal(t, []int{702, 703}, c.VendorConsents.IDs())
	assert.Equal(t, 703, c.VendorConsents.MaxVendorID())
	require.NotNil(t, c.DisclosedVendors)
	assert.Equal(t, 720, c.DisclosedVendors.MaxVendorID())

	c = mustDecode(t, vecJavaRange1)
	assert.Equal(t, []int{703}, c.VendorConsents.IDs())
	assert.True(t, c.VendorConsent(703))
	assert.False(t, c.VendorConsent(702))

	c = mustDecode(t, vecJavaPurposes)
	assert.True(t, c.PurposeConsent(1))
	assert.True(t, c.PurposeConsent(2))
	assert.False(t, c.PurposeConsent(3))
}

func TestDecodeGPPJavaVectors(t *testing.T) {
	c := mustDecode(t, vecGPPJavaTCF)
	assert.Equal(t, 2, c.Version)
	assert.Equal(t, 880, c.CMPID)
	assert.Equal(t, 0, c.CMPVersion)
	assert.Equal(t, 0, c.ConsentScreen)
	assert.Equal(t, "EN", c.ConsentLanguage)
	assert.Equal(t, 48, c.VendorListVersion)
	assert.Equal(t, 2, c.TCFPolicyVersion)
	assert.False(t, c.IsServiceSpecific)
	assert.False(t, c.UseNonStandardTexts)
	assert.False(t, c.PurposeOneTreatment)
	assert.Equal(t, "AA", c.PublisherCC)
	assert.Equal(t, utc("2022-01-01T00:00:00Z"), c.Created)
	assert.Equal(t, utc("2022-01-01T00:00:00Z"), c.LastUpdated)
	require.NotNil(t, c.DisclosedVendors)
	assert.Equal(t, 0, c.DisclosedVendors.Len())

	for s, want := range map[string][]int{
		vecGPPJavaVendors28:  {28},
		vecGPPJavaVendors29:  {29},
		vecGPPJavaVendors722: {1, 173, 722},
	} {
		c := mustDecode(t, s)
		assert.Equal(t, want, c.VendorConsents.IDs(), s)
	}
}

func TestDecodeIssue201PublisherRestrictions(t *testing.T) {
	c := mustDecode(t, vecIssue201)
	assert.Equal(t, 31, c.CMPID)
	assert.Equal(t, "DE", c.ConsentLanguage)
	assert.Equal(t, "EU", c.PublisherCC)
	assert.Equal(t, 808, c.VendorConsents.MaxVendorID())
	assert.Equal(t, 479, c.VendorConsents.Len())
	require.NotEmpty(t, c.PublisherRestrictions)

	// Union of vendors restricted with (purpose 1, require consent), as
	// iabtcf-es getVendors(new PurposeRestriction(1, 1)) computes it.
	seen := map[int]bool{}
	for _, pr := range c.PublisherRestrictions {
		if pr.PurposeID == 1 && pr.Type == RestrictionRequireConsent {
			for _, id := range pr.Vendors.IDs() {
				seen[id] = true
			}
		}
	}
	var got []int
	for id := 1; id <= 65535; id++ {
		if seen[id] {
			got = append(got, id)
		}
	}
	assert.Equal(t, []int{7, 20, 71, 122, 140, 183}, got)
	first := c.PublisherRestrictions[0]
	assert.Equal(t, 1, first.PurposeID)
	assert.Equal(t, RestrictionRequireConsent, first.Type)
	assert.Equal(t, 183, first.Vendors.MaxVendorID())
	assert.Equal(t, RestrictionRequireLegitimateInterest, c.PublisherRestrictions[1].Type)
	assert.Equal(t, []int{730}, c.PublisherRestrictions[1].Vendors.IDs())
}

// iabtcf-java TCStringV2Test.testPublisherRestrictions: three restrictions
// with no vendors, built from the bit string in that test.
func TestDecodeJavaPublisherRestrictionBits(t *testing.T) {
	w := (&bitWriter{}).raw(
		"0000100011101011100" + "1000000000000001010" + "0000001110101110010" +
			"0000000000000101000" + "0000110011111000000" + "0000000000000000100" +
			"0011010000000011110" + "0001000000000000000" + "0000000000000000000" +
			"0000000000000000000" + "0000000000000000000" + "0000000000000000000" +
			"0000000000000000000" + "000000000011" +
			"000001" + "01" + "000000000000" +
			"000010" + "00" + "000000000000" +
			"000011" + "10" + "000000000000" + "0")
	c := mustDecode(t, w.String())
	require.Len(t, c.PublisherRestrictions, 3)
	want := []struct {
		purpose int
		typ     RestrictionType
	}{{1, RestrictionRequireConsent}, {2, RestrictionNotAllowed}, {3, RestrictionRequireLegitimateInterest}}
	for i, pr := range c.PublisherRestrictions {
		assert.Equal(t, want[i].purpose, pr.PurposeID)
		assert.Equal(t, want[i].typ, pr.Type)
		assert.Equal(t, 0, pr.Vendors.Len())
		assert.False(t, pr.Vendors.Contains(1))
	}
}

func TestDecodeIssue142ShortDisclosedBitField(t *testing.T) {
	c := mustDecode(t, vecIssue142)
	assert.Nil(t, c.DisclosedVendors)
	assert.Equal(t, 14, c.CMPID)
	assert.Equal(t, 115, c.VendorConsents.MaxVendorID())
	assert.Equal(t, 83, c.VendorConsents.Len())
	assert.Equal(t, 114, c.VendorLegitimateInterests.MaxVendorID())
	require.Len(t, c.PublisherRestrictions, 17)
	last := c.PublisherRestrictions[16]
	assert.Equal(t, 8, last.PurposeID)
	assert.Equal(t, RestrictionNotAllowed, last.Type)
	assert.Equal(t, []int{729}, last.Vendors.IDs())

	// The skipped segment really is a Disclosed Vendors segment whose
	// BitField is shorter than its MaxVendorId.
	_, disclosed, _ := strings.Cut(vecIssue142, ".")
	r, err := NewBitReader(disclosed)
	require.NoError(t, err)
	assert.Equal(t, segmentDisclosedVendors, r.ReadInt(3))
	_, err = readVendorSection(r)
	assert.ErrorIs(t, err, ErrTruncated)
}

func TestDecodeErrors(t *testing.T) {
	valid := vecGPPSpecExample
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrEmpty},
		{"no core", ".IDKQA4AAgAKAGQAygAAA", ErrEmpty},
		{"too long", strings.Repeat("A", MaxLength+1), ErrTooLong},
		{"plus", strings.Replace(valid, "B-C", "B+C", 1), ErrInvalidBase64},
		{"slash", "CPXx/fAPXxRfAAfKABENB", ErrInvalidBase64},
		{"space", "CPXx RfAPXxRfAAfKABENB", ErrInvalidBase64},
		{"inner padding", "CPXx=RfAPXxRfAAfKABENB", ErrInvalidBase64},
		{"three pads", valid + "===", ErrInvalidBase64},
		{"non-ascii", "CPXxRfé", ErrInvalidBase64},
		{"one char", "C", ErrTruncated},
		{"truncated core", valid[:20], ErrTruncated},
		{"v1.1 string issue 156", vecIssue156V1, ErrUnsupportedVersion},
		{"v1.1 string issue 191", vecIssue191V1, ErrUnsupportedVersion},
		{"version 0", "A" + valid[1:], ErrUnsupportedVersion},
		{"version 3", "D" + valid[1:], ErrUnsupportedVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Decode(tt.in)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.True(t, errors.Is(err, tt.want), "got %v, want %v", err, tt.want)
		})
	}
}

func TestDecodeVendorSectionEdgeCases(t *testing.T) {
	build := func(vendor func(w *bitWriter)) string {
		w := coreHeader(&bitWriter{}, 2)
		vendor(w)
		emptyBitField(w) // legitimate interests
		w.uint(0, 12)    // NumPubRestrictions
		return w.String()
	}
	rangeSection := func(maxID int, entries ...[2]int) func(w *bitWriter) {
		return func(w *bitWriter) {
			w.uint(uint64(maxID), 16).bool(true).uint(uint64(len(entries)), 12)
			for _, e := range entries {
				if e[0] == e[1] {
					w.bool(false).uint(uint64(e[0]), 16)
				} else {
					w.bool(true).uint(uint64(e[0]), 16).uint(uint64(e[1]), 16)
				}
			}
		}
	}

	t.Run("header fields", func(t *testing.T) {
		c := mustDecode(t, build(func(w *bitWriter) { emptyBitField(w) }))
		assert.Equal(t, utc("2020-09-13T12:26:40Z"), c.Created)
		assert.Equal(t, 7, c.CMPID)
		assert.Equal(t, "EN", c.ConsentLanguage)
		assert.Equal(t, "DE", c.PublisherCC)
		assert.Equal(t, 4, c.TCFPolicyVersion)
		assert.Equal(t, 0, c.VendorConsents.MaxVendorID())
		assert.False(t, c.VendorConsent(1))
		assert.False(t, c.VendorConsent(0))
		assert.False(t, c.VendorConsent(-1))
	})

	t.Run("bitfield word boundaries", func(t *testing.T) {
		s := build(func(w *bitWriter) {
			w.uint(130, 16).bool(false)
			for id := 1; id <= 130; id++ {
				w.bool(id == 1 || id == 63 || id == 64 || id == 65 || id == 128 || id == 129 || id == 130)
			}
		})
		c := mustDecode(t, s)
		assert.Equal(t, []int{1, 63, 64, 65, 128, 129, 130}, c.VendorConsents.IDs())
		assert.Equal(t, 7, c.VendorConsents.Len())
		assert.False(t, c.VendorConsent(2))
		assert.False(t, c.VendorConsent(131))
	})

	t.Run("unsorted overlapping ranges are merged", func(t *testing.T) {
		c := mustDecode(t, build(rangeSection(40, [2]int{10, 20}, [2]int{5, 5}, [2]int{15, 30}, [2]int{31, 31}, [2]int{40, 40}, [2]int{12, 13})))
		want := []int{5}
		for id := 10; id <= 31; id++ {
			want = append(want, id)
		}
		want = append(want, 40)
		assert.Equal(t, want, c.VendorConsents.IDs())
		assert.Equal(t, len(want), c.VendorConsents.Len())
		for id := 0; id <= 41; id++ {
			assert.Equal(t, contains(want, id), c.VendorConsent(id), "vendor %d", id)
		}
	})

	t.Run("range with EndVendorId == Start", func(t *testing.T) {
		s := build(func(w *bitWriter) {
			w.uint(9, 16).bool(true).uint(1, 12).bool(true).uint(9, 16).uint(9, 16)
		})
		assert.Equal(t, []int{9}, mustDecode(t, s).VendorConsents.IDs())
	})

	t.Run("wide range is cheap", func(t *testing.T) {
		c := mustDecode(t, build(rangeSection(65535, [2]int{1, 65535})))
		assert.True(t, c.VendorConsent(65535))
		assert.Equal(t, 65535, c.VendorConsents.Len())
	})

	errCases := []struct {
		name   string
		vendor func(w *bitWriter)
		want   error
	}{
		{"range end beyond MaxVendorId", rangeSection(10, [2]int{5, 11}), ErrVendorRange},
		{"single beyond MaxVendorId", rangeSection(10, [2]int{11, 11}), ErrVendorRange},
		{"range entries with MaxVendorId 0", rangeSection(0, [2]int{1, 1}), ErrVendorRange},
		{"vendor id 0", rangeSection(10, [2]int{0, 0}), ErrVendorRange},
		{"end before start", func(w *bitWriter) {
			w.uint(10, 16).bool(true).uint(1, 12).bool(true).uint(8, 16).uint(3, 16)
		}, ErrVendorRange},
		{"bitfield shorter than MaxVendorId", func(w *bitWriter) {
			w.uint(65535, 16).bool(false).uint(0, 64)
		}, ErrTruncated},
		{"NumEntries larger than the data", func(w *bitWriter) {
			w.uint(10, 16).bool(true).uint(4095, 12).bool(false).uint(1, 16)
		}, ErrTruncated},
	}
	for _, tt := range errCases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(build(tt.vendor))
			assert.ErrorIs(t, err, tt.want)
		})
	}

	t.Run("missing NumPubRestrictions", func(t *testing.T) {
		w := coreHeader(&bitWriter{}, 2)
		emptyBitField(emptyBitField(w))
		// 247 bits padded to 252: five bits short of NumPubRestrictions.
		_, err := Decode(w.String())
		assert.ErrorIs(t, err, ErrTruncated)
	})

	t.Run("invalid language letter", func(t *testing.T) {
		w := (&bitWriter{}).uint(2, 6).uint(0, 36).uint(0, 36).uint(0, 12).uint(0, 12).uint(0, 6)
		w.uint(26, 6).uint(0, 6) // letter 26 is not a..z
		w.uint(0, 12+6+1+1+12+24+24+1+12)
		emptyBitField(emptyBitField(w)).uint(0, 12)
		_, err := Decode(w.String())
		assert.ErrorIs(t, err, ErrInvalidField)
	})

	t.Run("publisher restriction vendor id 0", func(t *testing.T) {
		w := coreHeader(&bitWriter{}, 2)
		emptyBitField(emptyBitField(w))
		w.uint(1, 12).uint(2, 6).uint(0, 2).uint(1, 12).bool(false).uint(0, 16)
		_, err := Decode(w.String())
		assert.ErrorIs(t, err, ErrVendorRange)
	})

	t.Run("publisher restriction count larger than data", func(t *testing.T) {
		w := coreHeader(&bitWriter{}, 2)
		emptyBitField(emptyBitField(w))
		w.uint(4095, 12)
		_, err := Decode(w.String())
		assert.ErrorIs(t, err, ErrTruncated)
	})
}

func contains(ids []int, id int) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func TestDecodeOptionalSegmentsNeverFail(t *testing.T) {
	core := vecGPPSpecExample
	disclosed := (&bitWriter{}).uint(segmentDisclosedVendors, 3).uint(3, 16).bool(false).raw("101").String()
	pubTC := (&bitWriter{}).uint(segmentPublisherTC, 3).uint(0, 24).uint(0, 24).uint(0, 6).String()

	for name, suffix := range map[string]string{
		"bad base64":                   ".!!!",
		"empty segment":                ".",
		"empty segments":               "..",
		"truncated disclosed":          ".IB",
		"disclosed range out of max":   "." + (&bitWriter{}).uint(1, 3).uint(1, 16).bool(true).uint(1, 12).bool(false).uint(2, 16).String(),
		"truncated publisher TC":       ".cAAA",
		"unknown segment type 7":       ".4AAAAA",
		"allowed vendors (v2.0)":       ".QAagAQAgAIAwgA",
		"core segment type repeated":   "." + core,
		"bad then good":                ".!!." + disclosed,
		"duplicate disclosed":          "." + disclosed + "." + (&bitWriter{}).uint(1, 3).uint(1, 16).bool(false).raw("1").String(),
		"publisher TC and disclosed":   "." + pubTC + "." + disclosed,
		"unpadded trailing characters": "." + disclosed + "AAAA",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Decode(core + suffix)
			require.NoError(t, err)
			assert.Equal(t, 31, c.CMPID)
			if c.DisclosedVendors != nil {
				assert.Equal(t, []int{1, 3}, c.DisclosedVendors.IDs())
			}
		})
	}

	c := mustDecode(t, core+"."+pubTC+"."+disclosed)
	require.NotNil(t, c.DisclosedVendors)
	require.NotNil(t, c.PublisherTC)
}

func TestPurposeAccessorsOutOfRange(t *testing.T) {
	c := &Consent{PurposesConsent: 1<<24 - 1, PurposesLITransparency: 1<<24 - 1, SpecialFeatureOptIns: 1<<12 - 1}
	for _, p := range []int{-1, 0, 25, 32, 64} {
		assert.False(t, c.PurposeConsent(p), p)
		assert.False(t, c.PurposeLITransparency(p), p)
	}
	assert.True(t, c.PurposeConsent(24))
	assert.True(t, c.SpecialFeatureOptIn(12))
	assert.False(t, c.SpecialFeatureOptIn(13))
	var zero Consent
	assert.False(t, zero.VendorConsent(1))
	assert.False(t, zero.VendorLegitimateInterest(1))
}

func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct{ name, s string }{
		{"spec_example", vecSpecExample},
		{"gpp_spec_example", vecGPPSpecExample},
		{"range", vecJavaRange2},
		{"bitfield_808_vendors_and_restrictions", vecIssue201},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.s)))
			for b.Loop() {
				if _, err := Decode(bc.s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDecodeHostileRangesAreCheap builds a string whose every range covers
// all 65535 vendor IDs: 4095 such entries in each vendor section and 4095
// publisher restrictions of 1 entry each. Decoding must stay proportional to
// the input size, not to the number of IDs the ranges cover.
func TestDecodeHostileRangesAreCheap(t *testing.T) {
	w := coreHeader(&bitWriter{}, 2)
	for section := 0; section < 2; section++ {
		w.uint(65535, 16).bool(true).uint(4095, 12)
		for i := 0; i < 4095; i++ {
			w.bool(true).uint(1, 16).uint(65535, 16)
		}
	}
	w.uint(4095, 12)
	for i := 0; i < 4095; i++ {
		w.uint(uint64(i%24+1), 6).uint(uint64(i%3), 2).uint(1, 12).bool(true).uint(1, 16).uint(65535, 16)
	}
	s := w.String()
	start := time.Now()
	c, err := Decode(s)
	elapsed := time.Since(start)
	require.NoError(t, err)
	assert.Equal(t, 65535, c.VendorConsents.Len())
	assert.True(t, c.VendorLegitimateInterest(65535))
	require.Len(t, c.PublisherRestrictions, 4095)
	assert.True(t, c.PublisherRestrictions[4094].Vendors.Contains(12345))
	t.Logf("decoded %d characters in %v", len(s), elapsed)
	assert.Less(t, elapsed, time.Second)
}
