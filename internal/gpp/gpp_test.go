package gpp

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/tcf"
)

// Test vectors. Each comment names where the string came from and where the
// expected values came from. "Cross-checked" means the source does not assert
// the values (iabgpp-es section tests call chai's expect(value, message)
// without an assertion, so they check nothing); they were confirmed with an
// independent string-based decoder written from the specification while
// developing this package.
const (
	// GPP "Consent String Specification.md" (InteractiveAdvertisingBureau/
	// Global-Privacy-Platform @b27beb4), "GPP String Examples" 1-3 and the
	// matching "Header Examples" (section IDs [2], [2, 6], [5, 6]).
	vecSpec1 = "DBABM~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"
	vecSpec2 = "DBACNY~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN"
	vecSpec3 = "DBABjw~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN"
	// The same string with the header padded as the reference encoders do
	// ("DBABMA", iabgpp-es HeaderV1.test.ts).
	vecSpec1Padded = "DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"
	tcfSpec        = "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"

	// iabgpp-java GppModelTest.testDecodeDefaultsAll (IABTechLab/iabgpp-java
	// @a51d55f): every section 2, 5..23 present with default values (that
	// test asserts hasSection for all of them). usnat/usca values
	// cross-checked.
	vecJavaAll = "DBACOYs~CPSG_8APSG_8AAAAAAENAACAAAAAAAAAAAAAAAAAAAAA.QAAA.IAAA~BPSG_8APSG_8AAAAAAENAACAAAAAAAAAAAAAAAAAAA.YAAAAAAAAAA~1---~BAAAAAAAAABA.QA~BAAAAABA.QA~BAAAABA~BAAAAEA.QA~BAAAAAQA~BAAAAAEA.QA~BAAAAABA~BAAAAABA.QA~BAAAAAABAA.QA~BAAAAAQA.QA~BAAAAAABAA.QA~BAAAAAQA.QA~BAAAAAQA.QA~BAAAAABA.QA~BAAAAAAAQA.QA~BAAAAAQA.QA~BAAAAAABAA.QA"

	// iabgpp-java GppModelTest.testDecodeUspv1AndTcfEuV2 and
	// testDecodeUspv1AndTcfEuV2AndTcfCaV1: section IDs [2, 6] and [2, 5, 6]
	// asserted there.
	vecJavaTCFUSP      = "DBACNYA~CPSG_8APSG_8ANwAAAENAwCAAAAAAAAAAAAAAAAAAAAA.QAAA.IAAA~1YNN"
	vecJavaTCFCAUSP    = "DBACOeA~CPSG_8APSG_8ANwAAAENAwCAAAAAAAAAAAAAAAAAAAAA.QAAA.IAAA~BPSG_8APSG_8AAyACAENGdCgf_gfgAfgfgBgABABAAABAB4AACACAAA.fHHHA4444ao~1YNN"
	vecJavaUSNatV1Long = "DBABLA~BVQqAAAAAgA.QA" // GppModelTest.testDecode5 (must decode)
)

func mustDecode(t *testing.T, s string) *String {
	t.Helper()
	g, err := Decode(s)
	require.NoError(t, err)
	require.NotNil(t, g)
	return g
}

func TestDecodeHeaderVectors(t *testing.T) {
	for _, tt := range []struct {
		header string
		ids    []int
	}{
		// GPP Consent String Specification, Header Examples 1-3.
		{"DBABM", []int{2}},
		{"DBACNY", []int{2, 6}},
		{"DBABjw", []int{5, 6}},
		// iabgpp-es test/encoder/section/HeaderV1.test.ts (asserted there).
		{"DBAA", []int{}},
		{"DBABMA", []int{2}},
		{"DBACNYA", []int{2, 6}},
		// iabgpp-java GppModelTest headers (asserted via getSectionIds or
		// hasSection there).
		{"DBABLA", []int{7}},
		{"DBABTA", []int{6}},
		{"DBACOeA", []int{2, 5, 6}},
		{"DBACOYs", []int{2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}},
	} {
		h, err := decodeHeader(new(tcf.BitReader), tt.header, len(tt.ids))
		require.NoError(t, err, tt.header)
		assert.Equal(t, Header{Type: 3, Version: 1, SectionIDs: tt.ids}, h, tt.header)
	}
}

