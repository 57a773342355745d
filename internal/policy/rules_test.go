package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/consentstore"
)

// TestPlayedNoticeTiming: a played notice counts only if the tenant lists
// it (and its version), and, when max_offset is set, it was played within
// that long of the interaction's start.
func TestPlayedNoticeTiming(t *testing.T) {
	p := compile(t, edit(t, "      - id: rec-prompt\n        purposes: [collect.recording]\n      - id: ai-prompt",
		"      - id: rec-prompt\n        purposes: [collect.recording]\n        version: \"2\"\n        max_offset: 10s\n      - id: ai-prompt"))
	rec := func(attrs map[string]any) *Decision {
		v := view("genesys", "org", "ccaas.recording.available", attrs)
		v.Region = "US-CA" // all-party: the recording needs the caller's consent
		return eval(p, v)
	}
	for _, tc := range []struct {
		name     string
		attrs    map[string]any
		forward  bool
		reason   Reason
		evidence string
	}{
		{"played at once", map[string]any{"ccaas.consent.notice.id": "rec-prompt", "ccaas.consent.notice.offset": 2.5}, true, ReasonImpliedConsent, "notice:rec-prompt@2"},
		{"played at the limit", map[string]any{"ccaas.consent.notice.id": "rec-prompt", "ccaas.consent.notice.offset": int64(10)}, true, ReasonImpliedConsent, ""},
		{"offset as a string", map[string]any{"ccaas.consent.notice.id": "rec-prompt", "ccaas.consent.notice.offset": "4"}, true, ReasonImpliedConsent, ""},
		{"right version", map[string]any{"ccaas.consent.notice.id": "rec-prompt", "ccaas.consent.notice.version": "2", "ccaas.consent.notice.offset": 1.0}, true, ReasonImpliedConsent, ""},
		{"played late", map[string]any{"ccaas.consent.notice.id": "rec-prompt", "ccaas.consent.notice.offset": 45.0}, false, ReasonNoticeLate, "notice:rec-prompt@2=late"},
		{"timing unknown", map[string]any{"ccaas.consent.notice.id": "rec-prompt"}, false, ReasonNoticeTimingUnknown, "notice:rec-prompt@2=timing_unknown"},
		{"offset not a number", map[string]any{"ccaas.consent.notice.id": "rec-prompt", "ccaas.consent.notice.offset": "soon"}, false, ReasonSignalMalformed, "notice:rec-prompt@2=offset_malformed"},
		{"negative offset", map[string]any{"ccaas.consent.notice.id": "rec-prompt", "ccaas.consent.notice.offset": -3.0}, false, ReasonSignalMalformed, ""},
		{"other version", map[string]any{"ccaas.consent.notice.id": "rec-prompt", "ccaas.consent.notice.version": "1", "ccaas.consent.notice.offset": 1.0}, false, ReasonNoticeUnknown, "notice:rec-prompt@1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := rec(tc.attrs)
			assert.Equal(t, tc.forward, d.Forward, "%v %v", d.Reasons, d.Evidence)
			assert.True(t, has(d, tc.reason), "want %s in %v", tc.reason, d.Reasons)
			if tc.evidence != "" {
				assert.Contains(t, d.Evidence, tc.evidence)
			}
			if !tc.forward {
				assert.True(t, has(d, ReasonConsentMissing) || d.Blocked(), d.Reasons)
				for _, l := range d.Learned {
					assert.NotEqual(t, consentstore.SourceNotice, l.Source, "a notice that does not count is not learned")
				}
			}
		})
	}
	// Without max_offset, the offset is not needed.
	d := eval(compile(t, basePolicy), func() *View {
		v := view("genesys", "org", "ccaas.recording.available", map[string]any{"ccaas.consent.notice.id": "rec-prompt"})
		v.Region = "US-CA"
		return v
	}())
	assert.True(t, d.Forward, d.Reasons)
}

