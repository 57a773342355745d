package policy

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/consentstore"
)

func eval(p *Policy, v *View, recs ...consentstore.Record) *Decision {
	d := &Decision{}
	p.Evaluate(v, Evidence{Records: recs}, d)
	return d
}

func rec(id string, at time.Time, granted, denied []string) consentstore.Record {
	return consentstore.Record{ID: id, Key: consentstore.Key{Scope: "genesys/org", Subject: "sk1_subject"}, Granted: granted, Denied: denied,
		Source: consentstore.SourceAPI, At: at}
}

func TestContractAndDisclosure(t *testing.T) {
	p := compile(t, basePolicy)
	d := eval(p, view("genesys", "org", "ccaas.interaction.started", nil))
	assert.True(t, d.Forward)
	assert.Equal(t, StatusNotRequired, d.Status)
	assert.Equal(t, []Reason{ReasonContractBasis}, d.Reasons)
	assert.Equal(t, "notice@3", d.NoticeID)
	assert.Equal(t, []string{"vendor"}, d.Processors)
	assert.Equal(t, []string{"US-TX@customer.attribute"}, d.Jurisdictions)
	assert.Equal(t, p.Hash(), d.PolicyHash)

	d = eval(p, view("genesys", "nobody", "ccaas.interaction.started", nil))
	assert.False(t, d.Forward)
	assert.Equal(t, []Reason{ReasonTenantUnknown}, d.Reasons)

	d = eval(p, view("genesys", "org", "ccaas.vendor_event", nil))
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonPurposeUnknown))

	d = eval(p, view("", "org", "ccaas.interaction.started", nil))
	assert.Equal(t, []Reason{ReasonVendorUnknown}, d.Reasons)
}

func TestCapabilityTest(t *testing.T) {
	p := compile(t, basePolicy)
	v := view("genesys", "org", "ccaas.transcript.segment", nil)
	d := eval(p, v)
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonSecondaryUse))
	assert.True(t, has(d, ReasonConsentMissing))
	assert.Contains(t, d.Purposes, "train_ai_system", "the AI's own use is a purpose of the event")

	// Consent to the event's purposes is not enough: the AI may train on it.
	d = eval(p, v, rec("c1", t0.Add(-time.Minute), []string{"collect.transcription", "analytics.reporting"}, nil))
	assert.False(t, d.Forward)
	assert.Equal(t, StatusUnknown, d.Status)

	d = eval(p, v, rec("c2", t0.Add(-time.Minute), []string{"collect.transcription", "analytics", "train_ai_system"}, nil))
	assert.True(t, d.Forward, d.Reasons)
	assert.Equal(t, StatusGranted, d.Status)
	assert.Equal(t, []string{"consent:c2"}, d.Evidence)
}

func TestLatestEvidenceWins(t *testing.T) {
	p := compile(t, basePolicy)
	v := view("genesys", "org", "ccaas.transcript.segment", nil)
	all := []string{"collect", "analytics", "train_ai_system"}
	grant := rec("grant", t0.Add(-2*time.Hour), all, nil)
	revoke := rec("revoke", t0.Add(-time.Hour), nil, []string{"train_ai_system"})
	d := eval(p, v, grant, revoke)
	assert.Equal(t, StatusDenied, d.Status)
	assert.True(t, has(d, ReasonConsentDenied))
	assert.Contains(t, d.Evidence, "consent:revoke")

	// Consent given after the event does not cover it.
	later := rec("later", t0.Add(time.Hour), all, nil)
	d = eval(p, v, later)
	assert.Equal(t, StatusUnknown, d.Status)

	// A record for another interaction does not apply.
	other := rec("other", t0.Add(-time.Hour), all, nil)
	other.Interaction = "conv-2"
	d = eval(p, v, other)
	assert.Equal(t, StatusUnknown, d.Status)
	other.Interaction = "conv-1"
	d = eval(p, v, other)
	assert.Equal(t, StatusGranted, d.Status)

	// At equal time a denial wins.
	d = eval(p, v, rec("a", t0, all, nil), rec("b", t0, nil, []string{"analytics"}))
	assert.Equal(t, StatusDenied, d.Status)
}

