package gpp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeUSNatJavaVectors(t *testing.T) {
	// iabgpp-java UsNatTest.testDecode1 and testDecodeWithGpcSegmentExcluded
	// (IABTechLab/iabgpp-java @a51d55f); values asserted there. Version 1
	// with the 16/3 layout, as iabgpp-es/java 3.x encoded it.
	want := US{
		ID:                                  SectionUSNat,
		Name:                                "usnat",
		Version:                             1,
		SharingNotice:                       1,
		SaleOptOutNotice:                    1,
		SharingOptOutNotice:                 1,
		TargetedAdvertisingOptOutNotice:     1,
		SensitiveDataProcessingOptOutNotice: 1,
		SensitiveDataLimitUseNotice:         1,
		SaleOptOut:                          1,
		SharingOptOut:                       1,
		TargetedAdvertisingOptOut:           1,
		SensitiveDataProcessing:             []int{2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2},
		KnownChildSensitiveDataConsents:     []int{2, 1, 0},
		PersonalDataConsents:                1,
		MspaCoveredTransaction:              1,
		MspaOptOutOptionMode:                1,
		MspaServiceProviderMode:             2,
		GpcSegmentIncluded:                  true,
		GpcSegmentType:                      1,
		Gpc:                                 true,
	}
	u, err := decodeUSNat("BVVVkkkkkpFY.YA")
	require.NoError(t, err)
	assertUS(t, &want, u)
	assert.True(t, u.OptedOutOfSale())
	assert.True(t, u.OptedOutOfSharing())
	assert.True(t, u.OptedOutOfTargetedAdvertising())
	assert.NoError(t, u.Validate())

	u, err = decodeUSNat("BVVVkkkkkpFY")
	require.NoError(t, err)
	noGPC := want
	noGPC.GpcSegmentIncluded, noGPC.GpcSegmentType, noGPC.Gpc = false, 0, false
	assertUS(t, &noGPC, u)

	// iabgpp-es UsNat.test.ts "should decode CVVVkkkkkpFY.YA": the same
	// fields with Version 2 (values cross-checked).
	u, err = decodeUSNat("CVVVkkkkkpFY.YA")
	require.NoError(t, err)
	v2 := want
	v2.Version = 2
	assertUS(t, &v2, u)

	// iabgpp-java UsNatTest.testDecodeBackwardsCompatibility: a 60-bit
	// version 1 core (spec layout: 12 sensitive categories, 2 child
	// entries). Values asserted there; java pads the lists to 16/3 with
	// zeros, this package returns the 12/2 entries actually encoded.
	u, err = decodeUSNat("BVQqAAAACg")
	require.NoError(t, err)
	assertUS(t, &US{
		ID:                              SectionUSNat,
		Name:                            "usnat",
		Version:                         1,
		SharingNotice:                   1,
		SaleOptOutNotice:                1,
		SharingOptOutNotice:             1,
		TargetedAdvertisingOptOutNotice: 1,
		SaleOptOut:                      2,
		SharingOptOut:                   2,
		TargetedAdvertisingOptOut:       2,
		SensitiveDataProcessing:         make([]int, 12),
		KnownChildSensitiveDataConsents: make([]int, 2),
		PersonalDataConsents:            2,
		MspaCoveredTransaction:          2,
	}, u)
	assert.False(t, u.OptedOutOfSale())
	assert.False(t, u.OptedOutOfSharing())
	assert.False(t, u.OptedOutOfTargetedAdvertising())

	// iabgpp-es UsNat.test.ts "should decode CVQqAAAACg": Version 2 label on
	// a 60-bit core decodes with the version 1 layout, as in iabgpp-es.
	u, err = decodeUSNat("CVQqAAAACg")
	require.NoError(t, err)
	assert.Equal(t, 2, u.Version)
	assert.Len(t, u.SensitiveDataProcessing, 12)
	assert.Equal(t, 2, u.SaleOptOut)
}

