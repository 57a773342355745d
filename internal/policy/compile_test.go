package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBasePolicyCompiles(t *testing.T) {
	p := compile(t, basePolicy)
	assert.Empty(t, p.Warnings())
	assert.Regexp(t, `^sha256:[0-9a-f]{32}$`, p.Hash())
	assert.Equal(t, Stats{Processors: 4, Tenants: 3, EventPurposes: 5, ConsentSources: 2}, p.Stats())
	// Defaults are applied.
	c := p.Config()
	assert.ElementsMatch(t, DefaultAllParty, c.Jurisdiction.AllParty)
	assert.Equal(t, UnknownAllParty, c.Jurisdiction.UnknownLocation)
	assert.Equal(t, "genesys/org", p.tenants[tenantKey{"genesys", "org"}].scope)
	assert.Equal(t, "ccaas.consent.signal.everything", c.ConsentSources["genesys"].Signals["everything"].Attribute)
	assert.True(t, *c.TCF.Enabled)
}

func TestExamplePolicyIsStrictlyValid(t *testing.T) {
	p, err := CompileFile(context.Background(), "../../config/policy.yaml")
	require.NoError(t, err)
	assert.Empty(t, p.Warnings(), "the example policy must pass policy check --strict")
	assert.True(t, p.HasTenant("genesys", "00000000-0000-4000-8000-000000000000"), "the local tenant defaults to run-local.sh's placeholder")
}