func TestJurisdictions(t *testing.T) {
	p := compile(t, basePolicy)
	rv := func(country, region, channel string) *View {
		v := view("genesys", "org", "ccaas.recording.available", nil)
		v.Country, v.Region, v.Channel = country, region, channel
		return v
	}
	for _, tc := range []struct {
		name                   string
		v                      *View
		allParty, unknown, fwd bool
		jurisdictions          []string
	}{
		{"one-party state", rv("US", "US-TX", "voice"), false, false, true, []string{"US-TX@customer.attribute"}},
		{"all-party state", rv("US", "US-CA", "voice"), true, false, false, []string{"US-CA@customer.attribute"}},
		{"all-party for calls, a call", rv("US", "US-CT", "voice"), true, false, false, []string{"US-CT@customer.attribute"}},
		{"all-party for calls, a chat", rv("US", "US-CT", "chat"), false, false, true, []string{"US-CT@customer.attribute"}},
		{"no channel counts as a call", rv("US", "US-CT", ""), true, false, false, []string{"US-CT@customer.attribute"}},
		{"unknown location", rv("", "", "voice"), true, true, false, []string{"unknown@customer.none"}},
		{"US without a state is unknown", rv("US", "", "voice"), true, true, false, []string{"US@customer.attribute"}},
		{"a country without all-party regions", rv("JP", "", "voice"), false, false, true, []string{"JP@customer.attribute"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := eval(p, tc.v)
			assert.Equal(t, tc.allParty, d.AllPartyRequired)
			assert.Equal(t, tc.unknown, has(d, ReasonJurisdictionUnknown))
			assert.Equal(t, tc.allParty, has(d, ReasonAllPartyJurisdiction))
			assert.Equal(t, tc.fwd, d.Forward, d.Reasons)
			assert.Equal(t, tc.jurisdictions, d.Jurisdictions)
		})
	}

	// unknown_location: one_party.
	p = compile(t, edit(t, "consent_sources:", "jurisdiction: {unknown_location: one_party, all_party: [US-CA, DE]}\nconsent_sources:"))
	d := eval(p, rv("", "", "voice"))
	assert.False(t, d.AllPartyRequired)
	assert.True(t, d.Forward)
	d = eval(p, rv("DE", "DE-BE", "chat"))
	assert.True(t, d.AllPartyRequired, "a whole country can be all-party")

	// The tenant's own jurisdictions count too.
	p = compile(t, edit(t, "    contract_purposes: [essential.service, collect.recording]", "    contract_purposes: [essential.service, collect.recording]\n    jurisdictions: [US-FL]"))
	d = eval(p, rv("US", "US-TX", "voice"))
	assert.True(t, d.AllPartyRequired)
	assert.Equal(t, []string{"US-FL@tenant.config", "US-TX@customer.attribute"}, d.Jurisdictions)
}

func TestSignals(t *testing.T) {
	p := compile(t, basePolicy)
	ca := func(event string, attrs map[string]any) *View {
		v := view("genesys", "org", event, attrs)
		v.Region = "US-CA"
		return v
	}
	// A recording consent signal covers the recording, and is learned for the interaction.
	d := eval(p, ca("ccaas.recording.available", map[string]any{"ccaas.consent.signal.recording": " YES "}))
	assert.True(t, d.Forward, d.Reasons)
	assert.Equal(t, []string{"signal:recording=granted"}, d.Evidence)
	require.Len(t, d.Learned, 1)
	l := d.Learned[0]
	assert.Equal(t, "conv-1", l.Interaction)
	assert.Equal(t, []string{"collect.recording"}, l.Granted)
	assert.Equal(t, consentstore.Key{Scope: "genesys/org", Subject: "sk1_subject"}, l.Key)
	assert.Equal(t, consentstore.SourceSignal, l.Source)
	assert.Equal(t, "ev-1", l.EventID)
	assert.Equal(t, "notice@3", l.NoticeID)
	assert.Regexp(t, `^cr_[0-9a-f]{24}$`, l.ID)
	id := l.ID

	// The same evidence again is not learned twice, and its id is stable.
	d = eval(p, ca("ccaas.recording.available", map[string]any{"ccaas.consent.signal.recording": "yes"}), l)
	assert.Empty(t, d.Learned)
	d = eval(p, ca("ccaas.recording.available", map[string]any{"ccaas.consent.signal.recording": "yes"}))
	assert.Equal(t, id, d.Learned[0].ID)

	// Values are mapped; booleans and numbers are accepted.
	for val, fwd := range map[any]bool{"no": false, false: false, int64(1): true, true: true} {
		d = eval(p, ca("ccaas.recording.available", map[string]any{"ccaas.consent.signal.recording": val}))
		assert.Equal(t, fwd, d.Forward, "%v", val)
	}
	d = eval(p, ca("ccaas.recording.available", map[string]any{"ccaas.consent.signal.recording": "perhaps"}))
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonSignalMalformed))
	assert.Empty(t, d.Learned)

	// A subject-scoped signal is learned for the subject.
	d = eval(p, ca("ccaas.interaction.started", map[string]any{"ccaas.consent.signal.everything": "yes"}))
	require.Len(t, d.Learned, 1)
	assert.Empty(t, d.Learned[0].Interaction)

	// An unmapped signal quarantines.
	d = eval(p, ca("ccaas.interaction.started", map[string]any{"ccaas.consent.signal.marketing": "yes"}))
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonSignalUnmapped))

	// Without a subject, the signal still counts for the record but nothing is learned.
	v := ca("ccaas.recording.available", map[string]any{"ccaas.consent.signal.recording": "yes"})
	v.Subject = ""
	d = eval(p, v)
	assert.True(t, d.Forward, d.Reasons)
	assert.Empty(t, d.Learned)
}