func TestDecodeUSNatLayouts(t *testing.T) {
	for _, tt := range []struct {
		source, s string
		version   int
		sdp, kc   []int
	}{
		// iabgpp-java GppModelTest.testDecode6..9 (asserted there; java
		// reports v1-layout lists padded to 16/3).
		{"iabgpp-java testDecode6 (66 bits, v1 layout)", "BAAAAAAAAQA.QA", 1, make([]int, 12), make([]int, 2)},
		{"iabgpp-java testDecode7 (72 bits, v2 layout)", "BAAAAAAAAABA.QA", 1, make([]int, 16), make([]int, 3)},
		{"iabgpp-java testDecode8 (66 bits, v1 layout)", "BAAAAAABEQA.QA", 1,
			[]int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, []int{0, 1}},
		{"iabgpp-java testDecode9 (72 bits, v2 layout)", "BAAAAAAAAQRA.QA", 1,
			[]int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, []int{0, 0, 1}},
		// iabgpp-es UsNat.test.ts "should decode usnat v1", "usnat v2 with v1
		// values", "usnat v2 with v2 values" (values cross-checked).
		{"iabgpp-es usnat v1", "BAAAVVVVUQA.QA", 1,
			[]int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, []int{1, 1}},
		{"iabgpp-es usnat v2 with v1 values", "CAAAVVVVAFBA.QA", 2,
			[]int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, []int{1, 1, 0}},
		{"iabgpp-es usnat v2 with v2 values", "CAAAVVVVVVRA.QA", 2,
			[]int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, []int{1, 1, 1}},
	} {
		t.Run(tt.source, func(t *testing.T) {
			u, err := decodeUSNat(tt.s)
			require.NoError(t, err)
			assert.Equal(t, tt.version, u.Version)
			assert.Equal(t, tt.sdp, u.SensitiveDataProcessing)
			assert.Equal(t, tt.kc, u.KnownChildSensitiveDataConsents)
			assert.Equal(t, MspaYes, u.MspaCoveredTransaction)
			assert.True(t, u.GpcSegmentIncluded)
			assert.False(t, u.Gpc)
			assert.NoError(t, u.Validate())
		})
	}
}

// usnatV2 builds a version 2 usnat core with the given opt-out values and
// zeros elsewhere, using the test encoder.
func usnatV2(saleOptOut, sharingOptOut, targetedOptOut int) string {
	w := (&bitWriter{}).uint(2, 6)
	w.uint(0, 12) // six notices
	w.uint(uint64(saleOptOut), 2).uint(uint64(sharingOptOut), 2).uint(uint64(targetedOptOut), 2)
	w.uint(0, 32).uint(0, 6).uint(0, 2) // SDP, KC, PersonalDataConsents
	w.uint(MspaYes, 2).uint(0, 2).uint(0, 2)
	return w.String()
}

func TestUSNatOptOutSemantics(t *testing.T) {
	// GPP usnat spec: 0 Not Applicable, 1 Opted Out, 2 Did Not Opt Out.
	for v, want := range map[int]bool{OptOutNotApplicable: false, OptedOut: true, DidNotOptOut: false, 3: false} {
		u, err := decodeUSNat(usnatV2(v, v, v))
		require.NoError(t, err)
		assert.Equal(t, v, u.SaleOptOut)
		assert.Equal(t, want, u.OptedOutOfSale(), "SaleOptOut=%d", v)
		assert.Equal(t, want, u.OptedOutOfSharing(), "SharingOptOut=%d", v)
		assert.Equal(t, want, u.OptedOutOfTargetedAdvertising(), "TargetedAdvertisingOptOut=%d", v)
		if v == 3 {
			assert.ErrorIs(t, u.Validate(), ErrInvalidValue)
		} else {
			assert.NoError(t, u.Validate())
		}
	}
	// Fields are independent.
	u, err := decodeUSNat(usnatV2(DidNotOptOut, OptedOut, DidNotOptOut))
	require.NoError(t, err)
	assert.False(t, u.OptedOutOfSale())
	assert.True(t, u.OptedOutOfSharing())
	assert.False(t, u.OptedOutOfTargetedAdvertising())
}

