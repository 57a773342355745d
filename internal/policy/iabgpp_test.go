package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/consentstore"
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

// TestGPPStatements decides, for every string @iabgpp/cmpapi wrote for
// every US section and every US Privacy value, a Segment event of a tenant
// whose events reach a third party (ads), with analytics consented: each
// statement does what docs/policy.md says.
func TestGPPStatements(t *testing.T) {
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
			// The statements this string makes, by the kind they are recorded as.
			var kinds []string
			switch l := v.label(); l {
			case "opted_out":
				kinds = append(kinds, "sale", "targeted_advertising")
				if _, ok := v.Fields["SharingOptOut"]; ok {
					kinds = append(kinds, "sharing")
				}
			case "only_SaleOptOut", "version1":
				kinds = append(kinds, "sale")
			case "only_SharingOptOut":
				kinds = append(kinds, "sharing")
				if v.Section == "usca" {
					kinds = append(kinds, "targeted_advertising") // usca's sharing is its targeted advertising
				}
			case "only_TargetedAdvertisingOptOut":
				kinds = append(kinds, "targeted_advertising")
			case "child_no_consent":
				kinds = append(kinds, "known_child")
			case "gpc_true":
				kinds = append(kinds, ":gpc")
			}
			if v.Section == "uspv1" && v.Fields["OptOutSale"] == "Y" {
				kinds = append(kinds, "sale")
			}
			optOut := len(kinds) > 0
			assert.Equal(t, optOut, has(d, ReasonOptOutSaleSharing), "%s: reasons %v", v.GPP, d.Reasons)
			assert.Equal(t, !optOut, d.Forward, d.Reasons)
			assert.False(t, has(d, ReasonSignalMalformed) || has(d, ReasonSignalUnmapped), d.Reasons)
			var learned []string
			for _, r := range d.Learned {
				if r.OptOut == consentstore.OptOutSaleSharing {
					learned = append(learned, r.Signal)
				}
			}
			var want []string
			for _, k := range kinds {
				sep := "="
				if strings.HasPrefix(k, ":") {
					sep = ""
				}
				want = append(want, "gpp:"+v.Section+sep+k)
			}
			assert.ElementsMatch(t, want, learned, "each statement is recorded for the subject as its own kind")
			sections[v.Section] = true
		})
	}
	assert.Len(t, sections, 22, "usnat, 20 states and uspv1")
}

// TestGPPRefusalsMapToUses: the sensitive data and processing refusals deny
// their gpp.opt_outs uses (for every processor), the opt-out kinds deny
// theirs with the opt-out, and a sensitive tenant quarantines on a
// sensitive data refusal.
func TestGPPRefusalsMapToUses(t *testing.T) {
	us, _ := iabGPPVectors(t)
	byName := map[string]iabGPPVector{}
	for _, v := range us {
		byName[v.Name] = v
	}
	gppAttr := func(name string) map[string]any {
		v, ok := byName[name]
		require.True(t, ok, name)
		return map[string]any{"ccaas.consent.gpp": v.GPP}
	}
	// Consent to everything the AI does, through the API: a refusal in a
	// later GPP string withdraws what it maps to.
	all := rec("all", t0.Add(-time.Hour), []string{"collect", "analytics", "train_ai_system", "functional"}, nil)
	p := compile(t, basePolicy)
	for _, name := range []string{"usfl/no_AdditionalDataProcessingConsent", "usnat/no_PersonalDataConsents", "ustx/no_AdditionalDataProcessingConsent", "usri/no_AdditionalDataProcessingConsent"} {
		d := eval(p, view("genesys", "org", "ccaas.transcript.segment", gppAttr(name)), all)
		assert.False(t, d.Forward, "%s: processing refusal denies train_ai_system: %v", name, d.Reasons)
		assert.True(t, has(d, ReasonConsentDenied), d.Reasons)
		assert.Contains(t, d.Evidence, "gpp:"+strings.Split(name, "/")[0]+"=processing")
	}
	// The same string on an event without secondary use changes nothing.
	d := eval(p, view("genesys", "org", "ccaas.interaction.started", gppAttr("usfl/no_AdditionalDataProcessingConsent")), all)
	assert.True(t, d.Forward, d.Reasons)

	// Sensitive data: no uses by default; quarantines a sensitive tenant.
	for _, name := range []string{"usnat/sensitive_refused", "usca/sensitive_refused", "usut/sensitive_refused", "usin/sensitive_refused"} {
		d = eval(p, view("genesys", "org", "ccaas.interaction.started", gppAttr(name)))
		assert.True(t, d.Forward, "%s on an ordinary tenant: %v", name, d.Reasons)
		d = eval(p, view("genesys", "hotline", "ccaas.interaction.started", gppAttr(name)))
		assert.False(t, d.Forward, name)
		assert.True(t, has(d, ReasonSensitiveDataRefused), d.Reasons)
	}
	p = compile(t, edit(t, "consent_sources:", "gpp: {opt_outs: {sensitive_data: [analytics]}}\nconsent_sources:"))
	d = eval(p, view("genesys", "org", "ccaas.transcript.segment", gppAttr("usco/sensitive_refused")), all)
	assert.False(t, d.Forward)
	assert.Contains(t, d.Evidence, "gpp:usco=sensitive_data")

	// Targeted advertising opt-out on an event served by a service provider
	// (no third party) for targeted advertising: denied with the opt-out.
	// (opt_out.purposes narrowed, so that each statement's own uses show.)
	p = compile(t, edit(t, "  ccaas.analytics.track: [analytics.reporting]", "  ccaas.analytics.track: [analytics.reporting]\n  ccaas.contact.updated: [marketing.advertising.first_party.targeted]",
		"consent_sources:", "opt_out: {purposes: [third_party_sharing]}\nconsent_sources:"))
	v := view("segment", "shop", "ccaas.contact.updated", gppAttr("usco/only_TargetedAdvertisingOptOut"))
	d = eval(p, v, rec("ads-ok", t0.Add(-time.Hour), []string{"marketing"}, nil))
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonOptOutSaleSharing), d.Reasons)
	// Only a sale opt-out: targeted advertising is not what it denies.
	v = view("segment", "shop", "ccaas.contact.updated", gppAttr("usco/only_SaleOptOut"))
	d = eval(p, v, rec("ads-ok", t0.Add(-time.Hour), []string{"marketing"}, nil))
	assert.True(t, d.Forward, d.Reasons)
}