func TestPlayedNotices(t *testing.T) {
	p := compile(t, basePolicy)
	v := func(tenant, event, notice string) *View {
		x := view("genesys", tenant, event, map[string]any{"ccaas.consent.notice.id": notice})
		x.Region = "US-CA"
		return x
	}
	d := eval(p, v("org", "ccaas.recording.available", "rec-prompt"))
	assert.True(t, d.Forward, d.Reasons)
	assert.True(t, has(d, ReasonImpliedConsent))
	require.Len(t, d.Learned, 1)
	assert.True(t, d.Learned[0].FirstPartyOnly)
	assert.Equal(t, consentstore.SourceNotice, d.Learned[0].Source)

	// A generic notice does not cover a processor that may use the data itself...
	d = eval(p, v("org", "ccaas.transcript.segment", "rec-prompt"))
	assert.False(t, d.Forward)
	// ...a notice that names it and its use does.
	d = eval(p, v("org", "ccaas.transcript.segment", "ai-prompt"))
	assert.True(t, d.Forward, d.Reasons)

	// Sensitive tenants do not accept implied consent.
	d = eval(p, v("hotline", "ccaas.recording.available", "rec-prompt"))
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonSensitiveAmbiguous))

	d = eval(p, v("org", "ccaas.recording.available", "unheard-of"))
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonNoticeUnknown))
}

func TestSegmentCategories(t *testing.T) {
	p := compile(t, basePolicy)
	track := func(attrs map[string]any) *View { return view("segment", "shop", "ccaas.analytics.track", attrs) }
	d := eval(p, track(map[string]any{"ccaas.consent.category.Analytics": true, "ccaas.consent.category.Stats": true}))
	assert.True(t, d.Forward, d.Reasons)

	// A purpose mapped from two categories needs both (Segment's AND).
	d = eval(p, track(map[string]any{"ccaas.consent.category.Analytics": true, "ccaas.consent.category.Stats": false}))
	assert.False(t, d.Forward)
	assert.Equal(t, StatusDenied, d.Status)

	// Absent from a non-empty object counts as false.
	d = eval(p, track(map[string]any{"ccaas.consent.category.Analytics": true}))
	assert.False(t, d.Forward)
	assert.Contains(t, d.Evidence, "category:Stats=absent")

	// Unmapped categories are ignored but noted; malformed ones quarantine.
	d = eval(p, track(map[string]any{"ccaas.consent.category.Analytics": true, "ccaas.consent.category.Stats": "true", "ccaas.consent.category.C0004": true}))
	assert.True(t, d.Forward, d.Reasons)
	assert.True(t, has(d, ReasonSignalIgnoredCategory))
	d = eval(p, track(map[string]any{"ccaas.consent.category.Analytics": "yes", "ccaas.consent.category.Stats": true}))
	assert.True(t, has(d, ReasonSignalMalformed))

	// An empty consent object (the receiver says one was present) denies
	// every mapped category; no object at all says nothing.
	d = eval(p, track(map[string]any{"ccaas.consent.categories_present": true}))
	assert.Equal(t, StatusDenied, d.Status)
	assert.Contains(t, d.Evidence, "category:Analytics=absent")
	d = eval(p, track(map[string]any{"ccaas.consent.categories_present": false}))
	assert.Equal(t, StatusUnknown, d.Status)

	// Regular events do not write to the store; consent events do.
	assert.Empty(t, d.Learned)
	d = eval(p, view("segment", "shop", "ccaas.consent.updated", map[string]any{"ccaas.consent.category.Analytics": true, "ccaas.consent.category.Stats": false}))
	require.Len(t, d.Learned, 1)
	assert.Equal(t, consentstore.SourceConsentEvent, d.Learned[0].Source)
	assert.Equal(t, []string{"analytics"}, d.Learned[0].Granted)
	assert.Equal(t, []string{"analytics.reporting"}, d.Learned[0].Denied)
}

