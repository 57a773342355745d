package consentprocessor

// Scenarios written from the rules of the design notes (consent.md
// sections 0, 2, 3 and 4, and BRIEF.md "The consent decision"), not from the
// implementation: each names the rule it checks, describes a vendor event,
// the tenant and policy facts and the evidence, and says which decision and
// reason codes the rule calls for. They run against the example policy
// (config/policy.yaml), with the smallest edits a scenario needs (a played
// notice's max_offset, an agent site, a TCF vendor id), and with the GPP
// and TC strings IAB Tech Lab's own libraries wrote
// (scripts/iab-vectors/generate.js).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentstore"
)

const (
	phoneDE  = "+493012345678" // Berlin: DE
	phoneCT  = "+12035550123"  // New Haven: US-CT
	phoneNY  = "+12125550123"  // New York: US-NY
	phoneMX  = "+525512345678" // Mexico City: MX
	phoneCA2 = "+13105550123"  // Los Angeles: US-CA

	scopeRetailer = "outdoor-retailer"
)

// expect is what a scenario step expects of the tagged record. Empty
// fields are not checked.
type expect struct {
	decision    string   // forward | quarantine
	status      string   // granted | denied | unknown | not_required
	reasons     []string // must all be present
	notReasons  []string // must all be absent
	evidence    []string // must all be present
	jurisdicts  []string // must all be present in consent.jurisdictions
	purposes    []string // must all be present in consent.purposes
	undisclosed []string // exactly these
	allParty    *bool
}

// step is one event of a scenario, with consent records appended to the
// store just before it is decided (an API call, a withdrawal).
type step struct {
	before []consentstore.Record
	ev     event
	want   expect
}

// scenario is one rule's fact pattern.
type scenario struct {
	name   string
	rule   string                // the rule, quoted or cited
	policy func(p policyDoc)     // edits of the example policy, if any
	store  []consentstore.Record // consent records before the first step
	steps  []step
}

func runScenarios(t *testing.T, scenarios []scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			cfg := exampleConfig()
			if sc.policy != nil {
				cfg = editedPolicy(t, sc.policy)
			}
			h := startProcessor(t, cfg, nil)
			for _, r := range sc.store {
				require.NoError(t, h.cp.eval.Store().Append(context.Background(), r))
			}
			for i, st := range sc.steps {
				for _, r := range st.before {
					require.NoError(t, h.cp.eval.Store().Append(context.Background(), r))
				}
				got := h.run(st.ev)[0]
				checkExpect(t, fmt.Sprintf("step %d (%s) [rule: %s]", i, st.ev.name, sc.rule), st.want, got)
			}
		})
	}
}

func checkExpect(t *testing.T, where string, w expect, got decided) {
	t.Helper()
	msg := fmt.Sprintf("%s: got decision=%s status=%s reasons=%v evidence=%v jurisdictions=%v",
		where, got.decision, got.status, got.reasons, got.evidence, got.jurisdictions)
	if w.decision != "" {
		assert.Equal(t, w.decision, got.decision, msg)
	}
	if w.status != "" {
		assert.Equal(t, w.status, got.status, msg)
	}
	for _, r := range w.reasons {
		assert.Contains(t, got.reasons, r, msg)
	}
	for _, r := range w.notReasons {
		assert.NotContains(t, got.reasons, r, msg)
	}
	for _, e := range w.evidence {
		assert.Contains(t, got.evidence, e, msg)
	}
	for _, j := range w.jurisdicts {
		assert.Contains(t, got.jurisdictions, j, msg)
	}
	for _, p := range w.purposes {
		assert.Contains(t, got.purposes, p, msg)
	}
	if w.undisclosed != nil {
		assert.Equal(t, w.undisclosed, got.undisclosed, msg)
	}
	if w.allParty != nil {
		assert.Equal(t, *w.allParty, got.allParty, "%s: consent.all_party_required", msg)
	}
	assert.NotEmpty(t, got.hash, msg)
}

// ---------------------------------------------------------------------------
// The example policy, edited.

// policyDoc is config/policy.yaml as a YAML tree, to edit.
type policyDoc map[string]any

func editedPolicy(t *testing.T, edit func(policyDoc)) *Config {
	t.Helper()
	b, err := os.ReadFile(examplePolicy)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, yaml.Unmarshal(b, &m))
	d := policyDoc(m)
	edit(d)
	out, err := yaml.Marshal(map[string]any(d))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(path, out, 0o600))
	cfg := exampleConfig()
	cfg.PolicyFile = path
	cfg.ReloadInterval = 0
	return cfg
}

func (d policyDoc) find(list, key, val string) map[string]any {
	for _, e := range d[list].([]any) {
		m := e.(map[string]any)
		if fmt.Sprint(m[key]) == val || strings.HasSuffix(fmt.Sprint(m[key]), ":-"+val+"}") {
			return m
		}
	}
	panic(list + " has no " + key + "=" + val)
}

func (d policyDoc) tenant(id string) map[string]any    { return d.find("tenants", "id", id) }
func (d policyDoc) processor(id string) map[string]any { return d.find("processors", "id", id) }
func (d policyDoc) add(list string, m map[string]any)  { d[list] = append(d[list].([]any), m) }

func (d policyDoc) section(name string) map[string]any {
	m, ok := d[name].(map[string]any)
	if !ok {
		m = map[string]any{}
		d[name] = m
	}
	return m
}

// ---------------------------------------------------------------------------
// IAB vectors.

type iabVectors struct {
	gpp map[string]string         // "usva/opted_out" -> GPP string
	fld map[string]map[string]any // its decoded fields (of its one section)
	usp []string                  // every US Privacy value
	tcf map[string]string         // "v2.2" -> TC string
}

