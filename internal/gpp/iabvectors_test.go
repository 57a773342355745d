package gpp

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/nodetest"
)

// The vectors in testdata/iab-gpp-vectors.json are written by IAB Tech
// Lab's reference library @iabgpp/cmpapi (scripts/iab-vectors/generate.js):
// for every US section and every US Privacy value, the string the library
// encodes and the fields the library decodes from it.

type iabVectors struct {
	Library  string `json:"library"`
	Sections []struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	} `json:"sections"`
	Layouts []struct {
		ID     int    `json:"id"`
		Name   string `json:"name"`
		Fields []struct {
			Segment string `json:"segment"`
			Name    string `json:"name"`
			Default any    `json:"default"`
		} `json:"fields"`
	} `json:"layouts"`
	US       []iabVector `json:"us"`
	USPv1    []iabVector `json:"uspv1"`
	Combined []struct {
		Name     string                    `json:"name"`
		GPP      string                    `json:"gpp"`
		TCFEUv2  string                    `json:"tcfeuv2"`
		Sections map[string]map[string]any `json:"sections"`
	} `json:"combined"`
	// UnknownSections hold a section this package does not decode (the
	// Canadian TCF) written by the library.
	UnknownSections []struct {
		Name       string `json:"name"`
		GPP        string `json:"gpp"`
		SectionIDs []int  `json:"section_ids"`
		Undecoded  []int  `json:"undecoded_section_ids"`
	} `json:"unknown_sections"`
}

type iabVector struct {
	Name          string         `json:"name"`
	SectionID     int            `json:"section_id"`
	Section       string         `json:"section"`
	GPP           string         `json:"gpp"`
	SectionString string         `json:"section_string"`
	Fields        map[string]any `json:"fields"`
}

func loadIABVectors(t testing.TB) *iabVectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "iab-gpp-vectors.json"))
	require.NoError(t, err)
	var v iabVectors
	require.NoError(t, json.Unmarshal(b, &v))
	require.NotEmpty(t, v.US)
	return &v
}

// libraryFields renders a decoded section the way the reference library's
// toObject does: its field names, scalar Int(2) fields as numbers, lists as
// lists, and the defaults it reports for an absent GPC sub-section.
func libraryFields(u *US) map[string]any {
	m := map[string]any{}
	for _, s := range u.lay.core {
		name := s.f.String()
		switch {
		case s.f == fSensitiveDataProcessing:
			m[name] = ints(u.SensitiveDataProcessing)
		case s.f == fKnownChildSensitiveDataConsents && s.n == 0:
			m[name] = float64(u.KnownChildSensitiveDataConsents[0])
		case s.f == fKnownChildSensitiveDataConsents:
			m[name] = ints(u.KnownChildSensitiveDataConsents)
		default:
			m[name] = float64(*u.ptr(s.f))
		}
	}
	switch u.lay.sub {
	case subGPC:
		m["GpcSegmentType"], m["Gpc"] = float64(1), u.Gpc
		if u.GpcSegmentIncluded {
			m["GpcSegmentType"] = float64(u.GpcSegmentType)
		}
	case subSensitive:
		sdp := u.SensitiveDataProcessing
		if sdp == nil {
			sdp = make([]int, u.lay.sensitiveSub)
		}
		m["SensitiveDataProcessing"] = ints(sdp)
	}
	return m
}

func ints(vs []int) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = float64(v)
	}
	return out
}