func TestDecodeSpecExamples(t *testing.T) {
	for _, s := range []string{vecSpec1, vecSpec1Padded} {
		g := mustDecode(t, s)
		assert.Equal(t, []int{2}, g.Header.SectionIDs)
		assert.Equal(t, map[int]string{2: tcfSpec}, g.Sections)
		assert.Equal(t, tcfSpec, g.TCFEU)
		assert.Empty(t, g.US)
		assert.Nil(t, g.USPrivacy)
	}

	g := mustDecode(t, vecSpec2)
	assert.Equal(t, []int{2, 6}, g.Header.SectionIDs)
	assert.Equal(t, map[int]string{2: tcfSpec, 6: "1YNN"}, g.Sections)
	assert.Equal(t, tcfSpec, g.TCFEU)
	assert.Equal(t, &USPrivacy{Version: 1, Notice: 'Y', OptOutSale: 'N', LspaCovered: 'N'}, g.USPrivacy)
	assert.Empty(t, g.Unknown)

	// Section 5 (Canadian TCF) is kept raw even though its content here is
	// an EU TC string; it is not TCFEU.
	g = mustDecode(t, vecSpec3)
	assert.Equal(t, []int{5, 6}, g.Header.SectionIDs)
	assert.Equal(t, map[int]string{5: tcfSpec, 6: "1YNN"}, g.Sections)
	assert.Empty(t, g.TCFEU)
	assert.Equal(t, []int{SectionTCFCAv1}, g.Unknown)

	// The raw TCF section can be handed to tcf.Decode.
	c, err := tcf.Decode(mustDecode(t, vecSpec1).TCFEU)
	require.NoError(t, err)
	assert.Equal(t, 31, c.CMPID)
}

func TestDecodeJavaVectors(t *testing.T) {
	g := mustDecode(t, vecJavaTCFUSP)
	assert.Equal(t, []int{2, 6}, g.Header.SectionIDs)
	assert.Equal(t, "1YNN", g.Sections[SectionUSPv1])
	c, err := tcf.Decode(g.TCFEU)
	require.NoError(t, err)
	assert.Equal(t, 880, c.CMPID)
	assert.Equal(t, "EN", c.ConsentLanguage)

	g = mustDecode(t, vecJavaTCFCAUSP)
	assert.Equal(t, []int{2, 5, 6}, g.Header.SectionIDs)
	assert.True(t, strings.HasPrefix(g.Sections[SectionTCFCAv1], "BPSG_8APSG_8AAyACAENGdCgf"))

	g = mustDecode(t, vecJavaAll)
	assert.Len(t, g.Sections, 20)
	assert.Len(t, g.US, 17) // 7..23
	assert.Equal(t, []int{SectionTCFCAv1}, g.Unknown)
	require.NotNil(t, g.Section(SectionUSNat))
	require.NotNil(t, g.Section(SectionUSCA))
	assert.Equal(t, "BAAAAAAAAABA.QA", g.Sections[SectionUSNat])
	assert.Equal(t, "BAAAAABA.QA", g.Sections[SectionUSCA])
	// Default usnat: version 1, everything 0 except MspaCoveredTransaction 1.
	assertUS(t, &US{
		ID:                              SectionUSNat,
		Name:                            "usnat",
		Version:                         1,
		SensitiveDataProcessing:         make([]int, 16),
		KnownChildSensitiveDataConsents: make([]int, 3),
		MspaCoveredTransaction:          1,
		GpcSegmentIncluded:              true,
		GpcSegmentType:                  1,
	}, g.Section(SectionUSNat))
	assertUS(t, &US{
		ID:                              SectionUSCA,
		Name:                            "usca",
		Version:                         1,
		SensitiveDataProcessing:         make([]int, 9),
		KnownChildSensitiveDataConsents: make([]int, 2),
		MspaCoveredTransaction:          1,
		GpcSegmentIncluded:              true,
		GpcSegmentType:                  1,
	}, g.Section(SectionUSCA))
	assert.Equal(t, "BAAAABA", g.Sections[SectionUSVA])
	assert.Equal(t, "BAAAAAABAA.QA", g.Sections[SectionUSMN])
	for _, u := range g.US {
		assert.Equal(t, 1, u.Version, u.Name)
		assert.False(t, u.OptedOutOfSale() || u.OptedOutOfSharing() || u.OptedOutOfTargetedAdvertising(), u.Name)
	}
	assert.Equal(t, &USPrivacy{Version: 1, Notice: '-', OptOutSale: '-', LspaCovered: '-'}, g.USPrivacy)

	g = mustDecode(t, vecJavaUSNatV1Long)
	u := g.Section(SectionUSNat)
	require.NotNil(t, u)
	assert.Equal(t, 1, u.Version)
	assert.Len(t, u.SensitiveDataProcessing, 12)
	assert.Equal(t, MspaNo, u.MspaCoveredTransaction)
}