var vectors = func() iabVectors {
	var g struct {
		US []struct {
			Name, GPP string
			Fields    map[string]any
		}
		Uspv1 []struct {
			Name, GPP     string
			SectionString string `json:"section_string"`
		}
		Combined []struct {
			Name, GPP string
		}
		UnknownSections []struct {
			Name, GPP string
		} `json:"unknown_sections"`
	}
	var tc struct {
		Vectors []struct {
			Name     string
			TCString string `json:"tc_string"`
		}
	}
	for file, v := range map[string]any{"../../internal/gpp/testdata/iab-gpp-vectors.json": &g, "../../internal/tcf/testdata/iab-tcf-vectors.json": &tc} {
		b, err := os.ReadFile(file)
		if err != nil {
			panic(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			panic(err)
		}
	}
	out := iabVectors{gpp: map[string]string{}, fld: map[string]map[string]any{}, tcf: map[string]string{}}
	for _, v := range g.US {
		out.gpp[v.Name], out.fld[v.Name] = v.GPP, v.Fields
	}
	for _, v := range g.Combined {
		out.gpp[v.Name] = v.GPP
	}
	for _, v := range g.UnknownSections {
		out.gpp[v.Name] = v.GPP
	}
	for _, v := range g.Uspv1 {
		out.usp = append(out.usp, v.SectionString)
		out.gpp[v.Name] = v.GPP
	}
	for _, v := range tc.Vectors {
		out.tcf[v.Name] = v.TCString
	}
	return out
}()

func gppVector(t *testing.T, name string) string {
	t.Helper()
	s, ok := vectors.gpp[name]
	require.True(t, ok, "no GPP vector %q", name)
	return s
}

func tcfVector(t *testing.T, name string) string {
	t.Helper()
	s, ok := vectors.tcf[name]
	require.True(t, ok, "no TCF vector %q", name)
	return s
}

// ---------------------------------------------------------------------------
// Small builders.

func attrs(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func hints(h ...string) []any {
	out := make([]any, len(h))
	for i, s := range h {
		out[i] = s
	}
	return out
}

func apiRecord(id, scope, subjectKey string, at time.Time, granted, denied []string) consentstore.Record {
	return consentstore.Record{ID: id, Source: consentstore.SourceAPI, Key: consentstore.Key{Scope: scope, Subject: subjectKey},
		Granted: granted, Denied: denied, At: at}
}

func phoneKey(p string) string { return keyer.Key("phone", p) }
func emailKey(e string) string { return keyer.Key("email", e) }

const (
	fwd = "forward"
	qua = "quarantine"
)

// webEvent is a Segment track event of the retailer's website (reaches the
// ad platforms, a third party) by a visitor who granted every category.
func webEvent(email string, at time.Time, extra ...any) event {
	a := attrs("ccaas.consent.category.Analytics", true, "ccaas.consent.category.Advertising", true)
	for k, v := range attrs(extra...) {
		a[k] = v
	}
	return event{vendor: "segment", tenant: tenantOutdoorWeb, name: ccaas.EventAnalyticsTrack, email: email, channel: "web", at: at, attrs: a}
}

func yesP() *bool { return yes() }
func noP() *bool  { return no() }

// tdCall is a Talkdesk event of the outdoor retailer's contact center
// (Talkdesk is disclosed; contract_purposes cover recording where one
// party's consent is enough).
func tdCall(name, phone, interaction string, at time.Time, extra ...any) event {
	return event{vendor: "talkdesk", tenant: tenantRetailer, name: name, phone: phone, interaction: interaction, channel: "voice", at: at, attrs: attrs(extra...)}
}

// gnCall is a Genesys event of the local organization (Genesys and Genesys
// AI disclosed; played notice recording-notice-v1).
func gnCall(name, phone, interaction string, at time.Time, extra ...any) event {
	return event{vendor: "genesys", tenant: tenantLocal, name: name, phone: phone, interaction: interaction, channel: "voice", at: at, attrs: attrs(extra...)}
}

// ---------------------------------------------------------------------------
// consent.md §0 and BRIEF.md "Why it exists": the three lawsuits.

func TestRulesLawsuits(t *testing.T) {
	aiGrant := []string{"collect.recording", "collect.transcription", "analytics.reporting", "train_ai_system", "functional.service.improve"}
	runScenarios(t, []scenario{
		{
			name: "Bender: Segment not named in the app's notice, even with every category granted",
			rule: "consent.md §0: vendor whose name was absent from the notice; R3 v ∈ notice(i).named_recipients",
			steps: []step{{ev: event{vendor: "segment", tenant: tenantMeditationA, name: ccaas.EventAnalyticsTrack, email: "calm@example.com", channel: "app",
				attrs: attrs("ccaas.consent.category.Analytics", true, "ccaas.consent.category.Advertising", true, "ccaas.consent.category.DataSharing", true)},
				want: expect{decision: qua, reasons: []string{"processor_undisclosed"}, undisclosed: []string{"segment"}}}},
		},
		{
			name: "Bender: users could not opt in or out (no consent object): fail closed",
			rule: "BRIEF: No evidence ... quarantine, with a reason code",
			steps: []step{{ev: event{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventAnalyticsTrack, email: "calm@example.com", channel: "app"},
				want: expect{decision: qua, status: "unknown", reasons: []string{"consent_missing"}}}},
		},
		{
			name: "Bender: Segment builds cross-app profiles (terms allow it): a third party, analytics consent alone is not enough",
			rule: "consent.md §0 (3) + R2 capability: allows_own_use(cross_customer_profiling) => third party; R3 consent(i).covers(v.purposes)",
			policy: func(p policyDoc) {
				p.processor("segment")["secondary_uses"] = []any{"cross_customer_profiling"}
			},
			steps: []step{
				{ev: event{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventAnalyticsTrack, email: "calm@example.com", channel: "app",
					attrs: attrs("ccaas.consent.category.Analytics", true)},
					want: expect{decision: qua, reasons: []string{"secondary_use"}, purposes: []string{"third_party_sharing"}}},
				{ev: event{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventAnalyticsTrack, email: "calm2@example.com", channel: "app",
					attrs: attrs("ccaas.consent.category.Analytics", true, "ccaas.consent.category.DataSharing", true)},
					want: expect{decision: fwd, status: "granted", reasons: []string{"secondary_use", "consent_granted"}}},
			},
		},
		{
			name: "Patagonia: Talkdesk AI transcribes a California call, no consent",
			rule: "consent.md §0 + R1 (all-party) + R2 (train_ai_system => third party)",
			steps: []step{{ev: tdCall(ccaas.EventTranscriptSegment, phoneCA, "pat-1", t0),
				want: expect{decision: qua, status: "unknown", allParty: yesP(), reasons: []string{"secondary_use", "all_party_jurisdiction", "consent_missing"},
					purposes: []string{"train_ai_system"}}}},
		},
		{
			name: "Patagonia: the caller is in Texas (one-party), the AI vendor is still a third party",
			rule: "R2/R3: a third party needs consent covering its purposes whatever the recording law",
			steps: []step{{ev: tdCall(ccaas.EventTranscriptSegment, phoneTX, "pat-2", t0),
				want: expect{decision: qua, status: "unknown", allParty: noP(), reasons: []string{"secondary_use", "consent_missing"}}}},
		},
		{
			name: "Patagonia: the notice names Talkdesk but not its AI",
			rule: "consent.md §0 (2): name absent from the notice",
			policy: func(p policyDoc) {
				p.tenant(tenantRetailer)["notice"].(map[string]any)["processors"] = []any{"talkdesk"}
			},
			store: []consentstore.Record{apiRecord("cr_pat3", scopeRetailer, phoneKey(phoneTX), t0.Add(-time.Hour), aiGrant, nil)},
			steps: []step{
				{ev: tdCall(ccaas.EventTranscriptSegment, phoneTX, "pat-3", t0),
					want: expect{decision: qua, reasons: []string{"processor_undisclosed"}, undisclosed: []string{"talkdesk-ai"}}},
				{ev: tdCall(ccaas.EventRecordingAvailable, phoneTX, "pat-3", t0.Add(time.Minute)),
					want: expect{decision: fwd, notReasons: []string{"processor_undisclosed"}}},
			},
		},
		{
			name: "Patagonia: a generic recording notice does not cover the AI vendor's own use",
			rule: "consent.md §3.4: a generic 'may be recorded for quality' notice may not cover third-party AI analysis or vendor model training",
			policy: func(p policyDoc) {
				p.tenant(tenantRetailer)["played_notices"] = []any{map[string]any{"id": "rec-generic", "purposes": []any{"collect.recording", "collect.transcription"}}}
			},
			steps: []step{
				{ev: tdCall(ccaas.EventInteractionAttributes, phoneCA, "pat-4", t0, "ccaas.consent.notice.id", "rec-generic", "ccaas.consent.notice.offset", 2.0),
					want: expect{decision: fwd}},
				{ev: tdCall(ccaas.EventRecordingAvailable, phoneCA, "pat-4", t0.Add(5*time.Minute)),
					want: expect{decision: fwd, reasons: []string{"implied_consent"}}},
				{ev: tdCall(ccaas.EventTranscriptSegment, phoneCA, "pat-4", t0.Add(time.Minute)),
					want: expect{decision: qua, reasons: []string{"secondary_use"}}},
			},
		},
		{
			name: "Genesys hotline: a chat answered by Genesys before any human, Genesys not named",
			rule: "consent.md §0 Genesys/NDVH: callers believed they spoke only to NDVH",
			steps: []step{{ev: event{vendor: "genesys", tenant: tenantHotline, name: ccaas.EventMessageReceived, phone: phoneTX, interaction: "ndvh-1", channel: "chat"},
				want: expect{decision: qua, reasons: []string{"processor_undisclosed"}, undisclosed: []string{"genesys"}}}},
		},
		{
			name:  "Genesys hotline that names Genesys: its AI (own purposes) stays quarantined even with consent",
			rule:  "BRIEF: sensitive flag forbids secondary use; R3 !(sensitive && train_ai_system)",
			store: []consentstore.Record{apiRecord("cr_ndvh2", "genesys/"+tenantCrisisLine, phoneKey(phoneTX), t0.Add(-time.Hour), []string{"collect", "analytics", "functional", "train_ai_system"}, nil)},
			steps: []step{{ev: event{vendor: "genesys", tenant: tenantCrisisLine, name: ccaas.EventAnalyticsSentiment, phone: phoneTX, interaction: "ndvh-2", channel: "chat"},
				want: expect{decision: qua, reasons: []string{"sensitive_secondary_use"}}}},
		},
		{
			name: "Ambriz: a CCAI vendor whose terms allow its own use is a third party (capability test)",
			rule: "consent.md §3.3 Ambriz (capability test) + R2",
			policy: func(p policyDoc) {
				p.processor("twilio-ai")["secondary_uses"] = []any{"product_improvement"}
			},
			store: []consentstore.Record{apiRecord("cr_amb", "twilio/ACf54dd7a47a8011d65b54d472a7190549", phoneKey(phoneTX), t0.Add(-time.Hour),
				[]string{"collect.transcription", "analytics.reporting"}, nil)},
			steps: []step{{ev: event{vendor: "twilio", tenant: "ACf54dd7a47a8011d65b54d472a7190549", name: ccaas.EventTranscriptSegment, phone: phoneTX, interaction: "amb-1", channel: "voice"},
				want: expect{decision: qua, reasons: []string{"secondary_use"}, purposes: []string{"functional.service.improve"}}}},
		},
		{
			name:  "Ambriz counterpart: the same vendor without own-use terms, consent to its purposes: forward",
			rule:  "R2 (no own use, role processor => not a third party); R3",
			store: []consentstore.Record{apiRecord("cr_amb2", "twilio/ACf54dd7a47a8011d65b54d472a7190549", phoneKey(phoneTX), t0.Add(-time.Hour), []string{"collect.transcription", "analytics.reporting"}, nil)},
			steps: []step{{ev: event{vendor: "twilio", tenant: "ACf54dd7a47a8011d65b54d472a7190549", name: ccaas.EventTranscriptSegment, phone: phoneTX, interaction: "amb-2", channel: "voice"},
				want: expect{decision: fwd, status: "granted", notReasons: []string{"secondary_use"}}}},
		},
	})
}

// ---------------------------------------------------------------------------
// consent.md §3.1/§3.2 and BRIEF "Jurisdiction": every party's location, the
// strictest law, unknown counts as all-party.

func TestRulesAllPartyJurisdictions(t *testing.T) {
	rec := ccaas.EventRecordingAvailable
	granted := func(id, phone string) consentstore.Record {
		return apiRecord(id, scopeRetailer, phoneKey(phone), t0.Add(-time.Hour), []string{"collect.recording"}, nil)
	}
	runScenarios(t, []scenario{
		{
			name: "every party in one-party states: recording rests on the business's own consent",
			rule: "§3.1 baseline one-party; §3.2 jurisdiction_set has no all-party member",
			steps: []step{{ev: tdCall(rec, phoneTX, "j-1", t0, "ccaas.jurisdiction.hints", hints("US-TX@customer.e164", "US-NY@business.e164", "US-GA@agent.attribute")),
				want: expect{decision: fwd, status: "not_required", allParty: noP(),
					jurisdicts: []string{"US-TX@customer.e164", "US-NY@business.e164", "US-GA@agent.attribute"}}}},
		},
		{
			name: "the customer's hints disagree: area code Texas, address on file California",
			rule: "§3.2 jurisdiction_set = {customer_state_candidates…}; strictest law",
			steps: []step{{ev: tdCall(rec, phoneTX, "j-2", t0, "ccaas.jurisdiction.hints", hints("US-TX@customer.e164", "US-CA@customer.address")),
				want: expect{decision: qua, status: "unknown", allParty: yesP(), reasons: []string{"all_party_jurisdiction", "consent_missing"},
					jurisdicts: []string{"US-TX@customer.e164", "US-CA@customer.address"}}}},
		},
		{
			name: "the customer's primary hint is Texas (vendor field), the area code California",
			rule: "§3.2 customer_state_candidates…",
			steps: []step{{ev: tdCall(rec, phoneCA, "j-3", t0,
				"ccaas.jurisdiction.region", "US-TX", "ccaas.jurisdiction.country", "US", "ccaas.jurisdiction.source", "vendor_field",
				"ccaas.jurisdiction.hints", hints("US-TX@customer.vendor_field", "US-CA@customer.e164")),
				want: expect{decision: qua, allParty: yesP(), reasons: []string{"all_party_jurisdiction"}, jurisdicts: []string{"US-CA@customer.e164"}}}},
		},
		{
			name: "Texan caller dials a California business number (DNIS area code)",
			rule: "§3.2 Kearney: strictest law of any party's location; the called number counts",
			steps: []step{{ev: func() event {
				e := tdCall(rec, phoneTX, "j-4", t0, "ccaas.jurisdiction.hints", hints("US-TX@customer.e164", "US-CA@business.e164"), "ccaas.business.number", phoneCA2)
				return e
			}(), want: expect{decision: qua, allParty: yesP(), reasons: []string{"all_party_jurisdiction"}, jurisdicts: []string{"US-CA@business.e164"}}}},
		},
		{
			name: "Twilio FromState TX, ToState FL",
			rule: "§3.2 every party counts",
			steps: []step{{ev: event{vendor: "twilio", tenant: "ACf54dd7a47a8011d65b54d472a7190549", name: rec, phone: phoneTX, interaction: "j-5", channel: "voice",
				attrs: attrs("ccaas.jurisdiction.hints", hints("US-TX@customer.vendor_field", "US-FL@business.vendor_field"))},
				want: expect{decision: qua, allParty: yesP(), reasons: []string{"all_party_jurisdiction"}, jurisdicts: []string{"US-FL@business.vendor_field"}}}},
		},
		{
			name: "a toll-free business number the tenant says stands for California",
			rule: "§3.2 the called number counts; area code is only a hint",
			policy: func(p policyDoc) {
				p.tenant(tenantRetailer)["numbers"] = map[string]any{"+18005550100": "US-CA"}
			},
			steps: []step{{ev: tdCall(rec, phoneTX, "j-6", t0, "ccaas.business.number", "+18005550100"),
				want: expect{decision: qua, allParty: yesP(), jurisdicts: []string{"US-CA@business.tenant_number"}}}},
		},
		{
			name: "Texan caller, agent at a Florida site (config)",
			rule: "§3.2 jurisdiction_set = {agent_state, ...}",
			policy: func(p policyDoc) {
				p.tenant(tenantRetailer)["sites"] = []any{
					map[string]any{"id": "miami", "jurisdiction": "US-FL", "agents": []any{"agent-fl"}},
					map[string]any{"id": "austin", "jurisdiction": "US-TX", "agents": []any{"agent-tx"}},
				}
			},
			steps: []step{
				{ev: tdCall(rec, phoneTX, "j-7", t0, "ccaas.agent.id", "agent-fl"),
					want: expect{decision: qua, allParty: yesP(), jurisdicts: []string{"US-FL@agent.site"}}},
				{ev: tdCall(rec, phoneTX, "j-8", t0, "ccaas.agent.id", "agent-tx"),
					want: expect{decision: fwd, allParty: noP(), jurisdicts: []string{"US-TX@agent.site"}}},
			},
		},
		{
			name: "Texan caller, agent location from an event attribute (Washington)",
			rule: "§3.2 agent location; §3.1 WA all-party",
			steps: []step{{ev: tdCall(rec, phoneTX, "j-9", t0, "ccaas.jurisdiction.hints", hints("US-TX@customer.e164", "US-WA@agent.attribute")),
				want: expect{decision: qua, allParty: yesP(), jurisdicts: []string{"US-WA@agent.attribute"}}}},
		},
		{
			name: "the business itself is in an all-party state (tenant jurisdictions)",
			rule: "§3.2 jurisdiction_set includes the business/agent",
			policy: func(p policyDoc) {
				p.tenant(tenantRetailer)["jurisdictions"] = []any{"US-PA"}
			},
			steps: []step{{ev: tdCall(rec, phoneTX, "j-10", t0),
				want: expect{decision: qua, allParty: yesP(), jurisdicts: []string{"US-PA@tenant.config"}}}},
		},
		{
			name: "unknown location (no phone, no hint) counts as all-party",
			rule: "R1: unknown location counts as all-party; BRIEF: an unknown location counts as all-party",
			steps: []step{{ev: event{vendor: "talkdesk", tenant: tenantRetailer, name: rec, opaque: "contact-77", interaction: "j-11", channel: "voice"},
				want: expect{decision: qua, allParty: yesP(), reasons: []string{"jurisdiction_unknown", "all_party_jurisdiction"}, jurisdicts: []string{"unknown@customer.none"}}}},
		},
		{
			name: "a country-only hint (US) is not a location for a state law",
			rule: "§3.2: if customer state is unknown → require all-party",
			steps: []step{{ev: event{vendor: "talkdesk", tenant: tenantRetailer, name: rec, opaque: "contact-78", interaction: "j-12", channel: "voice",
				attrs: attrs("ccaas.jurisdiction.country", "US", "ccaas.jurisdiction.source", "vendor_field")},
				want: expect{decision: qua, allParty: yesP(), reasons: []string{"jurisdiction_unknown"}}}},
		},
		{
			name: "an unreadable location hint is an unknown location",
			rule: "§3.2 unknown → all-party; fail closed on what cannot be read",
			steps: []step{{ev: tdCall(rec, phoneTX, "j-13", t0, "ccaas.jurisdiction.hints", hints("US-TX@customer.e164", "somewhere@agent.attribute")),
				want: expect{decision: qua, allParty: yesP()}}},
		},
		{
			name: "Connecticut caller on a voice call: treated as all-party for calls",
			rule: "BRIEF: CT, DE, MI, NV, OR treated as all-party for calls by default",
			steps: []step{
				{ev: tdCall(rec, phoneCT, "j-14", t0), want: expect{decision: qua, allParty: yesP(), jurisdicts: []string{"US-CT@customer.e164"}}},
				{ev: event{vendor: "talkdesk", tenant: tenantRetailer, name: rec, phone: phoneCT, interaction: "j-15", channel: "chat"},
					want: expect{decision: fwd, allParty: noP()}},
				{ev: event{vendor: "talkdesk", tenant: tenantRetailer, name: rec, phone: phoneCT, interaction: "j-16"},
					want: expect{decision: qua, allParty: yesP()}},
			},
		},
		{
			name: "California chat transcript: all-party is not only for calls",
			rule: "§3.1 CA firm all-party; §3.3 §631(a) covers communications in transit",
			steps: []step{{ev: event{vendor: "talkdesk", tenant: tenantRetailer, name: rec, phone: phoneCA, interaction: "j-17", channel: "chat"},
				want: expect{decision: qua, allParty: yesP()}}},
		},
		{
			name:  "a caller outside the US (Mexico) is a known, one-party location",
			rule:  "§3.2 the jurisdiction set has no all-party member",
			steps: []step{{ev: tdCall(rec, phoneMX, "j-18", t0), want: expect{decision: fwd, allParty: noP(), jurisdicts: []string{"MX@customer.e164"}}}},
		},
		{
			name:  "all-party required and the caller consented (store): forward",
			rule:  "R1 explicit_consent(i)",
			store: []consentstore.Record{granted("cr_j19", phoneTX)},
			steps: []step{{ev: tdCall(rec, phoneTX, "j-19", t0, "ccaas.jurisdiction.hints", hints("US-TX@customer.e164", "US-CA@customer.address")),
				want: expect{decision: fwd, status: "granted", allParty: yesP(), evidence: []string{"consent:cr_j19"}}}},
		},
		{
			name: "all-party required and the caller said yes in the IVR of this call",
			rule: "BRIEF evidence: an in-event signal (a recording-consent attribute, an IVR opt-in)",
			steps: []step{
				{ev: tdCall(ccaas.EventInteractionAttributes, phoneCA, "j-20", t0, "ccaas.consent.signal.recording", "yes"), want: expect{decision: fwd}},
				{ev: tdCall(rec, phoneCA, "j-20", t0.Add(5*time.Minute)), want: expect{decision: fwd, status: "granted", allParty: yesP()}},
			},
		},
		{
			name: "all-party required and the caller said no in the IVR",
			rule: "R1; BRIEF evidence",
			steps: []step{
				{ev: tdCall(ccaas.EventInteractionAttributes, phoneCA, "j-21", t0, "ccaas.consent.signal.recording", "no"), want: expect{decision: fwd}},
				{ev: tdCall(rec, phoneCA, "j-21", t0.Add(5*time.Minute)), want: expect{decision: qua, status: "denied", reasons: []string{"consent_denied"}}},
			},
		},
	})
}

// ---------------------------------------------------------------------------
// BRIEF "Processors" (capability test) and "Tenants" (sensitive).

func TestRulesCapabilityAndSensitive(t *testing.T) {
	crisis := "genesys/" + tenantCrisisLine
	crisisEv := func(name, interaction string, at time.Time, extra ...any) event {
		return event{vendor: "genesys", tenant: tenantCrisisLine, name: name, phone: phoneTX, interaction: interaction, channel: "voice", at: at, attrs: attrs(extra...)}
	}
	runScenarios(t, []scenario{
		{
			name: "a processor whose terms allow product improvement is a third party: contract purposes need consent",
			rule: "BRIEF: a processor whose terms allow its own use counts as a third party; R2",
			steps: []step{{ev: gnCall(ccaas.EventTranscriptSegment, phoneTX, "c-1", t0),
				want: expect{decision: qua, status: "unknown", reasons: []string{"secondary_use", "consent_missing"}, purposes: []string{"functional.service.improve"}}}},
		},
		{
			name: "the same vendor's own events (no secondary use) rest on the contract",
			rule: "R2: role processor without own use is not a third party",
			steps: []step{{ev: gnCall(ccaas.EventInteractionStarted, phoneTX, "c-2", t0),
				want: expect{decision: fwd, status: "not_required", reasons: []string{"contract_basis"}, notReasons: []string{"secondary_use"}}}},
		},
		{
			name: "role third_party: every purpose needs consent even if disclosed",
			rule: "R2: v.role not in {processor, service_provider, contractor}",
			steps: []step{{ev: event{vendor: "segment", tenant: tenantOutdoorWeb, name: ccaas.EventAnalyticsTrack, email: "tp@example.com", channel: "web"},
				want: expect{decision: qua, reasons: []string{"third_party_role", "consent_missing"}}}},
		},
		{
			name: "role contractor (CCPA) is not a third party",
			rule: "R2: v.role not in {processor, service_provider, contractor}; consent.md §3.6 service provider / contractor",
			policy: func(p policyDoc) {
				p.processor("talkdesk")["role"] = "contractor"
			},
			steps: []step{{ev: tdCall(ccaas.EventInteractionStarted, phoneTX, "c-3", t0),
				want: expect{decision: fwd, status: "not_required", notReasons: []string{"third_party_role"}}}},
		},
		{
			name:  "sensitive tenant, consented recording by the vendor itself: forward",
			rule:  "BRIEF sensitive: forbids secondary use (Genesys itself has none); explicit consent is not ambiguous",
			store: []consentstore.Record{apiRecord("cr_s1", crisis, phoneKey(phoneTX), t0.Add(-time.Hour), []string{"collect.recording"}, nil)},
			steps: []step{{ev: crisisEv(ccaas.EventRecordingAvailable, "s-1", t0), want: expect{decision: fwd, status: "granted"}}},
		},
		{
			name: "sensitive tenant, recording resting on a played notice only: ambiguous",
			rule: "BRIEF: sensitive ... quarantines anything ambiguous",
			policy: func(p policyDoc) {
				p.tenant(tenantCrisisLine)["played_notices"] = []any{map[string]any{"id": "crisis-rec", "purposes": []any{"collect.recording"}}}
			},
			steps: []step{
				{ev: crisisEv(ccaas.EventInteractionAttributes, "s-2", t0, "ccaas.consent.notice.id", "crisis-rec", "ccaas.consent.notice.offset", 1.0), want: expect{}},
				{ev: crisisEv(ccaas.EventRecordingAvailable, "s-2", t0.Add(5*time.Minute)), want: expect{decision: qua, reasons: []string{"sensitive_ambiguous"}}},
			},
		},
		{
			name:  "sensitive tenant, no consent recorded: quarantine",
			rule:  "BRIEF: sensitive quarantines anything ambiguous; fail closed",
			steps: []step{{ev: crisisEv(ccaas.EventRecordingAvailable, "s-3", t0), want: expect{decision: qua, status: "unknown"}}},
		},
		{
			name: "sensitive tenant, marketing or the business's own AI training, with consent",
			rule: "R3: !(i.sensitive_context && v.purposes ∩ {train_ai_system, marketing.*})",
			policy: func(p policyDoc) {
				// Marketing texts, and the hotline training its own model on
				// chats (no vendor's secondary use).
				p.tenant(tenantCrisisLine)["purposes"] = map[string]any{
					"ccaas.message.sent":     []any{"marketing.communications.sms"},
					"ccaas.message.received": []any{"essential.service.operations.support", "train_ai_system"},
				}
			},
			store: []consentstore.Record{apiRecord("cr_s4", crisis, phoneKey(phoneTX), t0.Add(-time.Hour), []string{"marketing", "train_ai_system", "essential"}, nil)},
			steps: []step{
				{ev: event{vendor: "genesys", tenant: tenantCrisisLine, name: ccaas.EventMessageSent, phone: phoneTX, interaction: "s-4", channel: "message"},
					want: expect{decision: qua, status: "granted", reasons: []string{"sensitive_purpose"}}},
				{ev: event{vendor: "genesys", tenant: tenantCrisisLine, name: ccaas.EventMessageReceived, phone: phoneTX, interaction: "s-4", channel: "message"},
					want: expect{decision: qua, status: "granted", reasons: []string{"sensitive_purpose"}}},
				// Its other events still flow.
				{ev: event{vendor: "genesys", tenant: tenantCrisisLine, name: ccaas.EventInteractionStarted, phone: phoneTX, interaction: "s-4", channel: "message"},
					want: expect{decision: fwd, notReasons: []string{"sensitive_purpose"}}},
			},
		},
		{
			name: "sensitive tenant, a disclosed third party with consent",
			rule: "BRIEF sensitive; R3",
			policy: func(p policyDoc) {
				p.add("processors", map[string]any{"id": "crm-partner", "role": "third_party", "touches": map[string]any{"vendors": []any{"genesys"}, "tenants": []any{tenantCrisisLine}, "events": []any{"ccaas.interaction.ended"}}})
				n := p.tenant(tenantCrisisLine)["notice"].(map[string]any)
				n["processors"] = append(n["processors"].([]any), "crm-partner")
			},
			store: []consentstore.Record{apiRecord("cr_s5", crisis, phoneKey(phoneTX), t0.Add(-time.Hour), []string{"essential"}, nil)},
			steps: []step{{ev: crisisEv(ccaas.EventInteractionEnded, "s-5", t0), want: expect{decision: qua, reasons: []string{"sensitive_third_party"}}}},
		},
		{
			name: "sensitive tenant, GPP says the person refused processing of sensitive data",
			rule: "BRIEF sensitive; consent.md §2.2 SensitiveDataProcessing",
			steps: []step{{ev: event{vendor: "genesys", tenant: tenantCrisisLine, name: ccaas.EventMessageReceived, phone: phoneTX, interaction: "s-6", channel: "chat",
				attrs: attrs("ccaas.consent.gpp", gppVector(t, "usnat/sensitive_refused"))},
				want: expect{decision: qua, reasons: []string{"sensitive_data_refused"}}}},
		},
	})
}

// ---------------------------------------------------------------------------
// consent.md §2.3 GPC, §3.6 sale/sharing, BRIEF "Sec-GPC: 1 opts out of sale
// and sharing for that subject from then on"; opting back in.

func TestRulesGPCAndOptIn(t *testing.T) {
	web := func(phone string, at time.Time, extra ...any) event {
		a := attrs("ccaas.consent.category.Analytics", true, "ccaas.consent.category.Advertising", true)
		for k, v := range attrs(extra...) {
			a[k] = v
		}
		return event{vendor: "segment", tenant: tenantOutdoorWeb, name: ccaas.EventAnalyticsTrack, phone: phone, channel: "web", at: at, attrs: a}
	}
	aiGrant := []string{"collect.recording", "collect.transcription", "analytics.reporting", "train_ai_system", "functional.service.improve"}
	optIn := func(id, phone string, at time.Time) consentstore.Record {
		return consentstore.Record{ID: id, Source: consentstore.SourceAPI, Key: consentstore.Key{Scope: scopeRetailer, Subject: phoneKey(phone)},
			OptOut: consentstore.OptInSaleSharing, At: at}
	}
	runScenarios(t, []scenario{
		{
			name:  "GPC on the website persists: a later voice call's AI (third party) event is blocked, the vendor's own recording is not",
			rule:  "§2.3: persist GPC against the identity so that a later voice interaction inherits no sale/share",
			store: []consentstore.Record{apiRecord("cr_g1", scopeRetailer, phoneKey(phoneTX), t0.Add(-24*time.Hour), aiGrant, nil)},
			steps: []step{
				{ev: web(phoneTX, t0, "ccaas.consent.gpc", true), want: expect{decision: qua, reasons: []string{"opt_out_sale_sharing", "opt_out_recorded"}, evidence: []string{"gpc"}}},
				{ev: tdCall(ccaas.EventTranscriptSegment, phoneTX, "g-1", t0.Add(time.Hour)), want: expect{decision: qua, reasons: []string{"opt_out_sale_sharing"}}},
				{ev: tdCall(ccaas.EventRecordingAvailable, phoneTX, "g-1", t0.Add(time.Hour)), want: expect{decision: fwd}},
			},
		},
		{
			name: "GPC does not stop a service provider's analytics (no sale or sharing)",
			rule: "§3.6: disclosure to a third party is sale/sharing; a service provider is not a third party",
			steps: []step{{ev: event{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventAnalyticsTrack, email: "g2@example.com", channel: "app",
				attrs: attrs("ccaas.consent.category.Analytics", true, "ccaas.consent.gpc", true)},
				want: expect{decision: fwd, status: "granted"}}},
		},
		{
			name: "an event dated before the GPC signal but forwarded after it is blocked",
			rule: "BRIEF: opts out ... from then on; forwarding is processing (issue 13 withdrawal default)",
			steps: []step{
				{ev: web(phoneNY, t0.Add(time.Hour), "ccaas.consent.gpc", true), want: expect{decision: qua}},
				{ev: web(phoneNY, t0), want: expect{decision: qua, reasons: []string{"opt_out_sale_sharing", "withdrawal_after_event"}}},
			},
		},
		{
			name: "opt back in through the API after GPC: the next event, still with Sec-GPC: 1, forwards",
			rule: "issue 13: consent recorded through the API can opt a subject back into sale and sharing after GPC (CCPA)",
			steps: []step{
				{ev: web(phoneCA, t0, "ccaas.consent.gpc", true), want: expect{decision: qua}},
				{before: []consentstore.Record{optIn("cr_optin1", phoneCA, t0.Add(time.Hour))},
					ev: web(phoneCA, t0.Add(2*time.Hour), "ccaas.consent.gpc", true), want: expect{decision: fwd, reasons: []string{"opt_in_overrides_signal"}, evidence: []string{"consent:cr_optin1"}}},
				{ev: web(phoneCA, t0.Add(3*time.Hour)), want: expect{decision: fwd}},
				{ev: web(phoneCA, t0.Add(4*time.Hour), "ccaas.consent.gpp", gppVector(t, "usca/only_SaleOptOut")),
					want: expect{decision: qua, reasons: []string{"opt_out_sale_sharing"}}},
			},
		},
		{
			name:  "an opt-in dated before the GPC signal does not override it",
			rule:  "latest statement wins; GPC from then on",
			store: []consentstore.Record{optIn("cr_optin2", phoneCA2, t0.Add(-time.Hour))},
			steps: []step{
				{ev: web(phoneCA2, t0, "ccaas.consent.gpc", true), want: expect{decision: qua, reasons: []string{"opt_out_sale_sharing"}}},
				{ev: web(phoneCA2, t0.Add(time.Hour)), want: expect{decision: qua, reasons: []string{"opt_out_sale_sharing"}}},
			},
		},
		{
			name: "an opt-in through the API does not cover an event that happened before it",
			rule: "consent.md §3.3 (Javier): consent given at the end does not cover what happened earlier",
			steps: []step{
				{ev: web(phoneMX, t0, "ccaas.consent.gpc", true), want: expect{decision: qua}},
				{before: []consentstore.Record{optIn("cr_optin3", phoneMX, t0.Add(2*time.Hour))},
					ev: web(phoneMX, t0.Add(time.Hour)), want: expect{decision: qua, reasons: []string{"opt_out_sale_sharing"}}},
			},
		},
	})
}

// ---------------------------------------------------------------------------
// consent.md §3.3/§3.4 (Javier: consent after collection does not cure it)
// and issue 13 (a withdrawal recorded before forwarding blocks).

func TestRulesConsentTiming(t *testing.T) {
	aiGrant := []string{"collect.recording", "collect.transcription", "analytics.reporting", "train_ai_system", "functional.service.improve"}
	withdrawal := apiRecord("cr_w_no", scopeRetailer, phoneKey(phoneCA), t0.Add(time.Hour), nil, []string{"train_ai_system"})
	runScenarios(t, []scenario{
		{
			name:  "consent recorded later than the event does not cover it",
			rule:  "§3.4: Consent obtained after collection does not cure earlier collection (Javier 9th Cir.)",
			store: []consentstore.Record{apiRecord("cr_late", scopeRetailer, phoneKey(phoneCA), t0.Add(time.Hour), aiGrant, nil)},
			steps: []step{
				{ev: tdCall(ccaas.EventTranscriptSegment, phoneCA, "t-1", t0), want: expect{decision: qua, status: "unknown", reasons: []string{"consent_missing"}}},
				{ev: tdCall(ccaas.EventTranscriptSegment, phoneCA, "t-1b", t0.Add(2*time.Hour)), want: expect{decision: fwd, status: "granted"}},
			},
		},
		{
			name: "an IVR opt-in later in the call does not cover an utterance before it",
			rule: "§3.4 Javier; BRIEF in-event signal",
			steps: []step{
				{ev: tdCall(ccaas.EventInteractionAttributes, phoneCA, "t-2", t0.Add(time.Minute), "ccaas.consent.signal.ai", "yes"), want: expect{decision: fwd}},
				{ev: tdCall(ccaas.EventTranscriptSegment, phoneCA, "t-2", t0), want: expect{decision: qua}},
				{ev: tdCall(ccaas.EventTranscriptSegment, phoneCA, "t-2", t0.Add(2*time.Minute)), want: expect{decision: fwd}},
			},
		},
		{
			name: "a Segment consent event granting analytics does not cover an earlier event",
			rule: "§3.4 Javier",
			steps: []step{
				{ev: event{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventConsentUpdated, email: "t3@example.com", channel: "app", at: t0.Add(time.Hour),
					attrs: attrs("ccaas.consent.category.Analytics", true)}, want: expect{decision: fwd}},
				{ev: event{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventAnalyticsTrack, email: "t3@example.com", channel: "app", at: t0},
					want: expect{decision: qua}},
				{ev: event{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventAnalyticsTrack, email: "t3@example.com", channel: "app", at: t0.Add(2 * time.Hour)},
					want: expect{decision: fwd}},
			},
		},
		{
			name:  "a withdrawal recorded before forwarding blocks an earlier-dated event",
			rule:  "issue 13 Withdrawal: blocks it by default (forwarding is processing)",
			store: []consentstore.Record{apiRecord("cr_w_yes", scopeRetailer, phoneKey(phoneCA), t0.Add(-2*time.Hour), aiGrant, nil)},
			steps: []step{
				{ev: tdCall(ccaas.EventTranscriptSegment, phoneCA, "t-4", t0.Add(-time.Hour)), want: expect{decision: fwd}},
				{before: []consentstore.Record{withdrawal},
					ev: tdCall(ccaas.EventTranscriptSegment, phoneCA, "t-4", t0), want: expect{decision: qua, status: "denied", reasons: []string{"consent_denied", "withdrawal_after_event"}}},
			},
		},
		{
			name: "withdrawals: at_event_time judges consent as of the event's time",
			rule: "issue 13: a policy switch to judge consent as of the event's time instead",
			policy: func(p policyDoc) {
				p["withdrawals"] = "at_event_time"
			},
			store: []consentstore.Record{apiRecord("cr_w_yes", scopeRetailer, phoneKey(phoneCA), t0.Add(-2*time.Hour), aiGrant, nil), withdrawal},
			steps: []step{
				{ev: tdCall(ccaas.EventTranscriptSegment, phoneCA, "t-5", t0), want: expect{decision: fwd, notReasons: []string{"withdrawal_after_event"}}},
				{ev: tdCall(ccaas.EventTranscriptSegment, phoneCA, "t-5", t0.Add(2*time.Hour)), want: expect{decision: qua, status: "denied"}},
			},
		},
		{
			name:  "an explicit refusal on file is not overridden by a generic played notice",
			rule:  "BRIEF: consent evidence, strongest first: an explicit consent record ..., an in-event signal, a played-notice marker",
			store: []consentstore.Record{apiRecord("cr_refuse", "genesys/"+tenantLocal, phoneKey(phoneCA), t0.Add(-24*time.Hour), nil, []string{"collect.recording"})},
			steps: []step{
				{ev: gnCall(ccaas.EventInteractionAttributes, phoneCA, "t-6", t0, "ccaas.consent.notice.id", "recording-notice-v1"), want: expect{}},
				{ev: gnCall(ccaas.EventRecordingAvailable, phoneCA, "t-6", t0.Add(5*time.Minute)), want: expect{decision: qua, status: "denied", reasons: []string{"consent_denied"}, evidence: []string{"consent:cr_refuse"}}},
				// An explicit yes in this call's IVR, after the notice, counts.
				{ev: gnCall(ccaas.EventInteractionAttributes, phoneCA, "t-6", t0.Add(6*time.Minute), "ccaas.consent.signal.recording", "yes"), want: expect{}},
				{ev: gnCall(ccaas.EventRecordingAvailable, phoneCA, "t-6", t0.Add(7*time.Minute)), want: expect{decision: fwd, status: "granted", notReasons: []string{"implied_consent"}}},
			},
		},
	})
}

// ---------------------------------------------------------------------------
// consent.md §2.2 GPP and the US Privacy string: every US section the IAB
// reference library writes, on an event bound for a third party (the ad
// platforms) and on a contact-center event no third party touches.

// gppOptsOut says whether a decoded US section states an opt-out of sale,
// sharing or targeted advertising (value 1 = opted out), a GPC sub-section
// with Gpc true, or a known child's data without consent (1).
func gppOptsOut(f map[string]any) bool {
	for _, k := range []string{"SaleOptOut", "SharingOptOut", "TargetedAdvertisingOptOut"} {
		if v, ok := f[k].(float64); ok && v == 1 {
			return true
		}
	}
	if g, ok := f["Gpc"].(bool); ok && g {
		return true
	}
	switch kc := f["KnownChildSensitiveDataConsents"].(type) {
	case float64:
		return kc == 1
	case []any:
		for _, v := range kc {
			if v.(float64) == 1 {
				return true
			}
		}
	}
	return false
}

func TestRulesGPPSections(t *testing.T) {
	h := startProcessor(t, exampleConfig(), nil)
	require.NotEmpty(t, vectors.fld)
	sections := map[string]bool{}
	n := 0
	for name, fields := range vectors.fld {
		n++
		sections[strings.SplitN(name, "/", 2)[0]] = true
		s := vectors.gpp[name]
		t.Run(name, func(t *testing.T) {
			want := expect{decision: fwd, notReasons: []string{"opt_out_sale_sharing", "signal_malformed", "signal_unmapped"}}
			if gppOptsOut(fields) {
				want = expect{decision: qua, reasons: []string{"opt_out_sale_sharing", "opt_out_recorded"}}
			}
			email := fmt.Sprintf("gpp%d@example.com", n)
			got := h.run(webEvent(email, t0, "ccaas.consent.gpp", s))[0]
			checkExpect(t, "web event bound for ad platforms", want, got)
			// A contact-center recording no third party touches, of a Texan
			// caller: an opt-out of sale and sharing does not stop it.
			got = h.run(tdCall(ccaas.EventRecordingAvailable, phoneTX, "gpp-"+name, t0, "ccaas.consent.gpp", s))[0]
			checkExpect(t, "contact-center recording", expect{decision: fwd, notReasons: []string{"signal_malformed", "signal_unmapped"}}, got)
		})
	}
	// Every US section the library knows (usnat and the states) was tried.
	for _, s := range []string{"usnat", "usca", "usva", "usco", "usut", "usct", "usfl", "usmt", "usor", "ustx", "usde", "usia", "usne", "usnh", "usnj", "ustn"} {
		assert.True(t, sections[s], "no vector for section %s", s)
	}
}

func TestRulesUSPrivacy(t *testing.T) {
	h := startProcessor(t, exampleConfig(), nil)
	require.Len(t, vectors.usp, 27)
	for i, usp := range vectors.usp {
		t.Run(usp, func(t *testing.T) {
			want := expect{decision: fwd, notReasons: []string{"opt_out_sale_sharing", "signal_malformed"}}
			if usp[2] == 'Y' {
				want = expect{decision: qua, reasons: []string{"opt_out_sale_sharing"}}
			}
			// The standalone us_privacy value and GPP section 6.
			got := h.run(webEvent(fmt.Sprintf("usp%d@example.com", i), t0, "ccaas.consent.usp", usp))[0]
			checkExpect(t, "us_privacy", want, got)
			got = h.run(webEvent(fmt.Sprintf("uspgpp%d@example.com", i), t0, "ccaas.consent.gpp", gppVector(t, "uspv1/"+usp[1:])))[0]
			checkExpect(t, "GPP uspv1", want, got)
		})
	}
}

func TestRulesSignalsFailClosed(t *testing.T) {
	runScenarios(t, []scenario{
		{
			name: "a GPP opt-out persists for the subject: the next event without a GPP string is blocked",
			rule: "BRIEF: opts out of sale and sharing for that subject from then on",
			steps: []step{
				{ev: webEvent("p1@example.com", t0, "ccaas.consent.gpp", gppVector(t, "usva/opted_out")), want: expect{decision: qua, evidence: []string{"gpp:usva=sale"}}},
				{ev: webEvent("p1@example.com", t0.Add(time.Hour)), want: expect{decision: qua, reasons: []string{"opt_out_sale_sharing"}}},
			},
		},
		{
			name:  "a GPP string with several sections: any opt-out counts",
			rule:  "§2.2; strictest",
			steps: []step{{ev: webEvent("p2@example.com", t0, "ccaas.consent.gpp", gppVector(t, "combined/usnat_usca_uspv1")), want: expect{decision: qua, reasons: []string{"opt_out_sale_sharing"}}}},
		},
		{
			name:  "a Texas targeted-advertising opt-out in a multi-state string",
			rule:  "§2.2 state sections",
			steps: []step{{ev: webEvent("p3@example.com", t0, "ccaas.consent.gpp", gppVector(t, "combined/every_state_one_opt_out")), want: expect{decision: qua, reasons: []string{"opt_out_sale_sharing"}}}},
		},
		{
			name: "a GPP section Consentry does not decode (Canadian TCF) beside usnat: never silence",
			rule: "issue 13: a section the decoder does not know is signal_unmapped; by default it quarantines when a third party touches the event",
			steps: []step{
				{ev: webEvent("p8@example.com", t0, "ccaas.consent.gpp", gppVector(t, "unknown/tcfcav1_usnat")),
					want: expect{decision: qua, reasons: []string{"signal_unmapped"}, evidence: []string{"gpp:section=5"}}},
				{ev: webEvent("p8b@example.com", t0, "ccaas.consent.gpp", gppVector(t, "unknown/tcfcav1")),
					want: expect{decision: qua, reasons: []string{"signal_unmapped"}}},
				{ev: tdCall(ccaas.EventRecordingAvailable, phoneTX, "p-8", t0, "ccaas.consent.gpp", gppVector(t, "unknown/tcfcav1_usnat")),
					want: expect{decision: fwd, reasons: []string{"signal_unmapped"}, evidence: []string{"gpp:section=5"}}},
			},
		},
		{
			name:   "gpp.unknown_sections: quarantine stops every event carrying one",
			rule:   "issue 13: the policy says whether it quarantines",
			policy: func(p policyDoc) { p.section("gpp")["unknown_sections"] = "quarantine" },
			steps: []step{{ev: tdCall(ccaas.EventRecordingAvailable, phoneTX, "p-8c", t0, "ccaas.consent.gpp", gppVector(t, "unknown/tcfcav1_usnat")),
				want: expect{decision: qua, reasons: []string{"signal_unmapped"}}}},
		},
		{
			name: "a malformed GPP string is never a grant, even without a third party",
			rule: "issue 13: No path forwards an event whose consent signal could not be fully read",
			steps: []step{
				{ev: webEvent("p4@example.com", t0, "ccaas.consent.gpp", "DBABLA~not!base64"), want: expect{decision: qua, reasons: []string{"signal_malformed"}}},
				{ev: tdCall(ccaas.EventInteractionStarted, phoneTX, "p-4", t0, "ccaas.consent.gpp", "DBABLA~not!base64"), want: expect{decision: qua, reasons: []string{"signal_malformed"}}},
				{ev: tdCall(ccaas.EventInteractionStarted, phoneTX, "p-4b", t0, "ccaas.consent.gpp", "garbage"), want: expect{decision: qua, reasons: []string{"signal_malformed"}}},
			},
		},
		{
			name: "a malformed US Privacy string",
			rule: "fail closed",
			steps: []step{
				{ev: webEvent("p5@example.com", t0, "ccaas.consent.usp", "1XYZ"), want: expect{decision: qua, reasons: []string{"signal_malformed"}}},
				{ev: webEvent("p5b@example.com", t0, "ccaas.consent.usp", "2YYN"), want: expect{decision: qua, reasons: []string{"signal_malformed"}}},
				{ev: webEvent("p5c@example.com", t0, "ccaas.consent.usp", "1YY"), want: expect{decision: qua, reasons: []string{"signal_malformed"}}},
			},
		},
		{
			name: "a GPC value that is not a boolean is not silence",
			rule: "BRIEF: a signal we cannot fully read is a reason code, never silence",
			steps: []step{
				{ev: webEvent("p6@example.com", t0, "ccaas.consent.gpc", "1"), want: expect{decision: qua}},
				{ev: tdCall(ccaas.EventInteractionStarted, phoneTX, "p-6", t0, "ccaas.consent.gpc", "yes"), want: expect{decision: qua}},
			},
		},
		{
			name: "a TC string or GPP string that is not a string",
			rule: "fail closed",
			steps: []step{
				{ev: webEvent("p7@example.com", t0, "ccaas.consent.tcf", int64(5)), want: expect{decision: qua}},
				{ev: webEvent("p7b@example.com", t0, "ccaas.consent.gpp", map[string]any{"usnat": "x"}), want: expect{decision: qua}},
				{ev: webEvent("p7c@example.com", t0, "ccaas.consent.usp", true), want: expect{decision: qua}},
			},
		},
		{
			name: "a signal the receiver found but could not copy",
			rule: "issue 13: no unreadable signal forwards",
			steps: []step{
				{ev: tdCall(ccaas.EventInteractionStarted, phoneTX, "p-8", t0, "ccaas.consent.unreadable", hints("gpp")), want: expect{decision: qua, reasons: []string{"signal_malformed"}}},
			},
		},
		{
			name: "an unmapped or unreadable in-event consent signal",
			rule: "BRIEF: a signal we cannot fully read is a reason code, never silence",
			steps: []step{
				{ev: tdCall(ccaas.EventInteractionStarted, phoneTX, "p-9", t0, "ccaas.consent.signal.marketing", "yes"), want: expect{decision: qua, reasons: []string{"signal_unmapped"}}},
				{ev: tdCall(ccaas.EventInteractionStarted, phoneTX, "p-10", t0, "ccaas.consent.signal.recording", "maybe"), want: expect{decision: qua, reasons: []string{"signal_malformed"}}},
				// A number is read as its text ("1" is a yes): a reading, not silence.
				{ev: tdCall(ccaas.EventInteractionStarted, phoneTX, "p-11", t0, "ccaas.consent.signal.recording", int64(1)), want: expect{reasons: []string{"consent_recorded"}, notReasons: []string{"signal_malformed"}}},
			},
		},
	})
}

// ---------------------------------------------------------------------------
// Segment consent categories (consent.md §2.5; issue 13: a non-boolean value
// is signal_malformed, not a denial).

func TestRulesSegmentCategories(t *testing.T) {
	seg := func(email string, a map[string]any) event {
		return event{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventAnalyticsTrack, email: email, channel: "app", attrs: a}
	}
	runScenarios(t, []scenario{
		{name: "granted", rule: "§2.5", steps: []step{{ev: seg("c1@example.com", attrs("ccaas.consent.category.Analytics", true)), want: expect{decision: fwd, status: "granted"}}}},
		{name: "refused", rule: "§2.5", steps: []step{{ev: seg("c2@example.com", attrs("ccaas.consent.category.Analytics", false)), want: expect{decision: qua, status: "denied", reasons: []string{"consent_denied"}}}}},
		{name: "a string value is malformed, not a refusal", rule: "issue 13",
			steps: []step{{ev: seg("c3@example.com", attrs("ccaas.consent.category.Analytics", "yes")), want: expect{decision: qua, reasons: []string{"signal_malformed"}, notReasons: []string{"consent_denied"}, evidence: []string{"category:Analytics=malformed"}}}}},
		{name: "a number is malformed", rule: "issue 13",
			steps: []step{{ev: seg("c4@example.com", attrs("ccaas.consent.category.Analytics", int64(1))), want: expect{decision: qua, reasons: []string{"signal_malformed"}}}}},
		{name: "a malformed category the policy does not map is still malformed", rule: "issue 13; never silence",
			steps: []step{{ev: seg("c5@example.com", attrs("ccaas.consent.category.Analytics", true, "ccaas.consent.category.C0004", "granted")), want: expect{decision: qua, reasons: []string{"signal_malformed"}, evidence: []string{"category:C0004=malformed"}}}}},
		{name: "an empty consent object: every category refused", rule: "§2.5 Segment semantics",
			steps: []step{{ev: seg("c6@example.com", attrs("ccaas.consent.categories_present", true)), want: expect{decision: qua, status: "denied"}}}},
		{name: "an unmapped boolean category is ignored", rule: "§2.5",
			steps: []step{{ev: seg("c7@example.com", attrs("ccaas.consent.category.Analytics", true, "ccaas.consent.category.C0004", false)), want: expect{decision: fwd, reasons: []string{"category_unmapped"}}}}},
	})
}

// ---------------------------------------------------------------------------
// consent.md §2.1 TCF v2.2, with an EU web shop whose ad vendor is IAB vendor
// 755. The event serves purpose 2 (limited ads) and 7 (ad measurement); the
// vectors' defaults: consent to purposes 1, 2, 7, 8, 10, LI for 9, 10,
// vendor consent for 5, 755, 1000, vendor LI for 755, all disclosed, created
// 2025-01-15 and last updated 2025-02-01, policy version 5.

const tenantEUShop = "src_eu_shop"

func euShopPolicy(extra func(p policyDoc)) func(p policyDoc) {
	return func(p policyDoc) {
		p.add("processors", map[string]any{"id": "ads-755", "name": "IAB vendor 755", "role": "third_party", "tcf_vendor_id": 755,
			"touches": map[string]any{"vendors": []any{"segment"}, "tenants": []any{tenantEUShop}}})
		p.add("tenants", map[string]any{"vendor": "segment", "id": tenantEUShop, "jurisdictions": []any{"DE"},
			"contract_purposes": []any{"essential.service"},
			"notice":            map[string]any{"id": "eu-shop-privacy", "version": "1", "processors": []any{"segment", "ads-755"}},
			"purposes": map[string]any{
				"ccaas.analytics.track":  []any{"marketing.advertising.serving", "analytics.reporting.ad_performance"},
				"ccaas.contact.updated":  []any{"functional.service.improve"}, // purpose 10
				"ccaas.consent.updated":  []any{"essential.legal_obligation"},
				"ccaas.task.created":     []any{"analytics.reporting.campaign_insights"}, // purpose 9
				"ccaas.message.received": []any{"functional.storage"},                    // purpose 1
			}})
		if extra != nil {
			extra(p)
		}
	}
}

func shop(name, tc string, at time.Time) event {
	return event{vendor: "segment", tenant: tenantEUShop, name: name, email: "eu@example.com", channel: "web", at: at, attrs: attrs("ccaas.consent.tcf", tc)}
}

func TestRulesTCF(t *testing.T) {
	track := ccaas.EventAnalyticsTrack
	p10 := ccaas.EventContactUpdated
	tcfLI := func(purposes ...any) func(p policyDoc) {
		return func(p policyDoc) { p.section("tcf")["legitimate_interest"] = purposes }
	}
	one := func(name, rule string, pol func(policyDoc), ev event, w expect) scenario {
		return scenario{name: name, rule: rule, policy: euShopPolicy(pol), steps: []step{{ev: ev, want: w}}}
	}
	runScenarios(t, []scenario{
		one("v2.2 string with the purposes and the vendor consented", "§2.1", nil, shop(track, tcfVector(t, "v2.2"), t0),
			expect{decision: fwd, status: "granted", reasons: []string{"gdpr_applies"}}),
		one("v2.3 string (policy version 5)", "§2.1", nil, shop(track, tcfVector(t, "v2.3"), t0), expect{decision: fwd}),
		one("a string from before v2.2's policy version is refused", "§2.1: a TCF policy change requires discarding old strings",
			nil, shop(track, tcfVector(t, "v2.0"), t0), expect{decision: qua, reasons: []string{"signal_outdated"}}),
		one("IsServiceSpecific 0 is invalid since v2.2", "§2.1", nil, shop(track, tcfVector(t, "not_service_specific"), t0),
			expect{decision: qua, reasons: []string{"signal_malformed"}}),
		one("vendor 755 not in the DisclosedVendors segment: the user never saw it", "§2.1 DisclosedVendors = processors disclosed",
			nil, shop(track, tcfVector(t, "disclosed_without_755"), t0), expect{decision: qua, notReasons: []string{"consent_granted"}}),
		one("purposes consented but no vendor consent for 755", "§2.1 vendor consent section", nil,
			shop(track, tcfVector(t, "no_vendor_consent_755"), t0), expect{decision: qua}),
		one("publisher restriction: purpose 2 not allowed for 755", "§2.1 publisher restrictions", nil,
			shop(track, tcfVector(t, "restriction_not_allowed"), t0), expect{decision: qua, evidence: []string{"tcf:vendor=755:not_allowed=2"}}),
		one("publisher restriction on purpose 2 does not touch purpose 10", "§2.1", nil,
			shop(p10, tcfVector(t, "restriction_not_allowed"), t0), expect{decision: fwd}),
		one("publisher restriction: purpose 10 requires consent, only LI given, LI allowed by policy", "§2.1", tcfLI(9, 10),
			shop(p10, tcfVector(t, "restriction_require_consent"), t0), expect{decision: qua}),
		one("purpose 10 by LI where the policy allows LI for 10 and no restriction", "§2.1 LI", tcfLI(9, 10),
			shop(p10, tcfVector(t, "li_only"), t0), expect{decision: fwd}),
		one("publisher restriction: purpose 7 requires LI, policy allows no LI", "§2.1", nil,
			shop(track, tcfVector(t, "restriction_require_li"), t0), expect{decision: qua}),
		one("publisher restriction: purpose 7 requires LI, policy allows LI for 7", "§2.1", tcfLI(7),
			shop(track, tcfVector(t, "restriction_require_li"), t0), expect{decision: fwd}),
		one("LI only, policy allows none: denied", "§2.1: consent only by default", nil,
			shop(track, tcfVector(t, "li_only"), t0), expect{decision: qua}),
		one("LI only, policy allows LI for 2 and 7", "§2.1", tcfLI(2, 7),
			shop(track, tcfVector(t, "li_only"), t0), expect{decision: fwd}),
		one("purpose 9 has LI transparency only, no LI allowed: denied", "§2.1", nil,
			shop(ccaas.EventTaskCreated, tcfVector(t, "v2.2"), t0), expect{decision: qua}),
		one("purpose 1 consented", "§2.1 purpose 1 consent only", nil,
			shop(ccaas.EventMessageReceived, tcfVector(t, "v2.2"), t0), expect{decision: fwd}),
		one("a string last updated after the event is not the consent in force then", "§3.4 Javier; issue 13 creation/update time",
			nil, shop(track, tcfVector(t, "updated_2025_06_30"), t0), expect{decision: qua, reasons: []string{"signal_postdated"}}),
		one("the same string for an event after its update", "§2.1", nil,
			shop(track, tcfVector(t, "updated_2025_06_30"), time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)), expect{decision: fwd}),
		one("an old string refused by max_age", "§2.1", func(p policyDoc) { p.section("tcf")["max_age"] = "9480h" },
			shop(track, tcfVector(t, "updated_2023_01_10"), t0), expect{decision: qua, reasons: []string{"signal_outdated"}}),
		one("without the DisclosedVendors segment, refused when the policy requires it", "§2.1 v2.3 DisclosedVendors mandatory",
			func(p policyDoc) { p.section("tcf")["require_disclosed_vendors"] = true },
			shop(track, tcfVector(t, "no_disclosed_vendors"), t0), expect{decision: qua, reasons: []string{"signal_outdated"}}),
		one("a TC string that is garbage", "fail closed", nil, shop(track, "COw!!notatcstring", t0), expect{decision: qua, reasons: []string{"signal_malformed"}}),
		one("the EU TCF section inside a GPP string", "§2.2 section 2 tcfeuv2", nil,
			event{vendor: "segment", tenant: tenantEUShop, name: track, email: "eu2@example.com", channel: "web", at: t0,
				attrs: attrs("ccaas.consent.gpp", gppVector(t, "combined/tcfeuv2_usca"))}, expect{decision: fwd}),
		one("no TC string at all", "BRIEF: no evidence: quarantine", nil,
			event{vendor: "segment", tenant: tenantEUShop, name: track, email: "eu3@example.com", channel: "web", at: t0},
			expect{decision: qua, reasons: []string{"consent_missing"}}),
	})
}

func TestRulesTCFLegitimateInterestLimits(t *testing.T) {
	for _, purpose := range []int{1, 3, 4, 5, 6} {
		cfg := editedPolicy(t, euShopPolicy(func(p policyDoc) { p.section("tcf")["legitimate_interest"] = []any{purpose} }))
		_, err := cfg.LoadPolicy(context.Background())
		assert.Error(t, err, "TCF v2.2 allows no legitimate interest for purpose %d", purpose)
	}
}

// ---------------------------------------------------------------------------
// consent.md §3.4 / R1: a played notice at the start counts; timing.

func TestRulesPlayedNotices(t *testing.T) {
	timed := func(p policyDoc) {
		n := p.tenant(tenantLocal)["played_notices"].([]any)[0].(map[string]any)
		n["max_offset"] = "10s"
		n["version"] = "2"
	}
	notice := func(interaction string, at time.Time, kv ...any) event {
		return gnCall(ccaas.EventInteractionAttributes, phoneCA, interaction, at, append([]any{"ccaas.consent.notice.id", "recording-notice-v1"}, kv...)...)
	}
	rec := func(interaction string, at time.Time) event {
		return gnCall(ccaas.EventRecordingAvailable, phoneCA, interaction, at)
	}
	runScenarios(t, []scenario{
		{
			name: "a notice played at the start: the California recording flows on implied consent", rule: "R1: notice_played && start_offset <= greeting_max",
			policy: timed,
			steps: []step{
				{ev: notice("n-1", t0.Add(30*time.Second), "ccaas.consent.notice.offset", 4.0, "ccaas.consent.notice.version", "2"), want: expect{decision: fwd}},
				{ev: rec("n-1", t0.Add(5*time.Minute)), want: expect{decision: fwd, status: "granted", reasons: []string{"implied_consent"}, allParty: yesP()}},
			},
		},
		{
			name: "a notice played 45 s in does not count", rule: "§3.4: disclosure immediately at call start (BofA); R1 greeting_max",
			policy: timed,
			steps: []step{
				{ev: notice("n-2", t0.Add(50*time.Second), "ccaas.consent.notice.offset", 45.0), want: expect{reasons: []string{"notice_late"}}},
				{ev: rec("n-2", t0.Add(5*time.Minute)), want: expect{decision: qua, reasons: []string{"consent_missing"}, notReasons: []string{"implied_consent"}}},
			},
		},
		{
			name: "a notice without its timing does not count where timing is required", rule: "R1",
			policy: timed,
			steps: []step{
				{ev: notice("n-3", t0.Add(50*time.Second)), want: expect{reasons: []string{"notice_timing_unknown"}}},
				{ev: rec("n-3", t0.Add(5*time.Minute)), want: expect{decision: qua}},
			},
		},
		{
			name: "a notice of another version than the one listed", rule: "§4.1 consent proof: notice/text version; fail closed",
			policy: timed,
			steps:  []step{{ev: notice("n-4", t0, "ccaas.consent.notice.offset", 3.0, "ccaas.consent.notice.version", "1"), want: expect{decision: qua, reasons: []string{"notice_unknown"}}}},
		},
		{
			name: "a notice the tenant does not list", rule: "fail closed",
			steps: []step{{ev: gnCall(ccaas.EventInteractionAttributes, phoneCA, "n-5", t0, "ccaas.consent.notice.id", "some-other-prompt"), want: expect{decision: qua, reasons: []string{"notice_unknown"}}}},
		},
		{
			name: "a notice offset that is not a number", rule: "BRIEF: never silence",
			policy: timed,
			steps:  []step{{ev: notice("n-6", t0, "ccaas.consent.notice.offset", "soon"), want: expect{decision: qua, reasons: []string{"signal_malformed"}}}},
		},
		{
			name:   "a recording event dated before the vendor reported the notice is not covered (conservative)",
			rule:   "R1: recording_allowed(i) per interaction; §3.4 Javier. The notice's consent record is dated when the vendor reported it (the interaction's start is not known to every replica), so an event of the same interaction dated earlier stays quarantined: fail closed, released by the ledger once reviewed",
			policy: timed,
			steps: []step{
				{ev: gnCall(ccaas.EventInteractionStarted, phoneCA, "n-7", t0), want: expect{decision: fwd}},
				{ev: notice("n-7", t0.Add(60*time.Second), "ccaas.consent.notice.offset", 4.0), want: expect{decision: fwd}},
				{ev: gnCall(ccaas.EventRecordingUpdated, phoneCA, "n-7", t0.Add(30*time.Second)), want: expect{decision: qua, reasons: []string{"all_party_jurisdiction", "consent_missing"}}},
			},
		},
		{
			name: "a played notice covers only its own interaction", rule: "R1 is per interaction i",
			steps: []step{
				{ev: notice("n-8", t0), want: expect{decision: fwd}},
				{ev: rec("n-8-other", t0.Add(5*time.Minute)), want: expect{decision: qua}},
			},
		},
		{
			name: "Montana: all-party notice, a played notice suffices", rule: "§3.1 Montana (statute speaks of notice to all parties)",
			steps: []step{
				{ev: gnCall(ccaas.EventInteractionAttributes, "+14065550123", "n-9", t0, "ccaas.consent.notice.id", "recording-notice-v1"), want: expect{decision: fwd}},
				{ev: gnCall(ccaas.EventRecordingAvailable, "+14065550123", "n-9", t0.Add(5*time.Minute)), want: expect{decision: fwd, allParty: yesP(), jurisdicts: []string{"US-MT@customer.e164"}}},
			},
		},
	})
}

// ---------------------------------------------------------------------------
// consent.md §3.5 GDPR: Art. 28, legal basis, Art. 9.

func TestRulesGDPR(t *testing.T) {
	crisis := func(name string) event {
		return event{vendor: "genesys", tenant: tenantCrisisLine, name: name, phone: phoneDE, interaction: "gd-crisis", channel: "voice"}
	}
	runScenarios(t, []scenario{
		{
			name: "a caller in Germany: routing rests on the contract basis",
			rule: "R4: gdpr_ok := art28_dpa(v) && (basis != consent || consent covers)",
			steps: []step{{ev: tdCall(ccaas.EventInteractionStarted, phoneDE, "gd-1", t0),
				want: expect{decision: fwd, reasons: []string{"gdpr_applies"}, jurisdicts: []string{"DE@customer.e164"}}}},
		},
		{
			name: "a caller in Germany: recording's legal basis is consent, the US contract purpose does not cover it",
			rule: "R4 (basis == consent => consent(i).covers(purposes))",
			steps: []step{{ev: tdCall(ccaas.EventRecordingAvailable, phoneDE, "gd-2", t0),
				want: expect{decision: qua, reasons: []string{"gdpr_applies", "consent_missing"}}}},
		},
		{
			name:  "a caller in Germany who consented to recording",
			rule:  "R4",
			store: []consentstore.Record{apiRecord("cr_gd3", scopeRetailer, phoneKey(phoneDE), t0.Add(-time.Hour), []string{"collect.recording"}, nil)},
			steps: []step{{ev: tdCall(ccaas.EventRecordingAvailable, phoneDE, "gd-3", t0), want: expect{decision: fwd, status: "granted"}}},
		},
		{
			name:   "no Art. 28 agreement with the processor",
			rule:   "R4 art28_dpa(v); §3.5 Art. 28",
			policy: func(p policyDoc) { p.processor("talkdesk")["art28_agreement"] = false },
			steps: []step{
				{ev: tdCall(ccaas.EventInteractionStarted, phoneDE, "gd-4", t0), want: expect{decision: qua, reasons: []string{"gdpr_art28_missing"}}},
				{ev: tdCall(ccaas.EventInteractionStarted, phoneTX, "gd-4b", t0), want: expect{decision: fwd, notReasons: []string{"gdpr_applies", "gdpr_art28_missing"}}},
			},
		},
		{
			name:   "a purpose without a legal basis",
			rule:   "§3.5 (Art. 6 basis per purpose); issue 13: per purpose, the legal basis",
			policy: func(p policyDoc) { delete(p.section("gdpr")["legal_bases"].(map[string]any), "essential.service") },
			steps:  []step{{ev: tdCall(ccaas.EventInteractionStarted, phoneDE, "gd-5", t0), want: expect{decision: qua, reasons: []string{"gdpr_legal_basis_missing"}}}},
		},
		{
			name:  "the party in the EU is the agent, not the caller",
			rule:  "§3.2 every party; GDPR where any party is",
			steps: []step{{ev: tdCall(ccaas.EventRecordingAvailable, phoneTX, "gd-6", t0, "ccaas.jurisdiction.hints", hints("US-TX@customer.e164", "IE@agent.attribute")), want: expect{decision: qua, reasons: []string{"gdpr_applies"}}}},
		},
		{
			name:  "special-category data (a sensitive tenant) without an Art. 9 condition",
			rule:  "§3.5 Art. 9 (NDVH intake: race, reason for contact)",
			steps: []step{{ev: crisis(ccaas.EventInteractionStarted), want: expect{decision: qua, reasons: []string{"gdpr_art9_condition_missing"}}}},
		},
		{
			name:   "Art. 9 explicit consent: every purpose needs it, and then flows",
			rule:   "§3.5 Art. 9: explicit consent or another Art. 9(2) ground",
			policy: func(p policyDoc) { p.tenant(tenantCrisisLine)["art9_condition"] = "explicit_consent" },
			steps: []step{
				{ev: crisis(ccaas.EventInteractionStarted), want: expect{decision: qua, reasons: []string{"consent_missing"}}},
				{before: []consentstore.Record{apiRecord("cr_gd8", "genesys/"+tenantCrisisLine, phoneKey(phoneDE), t0.Add(-time.Hour), []string{"essential"}, nil)},
					ev: crisis(ccaas.EventInteractionEnded), want: expect{decision: fwd}},
			},
		},
		{
			name:   "Art. 9 on another ground (vital interests): routing flows on the contract",
			rule:   "§3.5 another Art. 9(2) ground",
			policy: func(p policyDoc) { p.tenant(tenantCrisisLine)["art9_condition"] = "vital_interests" },
			steps:  []step{{ev: crisis(ccaas.EventInteractionStarted), want: expect{decision: fwd}}},
		},
		{
			name: "a third party (controller of its own) needs no Art. 28 agreement, only consent",
			rule: "§3.5 Art. 28(10)",
			steps: []step{{ev: webEvent("eu-visitor@example.com", t0, "ccaas.jurisdiction.hints", hints("FR@customer.locale")),
				want: expect{decision: fwd, reasons: []string{"gdpr_applies"}, notReasons: []string{"gdpr_art28_missing"}}}},
		},
	})
}

// ---------------------------------------------------------------------------
// BRIEF "Default: fail closed".

func TestRulesFailClosed(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "an unknown tenant", rule: "BRIEF: an unknown tenant: quarantine",
			steps: []step{{ev: event{vendor: "talkdesk", tenant: "someone-else", name: ccaas.EventInteractionStarted, phone: phoneTX}, want: expect{decision: qua, reasons: []string{"tenant_unknown"}}}}},
		{name: "a known tenant id under another vendor", rule: "BRIEF: an unknown tenant",
			steps: []step{{ev: event{vendor: "genesys", tenant: tenantRetailer, name: ccaas.EventInteractionStarted, phone: phoneTX}, want: expect{decision: qua, reasons: []string{"tenant_unknown"}}}}},
		{name: "no event name", rule: "BRIEF: a missing attribute",
			steps: []step{{ev: tdCall("", phoneTX, "f-1", t0), want: expect{decision: qua, reasons: []string{"purpose_unknown"}}}}},
		{name: "an event type the policy gives no purpose", rule: "BRIEF: fail closed",
			steps: []step{{ev: tdCall(ccaas.EventVendor, phoneTX, "f-2", t0), want: expect{decision: qua, reasons: []string{"purpose_unknown"}}}}},
		{name: "consent needed but no subject", rule: "BRIEF: a missing attribute",
			steps: []step{{ev: event{vendor: "talkdesk", tenant: tenantRetailer, name: ccaas.EventTranscriptSegment, interaction: "f-3", channel: "voice"}, want: expect{decision: qua}}}},
		{name: "a Segment consent-less event of the Bender tenant still quarantined", rule: "fail closed",
			steps: []step{{ev: event{vendor: "segment", tenant: tenantMeditationA, name: ccaas.EventAnalyticsTrack, opaque: "anon-1"}, want: expect{decision: qua}}}},
	})
	t.Run("no vendor or tenant on the resource", func(t *testing.T) {
		h := startProcessor(t, exampleConfig(), nil)
		for _, e := range []event{{vendor: "", tenant: tenantRetailer, name: ccaas.EventInteractionStarted, phone: phoneTX}, {vendor: "talkdesk", tenant: "", name: ccaas.EventInteractionStarted, phone: phoneTX}} {
			got := h.run(e)[0]
			checkExpect(t, "vendor="+e.vendor+" tenant="+e.tenant, expect{decision: qua}, got)
		}
	})
}