func TestLayoutsMatchReferenceLibrary(t *testing.T) {
	v := loadIABVectors(t)
	// Every US section the library knows, and no other.
	var libIDs []int
	for _, s := range v.Sections {
		assert.Equal(t, s.Name, SectionName(s.ID), "section %d", s.ID)
		if strings.HasPrefix(s.Name, "us") && s.Name != "uspv1" {
			libIDs = append(libIDs, s.ID)
		}
	}
	assert.Equal(t, libIDs, USSectionIDs())
	require.Len(t, v.Layouts, len(layouts))
	for _, l := range v.Layouts {
		ours := layouts[l.ID]
		require.NotNil(t, ours, l.Name)
		assert.Equal(t, l.Name, ours.name)
		// The library's field list, in order, against ours.
		var want []string
		for _, f := range l.Fields {
			n := f.Name
			if list, ok := f.Default.([]any); ok {
				n += "[" + itoa(len(list)) + "]"
			}
			want = append(want, f.Segment+"."+n)
		}
		var got []string
		prefix := "Us" + strings.ToUpper(l.Name[2:3]) + l.Name[3:] // usnat -> UsNat, the library's class names
		core := prefix + "CoreSegment."
		for _, s := range ours.core {
			n := s.f.String()
			if s.n > 0 {
				n += "[" + itoa(s.n) + "]"
			}
			got = append(got, core+n)
		}
		switch ours.sub {
		case subGPC:
			got = append(got, prefix+"GpcSegment.GpcSegmentType", prefix+"GpcSegment.Gpc")
		case subSensitive:
			got = append(got, prefix+"SensitiveDataConsentSegment.SensitiveDataProcessing["+itoa(ours.sensitiveSub)+"]")
		}
		assert.Equal(t, want, got, l.Name)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestIABVectorsUSSections(t *testing.T) {
	v := loadIABVectors(t)
	covered := map[int]bool{}
	for _, vec := range v.US {
		t.Run(vec.Name, func(t *testing.T) {
			g, err := Decode(vec.GPP)
			require.NoError(t, err)
			assert.Empty(t, g.Unknown)
			u := g.Section(vec.SectionID)
			require.NotNil(t, u)
			assert.Equal(t, vec.Section, u.Name)
			assert.Equal(t, vec.Fields, libraryFields(u))
			assert.NoError(t, u.Validate())
			// The section string alone decodes the same.
			u2, err := DecodeUS(vec.SectionID, vec.SectionString)
			require.NoError(t, err)
			assert.Equal(t, u, u2)

			// What the policy reads: each opt-out, the refusals and GPC.
			label := vec.Name[strings.IndexByte(vec.Name, '/')+1:]
			sale, sharing, targeted := u.OptedOutOfSale(), u.OptedOutOfSharing(), u.OptedOutOfTargetedAdvertising()
			switch label {
			case "opted_out":
				assert.True(t, sale)
				assert.Equal(t, u.Has("SharingOptOut"), sharing)
				assert.True(t, targeted)
			case "only_SaleOptOut", "version1":
				assert.True(t, sale)
				assert.False(t, sharing || targeted)
			case "only_SharingOptOut":
				assert.False(t, sale)
				assert.True(t, sharing)
				assert.Equal(t, u.ID == SectionUSCA, targeted, "usca's sharing opt-out is its targeted advertising opt-out")
			case "only_TargetedAdvertisingOptOut":
				assert.False(t, sale || sharing)
				assert.True(t, targeted)
			case "sensitive_refused":
				assert.True(t, u.SensitiveDataRefused())
				assert.False(t, sale || sharing || targeted)
			case "child_no_consent":
				assert.True(t, u.KnownChildConsentRefused())
			case "no_PersonalDataConsents", "no_AdditionalDataProcessingConsent":
				assert.True(t, u.ProcessingConsentRefused())
			case "gpc_true":
				assert.True(t, u.GpcSegmentIncluded && u.Gpc)
				assert.False(t, sale || sharing || targeted)
			case "gpc_false":
				assert.True(t, u.GpcSegmentIncluded)
				assert.False(t, u.Gpc)
			default:
				assert.False(t, sale || sharing || targeted)
				assert.False(t, u.SensitiveDataRefused() || u.KnownChildConsentRefused() || u.ProcessingConsentRefused())
			}
			covered[u.ID] = true
		})
	}
	for _, id := range USSectionIDs() {
		assert.True(t, covered[id], "no vector for section %d (%s)", id, SectionName(id))
	}
}

func TestIABVectorsUSPrivacy(t *testing.T) {
	v := loadIABVectors(t)
	require.Len(t, v.USPv1, 27)
	for _, vec := range v.USPv1 {
		t.Run(vec.Name, func(t *testing.T) {
			g, err := Decode(vec.GPP)
			require.NoError(t, err)
			require.NotNil(t, g.USPrivacy)
			u := g.USPrivacy
			assert.Equal(t, vec.Fields, map[string]any{"Version": float64(u.Version), "Notice": string(u.Notice),
				"OptOutSale": string(u.OptOutSale), "LspaCovered": string(u.LspaCovered)})
			assert.Equal(t, vec.SectionString, u.String())
			assert.Equal(t, u.OptOutSale == 'Y', u.OptedOutOfSale())
			// Standalone (us_privacy), and in lower case.
			s, err := DecodeUSPrivacy(vec.SectionString)
			require.NoError(t, err)
			assert.Equal(t, u, s)
			s, err = DecodeUSPrivacy(strings.ToLower(vec.SectionString))
			require.NoError(t, err)
			assert.Equal(t, u, s)
		})
	}
	for _, bad := range []string{"", "1", "1YN", "1YNNN", "0YNN", "2YNN", "1YNX", "1 NN", "1YN\x00", "1ÿNN"} {
		_, err := DecodeUSPrivacy(bad)
		assert.ErrorIs(t, err, ErrUSPrivacy, "%q", bad)
	}
}

func TestIABVectorsCombined(t *testing.T) {
	v := loadIABVectors(t)
	for _, vec := range v.Combined {
		t.Run(vec.Name, func(t *testing.T) {
			g, err := Decode(vec.GPP)
			require.NoError(t, err)
			assert.Empty(t, g.Unknown)
			for name, fields := range vec.Sections {
				switch name {
				case "uspv1":
					require.NotNil(t, g.USPrivacy)
					assert.Equal(t, fields["OptOutSale"], string(g.USPrivacy.OptOutSale))
				case "tcfeuv2":
				default:
					var u *US
					for _, x := range g.US {
						if x.Name == name {
							u = x
						}
					}
					require.NotNil(t, u, name)
					assert.Equal(t, fields, libraryFields(u), name)
				}
			}
			if vec.TCFEUv2 != "" {
				assert.Equal(t, vec.TCFEUv2, g.TCFEU)
			}
		})
	}
}

// TestIABVectorsUnknownSections: a section the library writes but this
// package does not decode is listed in Unknown, never an error, and the
// sections beside it are still decoded.
func TestIABVectorsUnknownSections(t *testing.T) {
	v := loadIABVectors(t)
	require.NotEmpty(t, v.UnknownSections)
	for _, vec := range v.UnknownSections {
		t.Run(vec.Name, func(t *testing.T) {
			g, err := Decode(vec.GPP)
			require.NoError(t, err)
			assert.Equal(t, vec.SectionIDs, g.Header.SectionIDs)
			assert.Equal(t, vec.Undecoded, g.Unknown)
			assert.Len(t, g.US, len(vec.SectionIDs)-len(vec.Undecoded))
		})
	}
}

// TestIABVectorsUpToDate runs the generator with the pinned reference
// libraries and fails when the committed vectors differ from its output.
// Without node and npm it is skipped (loudly), except under CI where it
// fails.
func TestIABVectorsUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs npm")
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "scripts", "iab-vectors"))
	require.NoError(t, err)
	node := nodetest.Require(t, dir, filepath.Join("node_modules", "@iabgpp", "cmpapi", "package.json"), "re-generate the IAB test vectors")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	outDir := t.TempDir()
	cmd := exec.CommandContext(ctx, node, "generate.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "IAB_VECTORS_OUT="+outDir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "node generate.js:\n%s", out)
	for _, rel := range []string{"internal/gpp/testdata/iab-gpp-vectors.json", "internal/tcf/testdata/iab-tcf-vectors.json"} {
		want, err := os.ReadFile(filepath.Join(outDir, rel))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join("..", "..", rel))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want, got), "%s differs from what scripts/iab-vectors/generate.js writes: run `cd scripts/iab-vectors && npm ci && node generate.js`", rel)
	}
}