func TestDecodeUnknownSectionsKeptRaw(t *testing.T) {
	// Header built with the test encoder: IDs 4 (signal integrity), 30 and
	// 31 (a group) and 1000 are not decoded by this package.
	s := header(2, 4, 30, 31, 1000) + "~" + tcfSpec + "~sig~x.y.z~opaque-thing~" + "%% not base64 %%"
	g := mustDecode(t, s)
	assert.Equal(t, []int{2, 4, 30, 31, 1000}, g.Header.SectionIDs)
	assert.Equal(t, map[int]string{2: tcfSpec, 4: "sig", 30: "x.y.z", 31: "opaque-thing", 1000: "%% not base64 %%"}, g.Sections)
	assert.Equal(t, tcfSpec, g.TCFEU)
	assert.Equal(t, []int{4, 30, 31, 1000}, g.Unknown)
}

func TestDecodeErrors(t *testing.T) {
	usnat := "CVVVkkkkkpFY.YA"
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrEmpty},
		{"too long", strings.Repeat("A", MaxLength+1), ErrTooLong},
		{"bad header base64", "DB+A", tcf.ErrInvalidBase64},
		{"empty header", "~" + tcfSpec, tcf.ErrTruncated},
		{"truncated header", "DB", tcf.ErrTruncated},
		{"header type 4", "EBAA", ErrHeaderType},
		{"header type 2 (a bare TC string)", tcfSpec, ErrHeaderType},
		{"GPP version 2", "DCAA", ErrUnsupportedVersion},
		{"listed but missing", "DBABMA", ErrMissingSection},
		{"second listed but missing", "DBACNYA~" + tcfSpec, ErrMissingSection},
		{"listed but empty", "DBABMA~", ErrMissingSection},
		{"listed but blank", "DBACNYA~" + tcfSpec + "~ ", ErrMissingSection},
		{"unlisted section", "DBABMA~" + tcfSpec + "~1YNN", ErrUnlistedSection},
		{"unlisted on empty header", "DBAA~", ErrUnlistedSection},
		{"usnat bad base64", header(7) + "~CVVV*kkkkpFY", tcf.ErrInvalidBase64},
		{"usnat version 0", header(7) + "~AVVVkkkkkpFY", ErrUnsupportedVersion},
		{"usnat version 3", header(7) + "~DVVVkkkkkpFY", ErrUnsupportedVersion},
		{"usnat truncated", header(7) + "~CVVVkkkk", tcf.ErrTruncated},
		{"usnat GPC type 0", header(7) + "~CVVVkkkkkpFY.AA", ErrSubsectionType},
		{"usnat GPC empty", header(7) + "~CVVVkkkkkpFY.", tcf.ErrTruncated},
		{"usnat GPC bad base64", header(7) + "~" + usnat + "=x", tcf.ErrInvalidBase64},
		{"usca version 2", header(8) + "~CVWSSSVY", ErrUnsupportedVersion},
		{"usca truncated", header(8) + "~BVWSSSV", tcf.ErrTruncated},
		{"usca GPC type 2", header(8) + "~BVWSSSVY.gA", ErrSubsectionType},
		{"usva version 2", header(9) + "~CEQAABA", ErrUnsupportedVersion},
		{"usva truncated", header(9) + "~BEQAA", tcf.ErrTruncated},
		{"usmd truncated", header(24) + "~BRW", tcf.ErrTruncated},
		{"usmd GPC type 0", header(24) + "~BRWg.AA", ErrSubsectionType},
		{"usin sensitive sub-section truncated", header(25) + "~BRWg.qq", tcf.ErrTruncated},
		{"usri bad base64", header(27) + "~BRW*", tcf.ErrInvalidBase64},
		{"uspv1 too short", header(6) + "~1YN", ErrUSPrivacy},
		{"uspv1 version 2", header(6) + "~2YNN", ErrUSPrivacy},
		{"uspv1 bad letter", header(6) + "~1YXN", ErrUSPrivacy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Decode(tt.in)
			require.Error(t, err)
			assert.Nil(t, g)
			assert.True(t, errors.Is(err, tt.want), "got %v, want %v", err, tt.want)
		})
	}
}