// TestOptInAfterOptOut: consent recorded through the API can opt a subject
// back into sale and sharing after GPC or a GPP opt-out (CCPA); the same
// signals repeating afterwards do not undo it, a new one does.
func TestOptInAfterOptOut(t *testing.T) {
	p := compile(t, basePolicy)
	granted := map[string]any{"ccaas.consent.category.Analytics": true, "ccaas.consent.category.Stats": true}
	track := func(at time.Time, extra map[string]any) *View {
		attrs := map[string]any{}
		for k, v := range granted {
			attrs[k] = v
		}
		for k, v := range extra {
			attrs[k] = v
		}
		v := view("segment", "shop", "ccaas.analytics.track", attrs)
		v.Time = at
		return v
	}
	gpcOut := consentstore.Record{ID: "gpc", OptOut: consentstore.OptOutSaleSharing, Source: consentstore.SourceOptOut, Signal: "gpc", At: t0.Add(-2 * time.Hour)}
	optIn := consentstore.Record{ID: "in", OptOut: consentstore.OptInSaleSharing, Source: consentstore.SourceAPI, At: t0.Add(-time.Hour)}

	d := eval(p, track(t0, nil), gpcOut)
	assert.False(t, d.Forward)
	d = eval(p, track(t0, nil), gpcOut, optIn)
	assert.True(t, d.Forward, d.Reasons)

	// The browser keeps sending Sec-GPC: 1: the opt-in stands, and the
	// repeated signal is not recorded again.
	d = eval(p, track(t0, map[string]any{"ccaas.consent.gpc": true}), gpcOut, optIn)
	assert.True(t, d.Forward, d.Reasons)
	assert.True(t, has(d, ReasonOptInOverridesSignal))
	assert.Contains(t, d.Evidence, "consent:in")
	assert.Empty(t, d.Learned)

	// A GPP opt-out the subject never sent before the opt-in opts out again.
	us, _ := iabGPPVectors(t)
	var usca string
	for _, v := range us {
		if v.Name == "usca/only_SaleOptOut" {
			usca = v.GPP
		}
	}
	require.NotEmpty(t, usca)
	d = eval(p, track(t0, map[string]any{"ccaas.consent.gpp": usca}), gpcOut, optIn)
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonOptOutSaleSharing))
	require.NotEmpty(t, d.Learned)

	// An opt-out through the API after the opt-in counts.
	apiOut := consentstore.Record{ID: "api-out", OptOut: consentstore.OptOutSaleSharing, Source: consentstore.SourceAPI, At: t0.Add(-time.Minute)}
	d = eval(p, track(t0, nil), gpcOut, optIn, apiOut)
	assert.False(t, d.Forward)

	// opt_in_overrides_signals: false: the repeated signal opts out again.
	p = compile(t, edit(t, "consent_sources:", "opt_out: {opt_in_overrides_signals: false}\nconsent_sources:"))
	d = eval(p, track(t0, map[string]any{"ccaas.consent.gpc": true}), gpcOut, optIn)
	assert.False(t, d.Forward)
}

// TestWithdrawalTiming: a withdrawal recorded before the event is decided
// blocks it even if it is dated after the event (forwarding is processing),
// unless withdrawals: at_event_time.
func TestWithdrawalTiming(t *testing.T) {
	all := []string{"collect", "analytics", "train_ai_system"}
	grant := rec("grant", t0.Add(-2*time.Hour), all, nil)
	withdraw := rec("withdraw", t0.Add(time.Hour), nil, all) // after the event
	laterGrant := rec("later", t0.Add(2*time.Hour), all, nil)
	v := view("genesys", "org", "ccaas.transcript.segment", nil)

	p := compile(t, basePolicy)
	d := eval(p, v, grant)
	assert.True(t, d.Forward, d.Reasons)
	d = eval(p, v, grant, withdraw)
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonConsentDenied))
	assert.True(t, has(d, ReasonWithdrawalAfterEvent))
	assert.Contains(t, d.Evidence, "consent:withdraw")
	// A later grant does not cover the earlier event, nor undo the withdrawal.
	d = eval(p, v, withdraw, laterGrant)
	assert.False(t, d.Forward)
	// A later opt-out of sale and sharing too.
	shop := view("segment", "shop", "ccaas.analytics.track", map[string]any{"ccaas.consent.category.Analytics": true, "ccaas.consent.category.Stats": true})
	lateOptOut := consentstore.Record{ID: "gpc-later", OptOut: consentstore.OptOutSaleSharing, Source: consentstore.SourceOptOut, Signal: "gpc", At: t0.Add(time.Hour)}
	d = eval(p, shop, lateOptOut)
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonOptOutSaleSharing) && has(d, ReasonWithdrawalAfterEvent), d.Reasons)

	p = compile(t, edit(t, "consent_sources:", "withdrawals: at_event_time\nconsent_sources:"))
	d = eval(p, v, grant, withdraw)
	assert.True(t, d.Forward, d.Reasons)
	d = eval(p, shop, lateOptOut)
	assert.True(t, d.Forward, d.Reasons)

	_, err := Compile(parse(t, edit(t, "consent_sources:", "withdrawals: sometimes\nconsent_sources:")))
	assert.ErrorContains(t, err, "at_forwarding or at_event_time")
}