// TestRulesMoreEvidence: the evidence rules beyond single signals.
func TestRulesMoreEvidence(t *testing.T) {
	runScenarios(t, []scenario{
		{
			name: "a played notice that names the AI vendor and its use is implied consent for it",
			rule: "§3.4: the safe notice names the vendor/AI use; R3 v ∈ notice(i).named_recipients",
			policy: func(p policyDoc) {
				p.tenant(tenantRetailer)["played_notices"] = []any{map[string]any{"id": "ai-notice", "processors": []any{"talkdesk", "talkdesk-ai"},
					"purposes": []any{"collect.recording", "collect.transcription", "analytics.reporting", "train_ai_system", "functional.service.improve"}}}
			},
			steps: []step{
				{ev: tdCall(ccaas.EventInteractionAttributes, phoneCA, "e-1", t0, "ccaas.consent.notice.id", "ai-notice", "ccaas.consent.notice.offset", 2.0), want: expect{decision: fwd}},
				{ev: tdCall(ccaas.EventTranscriptSegment, phoneCA, "e-1", t0.Add(time.Minute)), want: expect{decision: fwd, status: "granted", reasons: []string{"implied_consent"}}},
			},
		},
		{
			name: "a Segment consent event withdrawing analytics blocks an earlier-dated event that arrives after it",
			rule: "issue 13 withdrawal (forwarding is processing)",
			steps: []step{
				{ev: event{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventConsentUpdated, email: "w2@example.com", channel: "app", at: t0.Add(-time.Hour),
					attrs: attrs("ccaas.consent.category.Analytics", true)}, want: expect{decision: fwd}},
				{ev: event{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventConsentUpdated, email: "w2@example.com", channel: "app", at: t0.Add(time.Hour),
					attrs: attrs("ccaas.consent.category.Analytics", false)}, want: expect{decision: fwd}},
				{ev: event{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventAnalyticsTrack, email: "w2@example.com", channel: "app", at: t0},
					want: expect{decision: qua, reasons: []string{"withdrawal_after_event"}}},
			},
		},
		{
			name:  "in-event refusal and stored consent: the event's own signal is newer",
			rule:  "BRIEF evidence; latest statement",
			store: []consentstore.Record{apiRecord("cr_e3", "segment/"+tenantMeditationB, emailKey("e3@example.com"), t0.Add(-time.Hour), []string{"analytics"}, nil)},
			steps: []step{{ev: event{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventAnalyticsTrack, email: "e3@example.com", channel: "app", at: t0,
				attrs: attrs("ccaas.consent.category.Analytics", false)}, want: expect{decision: qua, status: "denied"}}},
		},
		{
			name:  "consent limited to one processor does not cover another",
			rule:  "R3 consent(i).covers(v.purposes) per vendor",
			store: []consentstore.Record{{ID: "cr_e4", Source: consentstore.SourceAPI, Key: consentstore.Key{Scope: scopeRetailer, Subject: phoneKey(phoneTX)}, Processors: []string{"talkdesk"}, Granted: []string{"collect", "analytics", "train_ai_system", "functional"}, At: t0.Add(-time.Hour)}},
			steps: []step{{ev: tdCall(ccaas.EventTranscriptSegment, phoneTX, "e-4", t0), want: expect{decision: qua, status: "unknown"}}},
		},
	})
}
