package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// iabGPPVector is one string of internal/gpp/testdata/iab-gpp-vectors.json,
// written by IAB Tech Lab's @iabgpp/cmpapi (scripts/iab-vectors).
type iabGPPVector struct {
	Name    string `json:"name"`
	Section string `json:"section"`
	GPP     string `json:"gpp"`
	// SectionString is the section alone (for uspv1: the us_privacy value).
	SectionString string         `json:"section_string"`
	Fields        map[string]any `json:"fields"`
}

func iabGPPVectors(t testing.TB) (us, usp []iabGPPVector) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "gpp", "testdata", "iab-gpp-vectors.json"))
	require.NoError(t, err)
	var f struct {
		US    []iabGPPVector `json:"us"`
		USPv1 []iabGPPVector `json:"uspv1"`
	}
	require.NoError(t, json.Unmarshal(b, &f))
	require.NotEmpty(t, f.US)
	require.NotEmpty(t, f.USPv1)
	return f.US, f.USPv1
}

// label is the part of a vector's name after the section: "opted_out".
func (v iabGPPVector) label() string { return v.Name[strings.IndexByte(v.Name, '/')+1:] }

// TestGPPEveryUSSectionOptOut: an opt-out of sale, sharing or targeted
// advertising in any US section quarantines an event a third party
// touches, and is recorded for the subject; a string without one changes
// nothing.
func TestGPPEveryUSSectionOptOut(t *testing.T) {
	p := compile(t, basePolicy)
	granted := map[string]any{"ccaas.consent.category.Analytics": true, "ccaas.consent.category.Stats": true}
	us, usp := iabGPPVectors(t)
	sections := map[string]bool{}
	for _, v := range append(us, usp...) {
		t.Run(v.Name, func(t *testing.T) {
			attrs := map[string]any{"ccaas.consent.gpp": v.GPP}
			for k, val := range granted {
				attrs[k] = val
			}
			d := eval(p, view("segment", "shop", "ccaas.analytics.track", attrs))
			optOut := false
			switch v.label() {
			case "opted_out", "only_SaleOptOut", "only_SharingOptOut", "only_TargetedAdvertisingOptOut", "version1", "gpc_true":
				optOut = true
			}
			if v.Section == "uspv1" {
				optOut = v.Fields["OptOutSale"] == "Y"
			}
			assert.Equal(t, optOut, has(d, ReasonOptOutSaleSharing), "%s: reasons %v", v.GPP, d.Reasons)
			assert.Equal(t, !optOut, d.Forward, d.Reasons)
			assert.False(t, has(d, ReasonSignalMalformed), d.Reasons)
			sections[v.Section] = true
		})
	}
	assert.Len(t, sections, 22, "usnat, 20 states and uspv1")
}