// TestEveryPartyJurisdiction: every party's location counts, the strictest
// law applies, and consent.jurisdictions lists each with its source.
func TestEveryPartyJurisdiction(t *testing.T) {
	p := compile(t, edit(t, "    contract_purposes: [essential.service, collect.recording]",
		`    contract_purposes: [essential.service, collect.recording]
    numbers: {"+18005550100": US-CA}
    sites:
      - id: austin
        jurisdiction: US-TX
        agents: [agent-7]
      - id: seattle
        jurisdiction: US-WA
        queues: [queue-sea]`))
	recording := func(region string, hints []string, mod func(v *View)) *Decision {
		v := view("genesys", "org", "ccaas.recording.available", nil)
		v.Region, v.Source, v.Hints = region, "e164", hints
		if region == "" {
			v.Country = ""
		}
		if mod != nil {
			mod(v)
		}
		return eval(p, v)
	}
	for _, tc := range []struct {
		name     string
		region   string
		hints    []string
		mod      func(v *View)
		allParty bool
		want     []string
	}{
		{"customer in a one-party state", "US-TX", nil, nil, false, []string{"US-TX@customer.e164"}},
		{"the address on file disagrees with the area code", "US-TX", []string{"US-TX@customer.e164", "US-CA@customer.address"}, nil, true,
			[]string{"US-TX@customer.e164", "US-CA@customer.address"}},
		{"the called number is in an all-party state", "US-TX", []string{"US-FL@business.vendor_field"}, nil, true,
			[]string{"US-TX@customer.e164", "US-FL@business.vendor_field"}},
		{"the tenant's toll-free number", "US-TX", nil, func(v *View) { v.BusinessNumber = "+18005550100" }, true,
			[]string{"US-TX@customer.e164", "US-CA@business.tenant_number"}},
		{"an unlisted business number", "US-TX", nil, func(v *View) { v.BusinessNumber = "+18005550199" }, false, []string{"US-TX@customer.e164"}},
		{"the agent's site", "US-TX", nil, func(v *View) { v.AgentID = "agent-7" }, false, []string{"US-TX@customer.e164", "US-TX@agent.site"}},
		{"the queue's site", "US-TX", nil, func(v *View) { v.QueueID = "queue-sea" }, true, []string{"US-TX@customer.e164", "US-WA@agent.site"}},
		{"an agent location attribute", "US-TX", []string{"US-PA@agent.attribute"}, nil, true, []string{"US-TX@customer.e164", "US-PA@agent.attribute"}},
		{"customer known only by a hint", "", []string{"US-NY@customer.address"}, nil, false, []string{"US-NY@customer.address"}},
		{"an unreadable hint is an unknown location", "US-TX", []string{"California@business.to_state"}, nil, true,
			[]string{"US-TX@customer.e164", "unknown@business.unreadable"}},
		{"no customer location at all", "", []string{"US-TX@business.e164"}, nil, true, []string{"US-TX@business.e164", "unknown@customer.none"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := recording(tc.region, tc.hints, tc.mod)
			assert.Equal(t, tc.allParty, d.AllPartyRequired, d.Reasons)
			assert.Equal(t, !tc.allParty, d.Forward, d.Reasons)
			assert.Equal(t, tc.want, d.Jurisdictions)
		})
	}
	for src, want := range map[string]string{
		"    numbers: {\"800-555-0100\": US-CA}":                 "is not a phone number in E.164",
		"    numbers: {\"+18005550100\": California}":            "is not an ISO 3166-1",
		"    sites: [{id: x, jurisdiction: US-TX}]":              "lists no agents and no queues",
		"    sites: [{id: x, jurisdiction: Texas, agents: [a]}]": "is not an ISO 3166-1",
		"    sites: [{jurisdiction: US-TX, agents: [a]}]":        "id must be set",
		"    jurisdictions: [US-CA]\n    sites: [{id: x, jurisdiction: US-TX, agents: [a]}, {id: x, jurisdiction: US-TX, agents: [b]}]": "listed twice",
	} {
		_, err := Compile(parse(t, edit(t, "    contract_purposes: [essential.service, collect.recording]", "    contract_purposes: [essential.service, collect.recording]\n"+src)))
		require.Error(t, err, src)
		assert.Contains(t, err.Error(), want, src)
	}
}