func TestDecodeUSCA(t *testing.T) {
	// iabgpp-java UsCaTest.testDecode1 and testDecodeWithGpcSegmentExcluded
	// (asserted there).
	want := US{
		ID:                              SectionUSCA,
		Name:                            "usca",
		Version:                         1,
		SaleOptOutNotice:                1,
		SharingOptOutNotice:             1,
		SensitiveDataLimitUseNotice:     1,
		SaleOptOut:                      1,
		SharingOptOut:                   1,
		SensitiveDataProcessing:         []int{2, 1, 0, 2, 1, 0, 2, 1, 0},
		KnownChildSensitiveDataConsents: []int{2, 1},
		PersonalDataConsents:            1,
		MspaCoveredTransaction:          1,
		MspaOptOutOptionMode:            1,
		MspaServiceProviderMode:         2,
		GpcSegmentIncluded:              true,
		GpcSegmentType:                  1,
		Gpc:                             true,
	}
	c, err := decodeUSCA("BVWSSSVY.YA")
	require.NoError(t, err)
	assertUS(t, &want, c)
	assert.True(t, c.OptedOutOfSale())
	assert.True(t, c.OptedOutOfSharing())
	assert.True(t, c.OptedOutOfTargetedAdvertising())
	assert.NoError(t, c.Validate())

	c, err = decodeUSCA("BVWSSSVY")
	require.NoError(t, err)
	noGPC := want
	noGPC.GpcSegmentIncluded, noGPC.GpcSegmentType, noGPC.Gpc = false, 0, false
	assertUS(t, &noGPC, c)

	// iabgpp-es UsCa.test.ts "should decode BAAAAAAA" (string BbYbGwXY.YA):
	// undefined values (3) decode as-is; values cross-checked.
	c, err = decodeUSCA("BbYbGwXY.YA")
	require.NoError(t, err)
	assertUS(t, &US{
		ID:                              SectionUSCA,
		Name:                            "usca",
		Version:                         1,
		SaleOptOutNotice:                1,
		SharingOptOutNotice:             2,
		SensitiveDataLimitUseNotice:     3,
		SaleOptOut:                      1,
		SharingOptOut:                   2,
		SensitiveDataProcessing:         []int{0, 1, 2, 3, 0, 1, 2, 3, 0},
		KnownChildSensitiveDataConsents: []int{0, 1},
		PersonalDataConsents:            1,
		MspaCoveredTransaction:          3,
		MspaOptOutOptionMode:            1,
		MspaServiceProviderMode:         2,
		GpcSegmentIncluded:              true,
		GpcSegmentType:                  1,
		Gpc:                             true,
	}, c)
	assert.True(t, c.OptedOutOfSale())
	assert.False(t, c.OptedOutOfSharing())
	assert.False(t, c.OptedOutOfTargetedAdvertising())
	assert.ErrorIs(t, c.Validate(), ErrInvalidValue)
}

func TestValidate(t *testing.T) {
	u, err := decodeUSNat("CVVVkkkkkpFY")
	require.NoError(t, err)
	require.NoError(t, u.Validate())
	for name, mutate := range map[string]func(u *US){
		"notice 3":                    func(u *US) { u.SharingNotice = 3 },
		"MspaCoveredTransaction 0":    func(u *US) { u.MspaCoveredTransaction = 0 },
		"SensitiveDataProcessing 3":   func(u *US) { u.SensitiveDataProcessing[15] = 3 },
		"KnownChild 3":                func(u *US) { u.KnownChildSensitiveDataConsents[0] = 3 },
		"MspaServiceProviderMode 3":   func(u *US) { u.MspaServiceProviderMode = 3 },
		"TargetedAdvertisingOptOut 3": func(u *US) { u.TargetedAdvertisingOptOut = 3 },
	} {
		c := *u
		c.SensitiveDataProcessing = append([]int(nil), u.SensitiveDataProcessing...)
		c.KnownChildSensitiveDataConsents = append([]int(nil), u.KnownChildSensitiveDataConsents...)
		mutate(&c)
		assert.ErrorIs(t, c.Validate(), ErrInvalidValue, name)
	}
}

func TestDecodeUSSectionsInGPPString(t *testing.T) {
	g := mustDecode(t, header(2, 7, 8)+"~"+tcfSpec+"~CVVVkkkkkpFY.YA~BVWSSSVY")
	require.NotNil(t, g.Section(SectionUSNat))
	require.NotNil(t, g.Section(SectionUSCA))
	assert.Equal(t, 2, g.Section(SectionUSNat).Version)
	assert.True(t, g.Section(SectionUSNat).Gpc)
	assert.False(t, g.Section(SectionUSCA).GpcSegmentIncluded)
	assert.Equal(t, tcfSpec, g.TCFEU)
	// Extra sub-sections after GPC are ignored.
	g = mustDecode(t, header(7)+"~CVVVkkkkkpFY.YA.whatever")
	assert.True(t, g.Section(SectionUSNat).Gpc)
}

func decodeUSNat(s string) (*US, error) { return DecodeUS(SectionUSNat, s) }
func decodeUSCA(s string) (*US, error)  { return DecodeUS(SectionUSCA, s) }

// assertUS compares decoded sections, ignoring the unexported layout.
func assertUS(t *testing.T, want, got *US) {
	t.Helper()
	require.NotNil(t, got)
	g := *got
	g.lay = nil
	assert.Equal(t, want, &g)
}
