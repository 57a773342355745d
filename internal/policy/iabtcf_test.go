package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tcfPolicy: two processors identified by their Global Vendor List ids, as
// third parties (every purpose needs consent), and events mapped to one
// TCF purpose each.
const tcfPolicy = `
processors:
  - id: v755
    role: third_party
    tcf_vendor_id: 755
    touches: {vendors: [segment]}
  - id: v5
    role: third_party
    tcf_vendor_id: 5
    touches: {vendors: [segment]}
tenants:
  - vendor: segment
    id: shop
    notice: {id: shop, processors: [v755, v5]}
purposes:
  ccaas.contact.updated: [marketing.advertising.serving]         # TCF purpose 2
  ccaas.task.created: [analytics.reporting.ad_performance]        # 7
  ccaas.analytics.track: [analytics.reporting.content_performance] # 8
  ccaas.message.sent: [functional.service.improve]                # 10
`

// iabTCF returns the TC strings @iabtechlabtcf/core wrote
// (internal/tcf/testdata/iab-tcf-vectors.json), by name.
func iabTCF(t testing.TB) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "tcf", "testdata", "iab-tcf-vectors.json"))
	require.NoError(t, err)
	var f struct {
		Vectors []struct {
			Name     string `json:"name"`
			TCString string `json:"tc_string"`
		} `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(b, &f))
	m := map[string]string{}
	for _, v := range f.Vectors {
		m[v.Name] = v.TCString
	}
	return m
}

// TestTCFRules: every TCF v2.2 rule of the policy, with strings the IAB's
// reference encoder wrote. The strings consent to purposes 1, 2, 7, 8 and
// 10, establish legitimate interest for 9 and 10, give vendors 5, 755 and
// 1000 consent and 755 legitimate interest, and disclose all three, unless
// the case says otherwise; they were last updated 2025-02-01.
func TestTCFRules(t *testing.T) {
	vec := iabTCF(t)
	for _, tc := range []struct {
		name, vector, event, policy string
		at                          time.Time
		forward                     bool
		reason                      Reason
		evidence                    string
	}{
		{name: "v2.3 string, consented purpose", vector: "v2.3", event: "ccaas.analytics.track", forward: true, evidence: "tcf:consent=1,2,7,8,10"},
		{name: "v2.2 string", vector: "v2.2", event: "ccaas.analytics.track", forward: true},
		{name: "pre-v2.2 policy version refused", vector: "v2.0", event: "ccaas.analytics.track", reason: ReasonSignalOutdated, evidence: "tcf=policy_version:2"},
		{name: "pre-v2.2 accepted when the policy allows it", vector: "v2.0", event: "ccaas.analytics.track", policy: "tcf: {min_policy_version: 2}", forward: true},
		{name: "not service-specific", vector: "not_service_specific", event: "ccaas.analytics.track", reason: ReasonSignalMalformed, evidence: "tcf=invalid"},
		{name: "no DisclosedVendors segment", vector: "no_disclosed_vendors", event: "ccaas.analytics.track", forward: true},
		{name: "DisclosedVendors required", vector: "no_disclosed_vendors", event: "ccaas.analytics.track", policy: "tcf: {require_disclosed_vendors: true}",
			reason: ReasonSignalOutdated, evidence: "tcf=disclosed_vendors:absent"},
		{name: "vendor not disclosed to the user", vector: "disclosed_without_755", event: "ccaas.analytics.track", reason: ReasonConsentDenied,
			evidence: "tcf:vendor=755:not_disclosed"},
		{name: "restriction: purpose not allowed for the vendor", vector: "restriction_not_allowed", event: "ccaas.contact.updated",
			reason: ReasonConsentDenied, evidence: "tcf:vendor=755:not_allowed=2"},
		{name: "restriction on another purpose", vector: "restriction_not_allowed", event: "ccaas.analytics.track", forward: true},
		{name: "LI counts where the policy allows it", vector: "restriction_require_li", event: "ccaas.message.sent", policy: "tcf: {legitimate_interest: [10]}",
			forward: true},
		{name: "restriction: consent required, LI does not count", vector: "restriction_require_consent", event: "ccaas.message.sent",
			policy: "tcf: {legitimate_interest: [10]}", reason: ReasonConsentDenied, evidence: "tcf:vendor=755:consent_required=10"},
		{name: "restriction: LI required, the policy allows none", vector: "restriction_require_li", event: "ccaas.task.created",
			reason: ReasonConsentDenied, evidence: "tcf:vendor=755:li_required=7"},
		{name: "restriction: LI required and allowed", vector: "restriction_require_li", event: "ccaas.task.created",
			policy: "tcf: {legitimate_interest: [7]}", forward: true},
		{name: "LI only, not allowed", vector: "li_only", event: "ccaas.analytics.track", reason: ReasonConsentDenied, evidence: "tcf:consent=none"},
		{name: "LI only, allowed", vector: "li_only", event: "ccaas.analytics.track", policy: "tcf: {legitimate_interest: [8]}", forward: true,
			evidence: "tcf:consent=none:li=8"},
		{name: "no vendor consent", vector: "no_vendor_consent_755", event: "ccaas.analytics.track", reason: ReasonConsentDenied,
			evidence: "tcf:vendor=755:no_consent"},
		{name: "updated after the event", vector: "updated_2025_06_30", event: "ccaas.analytics.track", reason: ReasonSignalPostdated,
			evidence: "tcf=updated_after_event"},
		{name: "updated before the event", vector: "updated_2025_06_30", event: "ccaas.analytics.track", at: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC),
			forward: true},
		{name: "old string, no age limit", vector: "updated_2023_01_10", event: "ccaas.analytics.track", forward: true},
		{name: "old string, older than max_age", vector: "updated_2023_01_10", event: "ccaas.analytics.track", policy: "tcf: {max_age: 9360h}",
			reason: ReasonSignalOutdated, evidence: "tcf=expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := vec[tc.vector]
			require.True(t, ok, tc.vector)
			p := compile(t, tcfPolicy+tc.policy+"\n")
			v := view("segment", "shop", tc.event, map[string]any{"ccaas.consent.tcf": s})
			if !tc.at.IsZero() {
				v.Time = tc.at
			}
			d := eval(p, v)
			assert.Equal(t, tc.forward, d.Forward, "reasons %v, evidence %v", d.Reasons, d.Evidence)
			if tc.reason != "" {
				assert.True(t, has(d, tc.reason), "want %s in %v", tc.reason, d.Reasons)
			}
			if tc.evidence != "" {
				assert.Contains(t, d.Evidence, tc.evidence)
			}
			// The same string inside a GPP string's EU TCF section decides alike.
			g := gppWithSections(t, map[int]string{2: s})
			v = view("segment", "shop", tc.event, map[string]any{"ccaas.consent.gpp": g})
			if !tc.at.IsZero() {
				v.Time = tc.at
			}
			d2 := eval(p, v)
			assert.Equal(t, d.Forward, d2.Forward, "in GPP: %v", d2.Reasons)
			assert.Equal(t, d.Reasons, d2.Reasons)
		})
	}
}

func TestTCFConfigValidation(t *testing.T) {
	for src, want := range map[string]string{
		"tcf: {legitimate_interest: [3]}":  "purpose 3 allows no legitimate interest",
		"tcf: {legitimate_interest: [25]}": "is not a TCF purpose id",
		"tcf: {min_policy_version: 64}":    "is not a TcfPolicyVersion",
		"tcf: {max_age: -1h}":              "must not be negative",
	} {
		_, err := Compile(parse(t, tcfPolicy+src+"\n"))
		require.Error(t, err, src)
		assert.Contains(t, err.Error(), want, src)
	}
}