// TestGPPUnknownSections: a section Consentry does not decode is
// signal_unmapped, never silence; gpp.unknown_sections says whether it
// quarantines.
func TestGPPUnknownSections(t *testing.T) {
	// Header listing section 5 (Canadian TCF, not decoded) and 28 (not
	// registered when this was written), built by hand: the reference
	// library cannot write unknown sections.
	s := gppWithSections(t, map[int]string{5: "BPSG_8APSG_8AAyACAENGdCgf_gfgAfgfgBgABABAAABAB4AACACAAA", 28: "anything"})
	for _, tc := range []struct {
		mode                string
		thirdParty, noThird bool // forwarded?
	}{
		{"", false, true}, // default third_party
		{"third_party", false, true},
		{"quarantine", false, false},
		{"record", true, true},
	} {
		t.Run("mode="+tc.mode, func(t *testing.T) {
			src := basePolicy
			if tc.mode != "" {
				src = edit(t, "consent_sources:", "gpp: {unknown_sections: "+tc.mode+"}\nconsent_sources:")
			}
			p := compile(t, src)
			attrs := map[string]any{"ccaas.consent.gpp": s, "ccaas.consent.category.Analytics": true, "ccaas.consent.category.Stats": true}
			d := eval(p, view("segment", "shop", "ccaas.analytics.track", attrs))
			assert.True(t, has(d, ReasonSignalUnmapped), d.Reasons)
			assert.Equal(t, tc.thirdParty, d.Forward, "event reaching a third party: %v", d.Reasons)
			assert.Contains(t, d.Evidence, "gpp:section=5")
			assert.Contains(t, d.Evidence, "gpp:section=28")
			d = eval(p, view("genesys", "org", "ccaas.interaction.started", map[string]any{"ccaas.consent.gpp": s}))
			assert.True(t, has(d, ReasonSignalUnmapped), d.Reasons)
			assert.Equal(t, tc.noThird, d.Forward, "event without a third party: %v", d.Reasons)
		})
	}
}

// TestUSPrivacyStandalone: the us_privacy value (ccaas.consent.usp), every
// value @iabgpp/cmpapi writes, and malformed ones.
func TestUSPrivacyStandalone(t *testing.T) {
	p := compile(t, basePolicy)
	_, usp := iabGPPVectors(t)
	granted := map[string]any{"ccaas.consent.category.Analytics": true, "ccaas.consent.category.Stats": true}
	for _, v := range usp {
		attrs := map[string]any{"ccaas.consent.usp": v.SectionString}
		for k, val := range granted {
			attrs[k] = val
		}
		d := eval(p, view("segment", "shop", "ccaas.analytics.track", attrs))
		optOut := v.Fields["OptOutSale"] == "Y"
		assert.Equal(t, optOut, has(d, ReasonOptOutSaleSharing), v.SectionString)
		assert.Equal(t, !optOut, d.Forward, v.SectionString)
		if optOut {
			assert.Contains(t, d.Evidence, "usp=sale")
		}
	}
	for _, bad := range []string{"1YN", "2YNN", "1YXN", "yes"} {
		attrs := map[string]any{"ccaas.consent.usp": bad}
		for k, val := range granted {
			attrs[k] = val
		}
		d := eval(p, view("segment", "shop", "ccaas.analytics.track", attrs))
		assert.False(t, d.Forward, bad)
		assert.True(t, has(d, ReasonSignalMalformed), bad)
		assert.Contains(t, d.Evidence, "usp=invalid")
	}
}

// gppWithSections builds a GPP string with the given raw sections (the
// header lists them in ascending order; every ID is a single entry).
func gppWithSections(t testing.TB, sections map[int]string) string {
	t.Helper()
	var ids []int
	for id := range sections {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var bits []byte
	put := func(v uint64, n int) {
		for i := n - 1; i >= 0; i-- {
			bits = append(bits, byte(v>>uint(i)&1))
		}
	}
	fib := func(v int) {
		fibs := []int{1, 2}
		for fibs[len(fibs)-1] <= v {
			fibs = append(fibs, fibs[len(fibs)-1]+fibs[len(fibs)-2])
		}
		code := make([]byte, len(fibs))
		last := 0
		for i := len(fibs) - 1; i >= 0 && v > 0; i-- {
			if fibs[i] <= v {
				code[i], v = 1, v-fibs[i]
				last = max(last, i)
			}
		}
		bits = append(append(bits, code[:last+1]...), 1)
	}
	put(3, 6)
	put(1, 6)
	put(uint64(len(ids)), 12)
	prev := 0
	for _, id := range ids {
		put(0, 1)
		fib(id - prev)
		prev = id
	}
	out := b64(bits)
	for _, id := range ids {
		out += "~" + sections[id]
	}
	return out
}

func b64(bits []byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var sb strings.Builder
	for i := 0; i < len(bits); i += 6 {
		v := 0
		for j := 0; j < 6; j++ {
			v <<= 1
			if i+j < len(bits) {
				v |= int(bits[i+j])
			}
		}
		sb.WriteByte(alphabet[v])
	}
	return sb.String()
}