func TestTCF(t *testing.T) {
	p := compile(t, edit(t, "consent_sources:", "tcf:\n  purposes: {\"8\": [analytics.reporting], \"10\": [functional.service.improve]}\nconsent_sources:"))
	track := func(tc string) *View {
		return view("segment", "shop", "ccaas.analytics.track", map[string]any{"ccaas.consent.tcf": tc})
	}

	d := eval(p, track(tcfString(true, []int{8}, []int{7})))
	assert.True(t, d.Forward, d.Reasons)
	assert.Contains(t, d.Evidence, "tcf:consent=8")

	d = eval(p, track(tcfString(true, []int{10}, []int{7})))
	assert.False(t, d.Forward)
	assert.Equal(t, StatusDenied, d.Status)

	// The processor's GVL vendor id must have consent too.
	d = eval(p, track(tcfString(true, []int{8}, []int{1, 2})))
	assert.False(t, d.Forward)
	assert.Contains(t, d.Evidence, "tcf:vendor=7:no_consent")

	for _, bad := range []string{tcfString(false, []int{8}, []int{7}), "not a tc string", "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA"} {
		d = eval(p, track(bad))
		assert.False(t, d.Forward)
		assert.True(t, has(d, ReasonSignalMalformed), bad)
	}
}

func TestOptOuts(t *testing.T) {
	p := compile(t, basePolicy)
	granted := map[string]any{"ccaas.consent.category.Analytics": true, "ccaas.consent.category.Stats": true}
	with := func(k string, v any) map[string]any {
		m := map[string]any{k: v}
		for a, b := range granted {
			m[a] = b
		}
		return m
	}
	d := eval(p, view("segment", "shop", "ccaas.analytics.track", granted))
	assert.True(t, d.Forward, "a third party with consent")

	for name, attrs := range map[string]map[string]any{
		"gpc":          with("ccaas.consent.gpc", true),
		"gpc string":   with("ccaas.consent.gpc", "1"),
		"gpp usnat":    with("ccaas.consent.gpp", "DBABLA~BVQqAAAACg"[:0]+"DBABLA~CVVVkkkkkpFY.YA"),
		"gpp usca gpc": with("ccaas.consent.gpp", "DBABBg~BVWSSSVY.YA"),
	} {
		t.Run(name, func(t *testing.T) {
			d := eval(p, view("segment", "shop", "ccaas.analytics.track", attrs))
			assert.False(t, d.Forward)
			assert.Equal(t, StatusDenied, d.Status)
			assert.True(t, has(d, ReasonOptOutSaleSharing))
			assert.False(t, has(d, ReasonConsentDenied))
			require.NotEmpty(t, d.Learned)
			assert.Equal(t, consentstore.OptOutSaleSharing, d.Learned[0].OptOut)
			assert.Empty(t, d.Learned[0].Interaction, "an opt-out is for the subject")
		})
	}

	// GPP without an opt-out changes nothing; a malformed one quarantines.
	d = eval(p, view("segment", "shop", "ccaas.analytics.track", with("ccaas.consent.gpp", "DBABLA~BVQqAAAACg")))
	assert.True(t, d.Forward, d.Reasons)
	d = eval(p, view("segment", "shop", "ccaas.analytics.track", with("ccaas.consent.gpp", "DBABLA~")))
	assert.True(t, has(d, ReasonSignalMalformed))
	d = eval(p, view("segment", "shop", "ccaas.analytics.track", with("ccaas.consent.gpc", 3.5)))
	assert.True(t, has(d, ReasonSignalMalformed))

	// A stored opt-out persists; only an explicit opt-in lifts it.
	optOut := consentstore.Record{ID: "gpc1", OptOut: consentstore.OptOutSaleSharing, Source: consentstore.SourceOptOut, At: t0.Add(-time.Hour)}
	d = eval(p, view("segment", "shop", "ccaas.analytics.track", granted), optOut)
	assert.False(t, d.Forward)
	assert.Contains(t, d.Evidence, "consent:gpc1")
	optIn := consentstore.Record{ID: "in1", OptOut: consentstore.OptInSaleSharing, Source: consentstore.SourceAPI, At: t0.Add(-time.Minute)}
	d = eval(p, view("segment", "shop", "ccaas.analytics.track", granted), optOut, optIn)
	assert.True(t, d.Forward, d.Reasons)

	// Without a third party or an opt-out purpose, an opt-out changes nothing.
	d = eval(p, view("genesys", "org", "ccaas.interaction.started", map[string]any{"ccaas.consent.gpc": true}))
	assert.True(t, d.Forward, d.Reasons)
	require.Len(t, d.Learned, 1, "but it is still recorded")
}