func TestInvalidPolicies(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{"empty", "{}", []string{"processors: no processors", "tenants: no tenants", "purposes: no purposes"}},
		{"bad role", edit(t, "role: service_provider", "role: vendor"),
			[]string{`processors[3] (web): role "vendor" is not processor, service_provider, contractor or third_party`}},
		{"missing role", edit(t, "    role: third_party\n", ""), []string{"processors[0] (ads): role must be set"}},
		{"duplicate processor", edit(t, "id: web", "id: vendor"), []string{`id "vendor" is defined twice`}},
		{"bad processor id", edit(t, "id: web", "id: Web Analytics"), []string{`id "Web Analytics" must be lower-case`}},
		{"unknown secondary use", edit(t, "secondary_uses: [train_ai_system]", "secondary_uses: [training]"),
			[]string{`processors[2] (vendor-ai).secondary_uses[0]: unknown secondary use "training"`}},
		{"unknown data use with suggestion", edit(t, "ccaas.analytics.track: [analytics.reporting]", "ccaas.analytics.track: [analytics.reportng]"),
			[]string{`purposes["ccaas.analytics.track"][0]: unknown data use "analytics.reportng" (did you mean "analytics.reporting"?)`}},
		{"notice names an unknown processor", edit(t, "processors: [web, ads]", "processors: [web, adz]"),
			[]string{`tenants[2] (segment/shop).notice.processors[0]: unknown processor "adz" (did you mean "ads"?)`}},
		{"tenant without notice id", edit(t, "notice: {id: shop,", "notice: {"), []string{"tenants[2] (segment/shop).notice.id: must be set"}},
		{"tenant without id", edit(t, "    id: shop\n", ""), []string{"id must be set", "is its environment variable set?"}},
		{"duplicate tenant", edit(t, "id: hotline", "id: org"), []string{"tenant genesys/org is defined twice"}},
		{"vendor typo", edit(t, "vendor: segment\n    id: shop", "vendor: segmnet\n    id: shop"),
			[]string{`"segmnet" is not a vendor Consentry receives from`, `did you mean "segment"?`}},
		{"bad jurisdiction", edit(t, "id: shop\n", "id: shop\n    jurisdictions: [California]\n"),
			[]string{`jurisdictions[0]: "California" is not an ISO 3166-1 country`}},
		{"bad all-party code", edit(t, "consent_sources:", "jurisdiction: {all_party: [us-ca]}\nconsent_sources:"),
			[]string{`jurisdiction.all_party[0]: "us-ca" is not`}},
		{"bad unknown_location", edit(t, "consent_sources:", "jurisdiction: {unknown_location: ignore}\nconsent_sources:"),
			[]string{`jurisdiction.unknown_location: "ignore" is not all_party or one_party`}},
		{"bad notice date", edit(t, `version: "3"`, `version: "3", date: "1 May 2025"`), []string{`notice.date: "1 May 2025" is not a date (YYYY-MM-DD)`}},
		{"bad event pattern", edit(t, "ccaas.recording.available:", "ccaas.*.available:"), []string{`"ccaas.*.available": a pattern is`}},
		{"signal value both granted and denied", edit(t, "recording: {purposes: [collect.recording]}", "recording: {purposes: [collect.recording], granted: [yes, ok], denied: [no, OK]}"),
			[]string{`consent_sources.genesys.signals.recording: value "ok" is both granted and denied`}},
		{"signal bad scope", edit(t, "scope: subject", "scope: forever"), []string{`signals.everything.scope: "forever" is not interaction or subject`}},
		{"signal without purposes", edit(t, "recording: {purposes: [collect.recording]}", "recording: {scope: interaction}"),
			[]string{"signals.recording.purposes: must list the purposes"}},
		{"signal name with a dot", edit(t, "recording: {purposes", "rec.ording: {purposes"), []string{`signal name "rec.ording"`}},
		{"custom purpose must extend a known one", edit(t, "consent_sources:", "custom_purposes: [wiretap.live]\nconsent_sources:"),
			[]string{`custom_purposes[0]: "wiretap.live" must extend a known data use`}},
		{"tcf purpose id", edit(t, "consent_sources:", "tcf: {purposes: {\"25\": [analytics]}}\nconsent_sources:"),
			[]string{`tcf.purposes["25"]: "25" is not a TCF purpose id`}},
		{"tenant nobody touches", edit(t, "vendor: segment\n    id: shop", "vendor: talkdesk\n    id: shop"),
			[]string{"tenants[2] (talkdesk/shop): no processor touches talkdesk events"}},
		{"touches an unknown tenant", edit(t, "tenants: [shop]", "tenants: [shopp]"), []string{`touches.tenants[0]: no tenant "shopp"`}},
		{"played notice without purposes", edit(t, "      - id: rec-prompt\n        purposes: [collect.recording]\n      - id: ai", "      - id: rec-prompt\n      - id: ai"),
			[]string{"played_notices[1].purposes: must list the purposes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseErr(tc.src)
			require.NoError(t, err)
			_, err = Compile(cfg)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestUnknownKeysAreErrors(t *testing.T) {
	_, err := parseErr(strings.Replace(basePolicy, "processors:", "proccessors:", 1))
	require.ErrorContains(t, err, "proccessors")
	_, err = parseErr(edit(t, "sensitive: true", "sensitve: true"))
	require.ErrorContains(t, err, "sensitve")
}

func TestWarnings(t *testing.T) {
	p := compile(t, edit(t, "ccaas.consent.updated:", "ccaas.transcript.segmnt: [analytics]\n  ccaas.consent.updated:"))
	require.Len(t, p.Warnings(), 1)
	assert.Contains(t, p.Warnings()[0], `"ccaas.transcript.segmnt" is not an event name the receivers write (did you mean "ccaas.transcript.segment"?)`)
}

func TestHashIsStable(t *testing.T) {
	a := compile(t, basePolicy)
	assert.Equal(t, a.Hash(), compile(t, basePolicy).Hash())

	// Order of sets does not matter; defaults spelled out do not matter.
	reordered := edit(t,
		"processors: [web, ads]", "processors: [ads, web]",
		"contract_purposes: [essential.service, collect.recording]", "contract_purposes: [collect.recording, essential.service]",
		"consent_sources:", "jurisdiction:\n  unknown_location: all_party\n  call_channels: [voice, callback, video]\nconsent_sources:")
	assert.Equal(t, a.Hash(), compile(t, reordered).Hash())

	// Anything that can change a decision changes the hash.
	for _, changed := range []string{
		edit(t, "sensitive: true", "sensitive: false"),
		edit(t, "processors: [web, ads]", "processors: [web]"),
		edit(t, "consent_sources:", "jurisdiction: {unknown_location: one_party}\nconsent_sources:"),
	} {
		assert.NotEqual(t, a.Hash(), compile(t, changed).Hash())
	}
}

func TestCompileDoesNotModifyItsInput(t *testing.T) {
	cfg := parse(t, basePolicy)
	before := *cfg
	_, err := Compile(cfg)
	require.NoError(t, err)
	assert.Equal(t, before.Jurisdiction, cfg.Jurisdiction)
	assert.Empty(t, cfg.Tenants[0].ConsentScope)
}

func TestLoadFileExpandsEnvironment(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	src := strings.Replace(basePolicy, "    id: shop\n", "    id: ${env:SHOP_SOURCE:-shop}\n", 1)
	require.NoError(t, os.WriteFile(file, []byte(src), 0o600))

	p, err := CompileFile(context.Background(), file)
	require.NoError(t, err)
	assert.True(t, p.HasTenant("segment", "shop"), "the default applies when the variable is unset")

	t.Setenv("SHOP_SOURCE", "src_123")
	p, err = CompileFile(context.Background(), file)
	require.Error(t, err, "touches.tenants still says shop")
	assert.Nil(t, p)
	assert.Contains(t, err.Error(), file)

	_, err = CompileFile(context.Background(), filepath.Join(dir, "missing.yaml"))
	require.ErrorContains(t, err, "no such file")

	require.NoError(t, os.WriteFile(file, []byte("processors: [\n"), 0o600))
	_, err = CompileFile(context.Background(), file)
	require.ErrorContains(t, err, file)
}

func TestTCFPurposeKeysMayBeIntegers(t *testing.T) {
	p := compile(t, edit(t, "consent_sources:", "tcf:\n  purposes:\n    1: [functional.storage]\n    7: [analytics.reporting]\nconsent_sources:"))
	assert.Equal(t, []string{"analytics.reporting"}, p.tcf.purposes[7])
	assert.Nil(t, p.tcf.purposes[2], "an explicit mapping replaces the default")
}

func TestCovers(t *testing.T) {
	assert.True(t, covers("analytics", "analytics"))
	assert.True(t, covers("analytics", "analytics.reporting.system"))
	assert.False(t, covers("analytics.reporting", "analytics"))
	assert.False(t, covers("analytics", "analyticsx"))
	assert.False(t, covers("collect.rec", "collect.recording"))
	assert.Equal(t, 2, editDistance("segmnet", "segment"))
}

// docs/policy.md's reason table is Reasons, row by row.
func TestReasonsAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/policy.md")
	require.NoError(t, err)
	seen := map[Reason]bool{}
	for _, r := range Reasons {
		assert.False(t, seen[r.Code], "duplicate %s", r.Code)
		seen[r.Code] = true
		assert.Equal(t, r.Blocking, r.Code.Blocking(), r.Code)
		blocking := ""
		if r.Blocking {
			blocking = "yes"
		}
		row := "| `" + string(r.Code) + "` | " + blocking + " | " + r.Meaning + " |"
		assert.Contains(t, string(doc), row, "docs/policy.md must document %s exactly as Reasons does", r.Code)
	}
}

// docs/policy.md shows config/policy.yaml verbatim.
func TestDocEmbedsExamplePolicy(t *testing.T) {
	doc, err := os.ReadFile("../../docs/policy.md")
	require.NoError(t, err)
	example, err := os.ReadFile("../../config/policy.yaml")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(doc), "<!-- example-policy")
	require.True(t, ok, "the example-policy marker is missing")
	_, block, ok := strings.Cut(after, "```yaml\n")
	require.True(t, ok)
	block, _, ok = strings.Cut(block, "```\n")
	require.True(t, ok)
	assert.Equal(t, string(example), block, "update the example in docs/policy.md")
}