func TestFibonacci(t *testing.T) {
	// GPP Consent String Specification, "About Fibonacci Encoding" table.
	for v, code := range map[int]string{1: "11", 2: "011", 3: "0011", 4: "1011", 5: "00011", 6: "10011", 7: "01011"} {
		require.Equal(t, code, fibCode(v))
		r, err := tcf.NewBitReader((&bitWriter{}).raw(code).String())
		require.NoError(t, err)
		got, err := readFibonacci(r)
		require.NoError(t, err)
		assert.EqualValues(t, v, got, code)
		assert.Equal(t, len(code), r.Pos())
	}
	// Round trip through the test encoder.
	for v := 1; v < 5000; v += 7 {
		r, _ := tcf.NewBitReader((&bitWriter{}).fib(v).String())
		got, err := readFibonacci(r)
		require.NoError(t, err)
		require.EqualValues(t, v, got)
	}
	big := 1_134_903_169 // F(45)-1: the largest value with 43 digits
	r, _ := tcf.NewBitReader((&bitWriter{}).fib(big).String())
	got, err := readFibonacci(r)
	require.NoError(t, err)
	assert.EqualValues(t, big, got)

	// A code word of 44+ digits is rejected, as is one without "11".
	r, _ = tcf.NewBitReader((&bitWriter{}).fib(big + 1).String())
	_, err = readFibonacci(r)
	assert.ErrorIs(t, err, ErrFibonacci)
	r, _ = tcf.NewBitReader("AAAA")
	_, err = readFibonacci(r)
	assert.ErrorIs(t, err, tcf.ErrTruncated)
}

func TestFibonacciRangeHeaders(t *testing.T) {
	// The Range(Fibonacci) example of the spec's data types table:
	// [3, 5, 6, 7, 8] = 000000000010 0 0011 1 011 0011.
	w := (&bitWriter{}).uint(3, 6).uint(1, 6).raw("000000000010 0 0011 1 011 0011")
	h, err := decodeHeader(new(tcf.BitReader), w.String(), 5)
	require.NoError(t, err)
	assert.Equal(t, []int{3, 5, 6, 7, 8}, h.SectionIDs)

	for _, ids := range [][]int{{1}, {1, 2, 3}, {2, 7, 8}, {7, 8, 9, 10, 12, 20}, {100, 4000}} {
		h, err := decodeHeader(new(tcf.BitReader), header(ids...), len(ids))
		require.NoError(t, err)
		assert.Equal(t, ids, h.SectionIDs)
	}

	// A huge group is rejected as soon as it lists more IDs than there are
	// sections, without expanding it.
	w = (&bitWriter{}).uint(3, 6).uint(1, 6).uint(1, 12).bool(true).fib(1).fib(1_000_000_000)
	_, err = Decode(w.String() + "~a")
	assert.ErrorIs(t, err, ErrMissingSection)

	// Offsets accumulating past int32 are rejected.
	w = (&bitWriter{}).uint(3, 6).uint(1, 6).uint(2, 12).bool(false).fib(1_100_000_000).bool(false).fib(1_100_000_000)
	_, err = Decode(w.String() + "~a~b")
	assert.ErrorIs(t, err, ErrFibonacci)

	// An entry count larger than the data is truncation.
	w = (&bitWriter{}).uint(3, 6).uint(1, 6).uint(4095, 12).bool(false).fib(2)
	_, err = Decode(w.String() + "~a")
	assert.True(t, errors.Is(err, tcf.ErrTruncated) || errors.Is(err, ErrMissingSection), err)
}

func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct{ name, s string }{
		{"spec_tcf_usp", vecSpec2},
		{"usnat_gpc", header(7) + "~CVVVkkkkkpFY.YA"},
		{"tcf_usnat_usca", header(2, 7, 8) + "~" + tcfSpec + "~CVVVkkkkkpFY.YA~BVWSSSVY.YA"},
		{"all_20_sections", vecJavaAll},
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