func TestSubjectAndStoreErrors(t *testing.T) {
	p := compile(t, basePolicy)
	v := view("genesys", "org", "ccaas.transcript.segment", nil)
	v.Subject = ""
	d := eval(p, v)
	assert.True(t, has(d, ReasonSubjectUnknown))
	_, ok := p.StoreKey(v)
	assert.False(t, ok)

	// Consent not needed: no subject needed either.
	v = view("genesys", "org", "ccaas.interaction.started", nil)
	v.Subject = ""
	d = eval(p, v)
	assert.True(t, d.Forward)
	_, ok = p.StoreKey(v)
	assert.False(t, ok, "no lookup when nothing can depend on consent")

	v = view("genesys", "org", "ccaas.transcript.segment", nil)
	key, ok := p.StoreKey(v)
	assert.True(t, ok)
	assert.Equal(t, consentstore.Key{Scope: "genesys/org", Subject: "sk1_subject"}, key)
	d = &Decision{}
	p.Evaluate(v, Evidence{Err: errors.New("boom")}, d)
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonStoreError))
}

func TestSensitiveTenants(t *testing.T) {
	p := compile(t, edit(t, "notice: {id: hotline, processors: [vendor]}", "notice: {id: hotline, processors: [vendor, vendor-ai]}"))
	d := eval(p, view("genesys", "hotline", "ccaas.interaction.started", nil))
	assert.True(t, d.Forward)
	d = eval(p, view("genesys", "hotline", "ccaas.transcript.segment", nil),
		rec("all", t0.Add(-time.Hour), []string{"collect", "analytics", "train_ai_system"}, nil))
	assert.Equal(t, StatusGranted, d.Status)
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonSensitiveSecondaryUse))
}

func TestDecisionReuse(t *testing.T) {
	p := compile(t, basePolicy)
	d := &Decision{}
	p.Evaluate(view("genesys", "org", "ccaas.transcript.segment", map[string]any{"ccaas.consent.signal.everything": "yes"}), Evidence{}, d)
	require.NotEmpty(t, d.Learned)
	p.Evaluate(view("genesys", "org", "ccaas.interaction.started", nil), Evidence{}, d)
	assert.Empty(t, d.Learned)
	assert.Empty(t, d.Evidence)
	assert.Equal(t, []Reason{ReasonContractBasis}, d.Reasons)
}

func TestEvaluateAllocations(t *testing.T) {
	p := compile(t, basePolicy)
	d := &Decision{}
	v := view("genesys", "org", "ccaas.transcript.segment", nil)
	recs := []consentstore.Record{rec("c", t0.Add(-time.Hour), []string{"collect", "analytics", "train_ai_system"}, nil)}
	p.Evaluate(v, Evidence{Records: recs}, d)
	allocs := testing.AllocsPerRun(100, func() { p.Evaluate(v, Evidence{Records: recs}, d) })
	assert.LessOrEqual(t, allocs, 2.0, "evaluation with a store hit should barely allocate")
	v = view("genesys", "org", "ccaas.interaction.started", nil)
	allocs = testing.AllocsPerRun(100, func() { p.Evaluate(v, Evidence{}, d) })
	assert.Zero(t, allocs)
}

// TestTamperedConsentQuarantines: a store lookup that found an edited
// consent record quarantines with consent_tampered, not the generic
// store_error, even when the event's own signals grant consent.
func TestTamperedConsentQuarantines(t *testing.T) {
	p := compile(t, basePolicy)
	v := view("genesys", "org", "ccaas.transcript.segment", nil)
	d := &Decision{}
	p.Evaluate(v, Evidence{Err: fmt.Errorf("ledger lookup: %w", consentstore.ErrTampered)}, d)
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonConsentTampered))
	assert.False(t, has(d, ReasonStoreError))
	assert.True(t, ReasonConsentTampered.Blocking())
}