// TestGDPR: where a party is in the EU/EEA or the UK, a processor without
// an Art. 28 agreement, a purpose without a legal basis and a sensitive
// tenant without an Art. 9 condition each quarantine; consent as the legal
// basis makes a purpose need consent.
func TestGDPR(t *testing.T) {
	base := edit(t,
		"    role: processor\n    touches: {vendors: [genesys]}", "    role: processor\n    art28_agreement: true\n    touches: {vendors: [genesys]}",
		"    secondary_uses: [train_ai_system]", "    secondary_uses: [train_ai_system]\n    art28_agreement: true",
		"consent_sources:", `gdpr:
  legal_bases:
    essential.service: contract
    collect: legitimate_interests
    analytics: consent
    train_ai_system: consent
consent_sources:`)
	de := func(p *Policy, tenant, event string) *Decision {
		v := view("genesys", tenant, event, nil)
		v.Country, v.Region, v.Source = "DE", "DE-BE", "e164"
		return eval(p, v)
	}
	p := compile(t, base)
	d := de(p, "org", "ccaas.interaction.started")
	assert.True(t, d.Forward, d.Reasons)
	assert.True(t, has(d, ReasonGDPRApplies))
	// A US caller: the GDPR does not apply.
	d = eval(p, view("genesys", "org", "ccaas.interaction.started", nil))
	assert.False(t, has(d, ReasonGDPRApplies))

	// No Art. 28 agreement with the vendor.
	p = compile(t, edit(t, "consent_sources:", "gdpr: {legal_bases: {essential: contract}}\nconsent_sources:"))
	d = de(p, "org", "ccaas.interaction.started")
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonGDPRArt28Missing), d.Reasons)
	d = eval(p, view("genesys", "org", "ccaas.interaction.started", nil))
	assert.True(t, d.Forward, "outside the GDPR the agreement is not checked: %v", d.Reasons)

	// No legal basis for a purpose.
	p = compile(t, base)
	v := view("genesys", "org", "ccaas.consent.updated", nil)
	v.Region = "FR"
	d = eval(p, v)
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonGDPRLegalBasisMissing), d.Reasons)

	// Consent as the legal basis: analytics needs consent, even where the
	// contract covers it for US callers.
	p = compile(t, edit(t, "    contract_purposes: [essential.service, collect.recording]", "    contract_purposes: [essential.service, collect.recording, analytics]",
		"    role: processor\n    touches: {vendors: [genesys]}", "    role: processor\n    art28_agreement: true\n    touches: {vendors: [genesys]}",
		"    secondary_uses: [train_ai_system]", "    secondary_uses: [train_ai_system]\n    art28_agreement: true",
		"consent_sources:", "gdpr:\n  legal_bases: {essential: contract, collect: legitimate_interests, analytics: consent, train_ai_system: consent}\nconsent_sources:",
		"  ccaas.consent.updated: [essential.legal_obligation]", "  ccaas.consent.updated: [essential.legal_obligation]\n  ccaas.task.created: [analytics.reporting]"))
	d = eval(p, view("genesys", "org", "ccaas.task.created", nil))
	assert.True(t, d.Forward, "US caller, contract: %v", d.Reasons)
	d = de(p, "org", "ccaas.task.created")
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonConsentMissing), d.Reasons)
	vde := view("genesys", "org", "ccaas.task.created", nil)
	vde.Region = "DE-BE"
	d = eval(p, vde, rec("ok", t0.Add(-time.Hour), []string{"analytics"}, nil))
	assert.True(t, d.Forward, d.Reasons)

	// A sensitive tenant: no Art. 9 condition quarantines; explicit consent
	// makes every purpose need consent, and a played notice is not enough.
	p = compile(t, base)
	d = de(p, "hotline", "ccaas.interaction.started")
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonGDPRArt9Missing), d.Reasons)
	p = compile(t, edit(t, "    id: hotline\n    sensitive: true", "    id: hotline\n    sensitive: true\n    art9_condition: explicit_consent",
		"    role: processor\n    touches: {vendors: [genesys]}", "    role: processor\n    art28_agreement: true\n    touches: {vendors: [genesys]}",
		"consent_sources:", "gdpr: {legal_bases: {essential: contract, collect: consent}}\nconsent_sources:"))
	d = de(p, "hotline", "ccaas.interaction.started")
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonConsentMissing), d.Reasons)
	vh := view("genesys", "hotline", "ccaas.interaction.started", nil)
	vh.Region = "DE-BE"
	hotlineRec := rec("explicit", t0.Add(-time.Hour), []string{"essential"}, nil)
	hotlineRec.Key.Scope = "genesys/hotline"
	d = eval(p, vh, hotlineRec)
	assert.True(t, d.Forward, d.Reasons)
	vh = view("genesys", "hotline", "ccaas.recording.available", map[string]any{"ccaas.consent.notice.id": "rec-prompt"})
	vh.Region = "DE-BE"
	d = eval(p, vh)
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonSensitiveAmbiguous), d.Reasons)

	for src, want := range map[string]string{
		"gdpr: {legal_bases: {essential: contrat}}":   "is not a legal basis",
		"gdpr: {legal_bases: {essentials: contract}}": "unknown data use",
		"gdpr: {jurisdictions: [Germany]}":            "is not an ISO 3166-1",
		"tenants_art9: x":                             "",
	} {
		if want == "" {
			continue
		}
		_, err := Compile(parse(t, edit(t, "consent_sources:", src+"\nconsent_sources:")))
		require.Error(t, err, src)
		assert.Contains(t, err.Error(), want, src)
	}
	_, err := Compile(parse(t, edit(t, "    id: hotline\n    sensitive: true", "    id: hotline\n    sensitive: true\n    art9_condition: because")))
	assert.ErrorContains(t, err, "is not an Art. 9(2) condition")
}

// TestUnreadableSignalsNeverForward: a consent signal that could not be
// fully read quarantines the record even where nothing needs consent: a
// non-boolean Segment category (not a refusal), a signal the receiver could
// not copy, a malformed TC, GPP or US Privacy string, a GPP section of an
// unknown version.
func TestUnreadableSignalsNeverForward(t *testing.T) {
	p := compile(t, basePolicy)
	us, _ := iabGPPVectors(t)
	var usca string
	for _, v := range us {
		if v.Name == "usca/did_not_opt_out" {
			usca = v.GPP
		}
	}
	usca2 := strings.Replace(usca, "~B", "~C", 1) // version 2 of usca does not exist (yet)
	for name, attrs := range map[string]map[string]any{
		"category yes":      {"ccaas.consent.category.Analytics": "yes", "ccaas.consent.category.Stats": true},
		"category number":   {"ccaas.consent.category.Analytics": int64(1), "ccaas.consent.category.Stats": true},
		"unreadable gpp":    {"ccaas.consent.unreadable": []any{"gpp"}},
		"unreadable signal": {"ccaas.consent.unreadable": []any{"signal:recording"}},
		"bad tcf":           {"ccaas.consent.tcf": "CO!nope"},
		"bad gpp":           {"ccaas.consent.gpp": "DBABLA~"},
		"usca version 2":    {"ccaas.consent.gpp": usca2},
		"bad usp":           {"ccaas.consent.usp": "1YXN"},
	} {
		t.Run(name, func(t *testing.T) {
			views := []*View{view("segment", "shop", "ccaas.analytics.track", attrs)}
			if !strings.HasPrefix(name, "category") { // categories a vendor's source does not map are ignored
				views = append(views, view("genesys", "org", "ccaas.interaction.started", attrs)) // nothing needs consent
			}
			for _, v := range views {
				d := eval(p, v)
				assert.False(t, d.Forward, "%s: %v", v.EventName, d.Reasons)
				assert.True(t, has(d, ReasonSignalMalformed), d.Reasons)
				assert.False(t, has(d, ReasonConsentDenied), "a consent that cannot be read is not a refusal: %v", d.Reasons)
			}
		})
	}
	d := eval(p, view("segment", "shop", "ccaas.analytics.track", map[string]any{"ccaas.consent.category.Analytics": "yes", "ccaas.consent.category.Stats": true}))
	assert.Contains(t, d.Evidence, "category:Analytics=malformed")
	d = eval(p, view("genesys", "org", "ccaas.interaction.started", map[string]any{"ccaas.consent.unreadable": []any{"gpp", "category:X"}}))
	assert.Equal(t, []string{"gpp=unreadable", "category:X=unreadable"}, d.Evidence)
}
