package consentprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/policy"
)

// want is what a case expects of a tagged record.
type want struct {
	decision    string
	status      policy.Status
	reasons     []policy.Reason // must all be present
	notReasons  []policy.Reason // must all be absent
	undisclosed []string
	allParty    *bool
	evidence    []string // must all be present
	jurisdict   []string
}

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

func assertWant(t *testing.T, w want, got decided) {
	t.Helper()
	assert.Equal(t, w.decision, got.decision, "consent.decision (reasons %v)", got.reasons)
	if w.status != "" {
		assert.Equal(t, string(w.status), got.status, "consent.status (reasons %v)", got.reasons)
	}
	for _, r := range w.reasons {
		assert.Contains(t, got.reasons, string(r))
	}
	for _, r := range w.notReasons {
		assert.NotContains(t, got.reasons, string(r))
	}
	if w.undisclosed != nil {
		assert.Equal(t, w.undisclosed, got.undisclosed)
	}
	if w.allParty != nil {
		assert.Equal(t, *w.allParty, got.allParty, "consent.all_party_required")
	}
	for _, e := range w.evidence {
		assert.Contains(t, got.evidence, e)
	}
	if w.jurisdict != nil {
		assert.Equal(t, w.jurisdict, got.jurisdictions)
	}
}

// decided is the consent.* view of a tagged record.
type decided struct {
	decision, status, notice, hash string
	reasons, purposes              []string
	jurisdictions, processors      []string
	disclosed, undisclosed         []string
	evidence                       []string
	allParty                       bool
}

func (h *harness) run(events ...event) []decided {
	h.t.Helper()
	var out []decided
	for _, lr := range h.decide(events...) {
		out = append(out, decided{
			decision:      strAttr(lr, ccaas.AttrConsentDecision),
			status:        strAttr(lr, ccaas.AttrConsentStatus),
			notice:        strAttr(lr, ccaas.AttrConsentNoticeIDTag),
			hash:          strAttr(lr, ccaas.AttrConsentPolicyHash),
			reasons:       sliceAttr(lr, ccaas.AttrConsentReasons),
			purposes:      sliceAttr(lr, ccaas.AttrConsentPurposes),
			jurisdictions: sliceAttr(lr, ccaas.AttrConsentJurisdictions),
			processors:    sliceAttr(lr, ccaas.AttrConsentProcessors),
			disclosed:     sliceAttr(lr, ccaas.AttrConsentDisclosedProcessors),
			undisclosed:   sliceAttr(lr, ccaas.AttrConsentUndisclosedProcessors),
			evidence:      sliceAttr(lr, ccaas.AttrConsentEvidence),
			allParty:      boolAttr(lr, ccaas.AttrConsentAllPartyRequired),
		})
	}
	return out
}

// TestLawsuits decides the three lawsuit patterns and their consented
// counterparts with the example policy (config/policy.yaml).
func TestLawsuits(t *testing.T) {
	q, f := policy.DecisionQuarantine, policy.DecisionForward
	aiConsent := consentstore.Record{
		ID: "cr_api_retailer_ai", Source: consentstore.SourceAPI,
		Key:     consentstore.Key{Scope: "outdoor-retailer", Subject: keyer.Key("phone", phoneCA)},
		Granted: []string{"collect.recording", "collect.transcription", "analytics.reporting", "train_ai_system", "functional.service.improve"},
		At:      t0.Add(-time.Hour),
	}
	for _, tc := range []struct {
		name   string
		store  []consentstore.Record
		events []event
		want   []want
	}{
		{
			name: "Bender v. Twilio: Segment in a meditation app whose notice does not name Segment",
			events: []event{{vendor: "segment", tenant: tenantMeditationA, name: ccaas.EventAnalyticsTrack, email: "user@example.com", channel: "app",
				attrs: map[string]any{"ccaas.consent.category.Analytics": true}}},
			want: []want{{decision: q, status: policy.StatusGranted, reasons: []policy.Reason{policy.ReasonProcessorUndisclosed},
				undisclosed: []string{"segment"}}},
		},
		{
			name: "Bender, consented counterpart: notice names Segment, the user granted analytics",
			events: []event{{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventAnalyticsTrack, email: "user@example.com", channel: "app",
				attrs: map[string]any{"ccaas.consent.category.Analytics": true, "ccaas.consent.category.Advertising": false}}},
			want: []want{{decision: f, status: policy.StatusGranted, reasons: []policy.Reason{policy.ReasonConsentGranted},
				notReasons: []policy.Reason{policy.ReasonProcessorUndisclosed}, evidence: []string{"category:Analytics=true"}}},
		},
		{
			name:   "Bender counterpart without a consent object: fail closed, unlike Segment",
			events: []event{{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventAnalyticsTrack, email: "user@example.com"}},
			want:   []want{{decision: q, status: policy.StatusUnknown, reasons: []policy.Reason{policy.ReasonConsentMissing}}},
		},
		{
			name: "Bender counterpart, analytics refused",
			events: []event{{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventAnalyticsTrack, email: "user@example.com",
				attrs: map[string]any{"ccaas.consent.category.Analytics": false}}},
			want: []want{{decision: q, status: policy.StatusDenied, reasons: []policy.Reason{policy.ReasonConsentDenied},
				evidence: []string{"category:Analytics=false"}}},
		},
		{
			name: "Bender counterpart: a category missing from a non-empty object counts as false",
			events: []event{{vendor: "segment", tenant: tenantMeditationB, name: ccaas.EventAnalyticsTrack, email: "user@example.com",
				attrs: map[string]any{"ccaas.consent.category.Advertising": true}}},
			want: []want{{decision: q, status: policy.StatusDenied, evidence: []string{"category:Analytics=absent"}}},
		},
		{
			name:   "Gills v. Patagonia: Talkdesk AI transcription, California caller, no consent",
			events: []event{{vendor: "talkdesk", tenant: tenantRetailer, name: ccaas.EventTranscriptSegment, phone: phoneCA, interaction: "call-1", channel: "voice"}},
			want: []want{{decision: q, status: policy.StatusUnknown, allParty: yes(), jurisdict: []string{"US-CA@customer.e164"},
				reasons:    []policy.Reason{policy.ReasonSecondaryUse, policy.ReasonAllPartyJurisdiction, policy.ReasonConsentMissing},
				notReasons: []policy.Reason{policy.ReasonProcessorUndisclosed}}},
		},
		{
			name:   "Patagonia, consented counterpart: the caller's consent is recorded in the store",
			store:  []consentstore.Record{aiConsent},
			events: []event{{vendor: "talkdesk", tenant: tenantRetailer, name: ccaas.EventTranscriptSegment, phone: phoneCA, interaction: "call-2", channel: "voice"}},
			want: []want{{decision: f, status: policy.StatusGranted, allParty: yes(),
				reasons: []policy.Reason{policy.ReasonSecondaryUse, policy.ReasonConsentGranted}, evidence: []string{"consent:cr_api_retailer_ai"}}},
		},
		{
			name: "Patagonia, consent given in the IVR of this call (in-event signal), learned for the rest of the call",
			events: []event{
				{vendor: "talkdesk", tenant: tenantRetailer, name: ccaas.EventInteractionAttributes, phone: phoneCA, interaction: "call-3", channel: "voice",
					attrs: map[string]any{"ccaas.consent.signal.ai": "Yes"}},
				{vendor: "talkdesk", tenant: tenantRetailer, name: ccaas.EventTranscriptSegment, phone: phoneCA, interaction: "call-3", channel: "voice", at: t0.Add(time.Minute)},
				{vendor: "talkdesk", tenant: tenantRetailer, name: ccaas.EventTranscriptSegment, phone: phoneCA, interaction: "call-other", channel: "voice", at: t0.Add(time.Minute)},
			},
			want: []want{
				{decision: f, status: policy.StatusNotRequired, reasons: []policy.Reason{policy.ReasonConsentRecorded}},
				{decision: f, status: policy.StatusGranted},
				{decision: q, status: policy.StatusUnknown, reasons: []policy.Reason{policy.ReasonConsentMissing}},
			},
		},
		{
			name:   "Genesys / hotline: sensitive tenant whose notice does not name Genesys",
			events: []event{{vendor: "genesys", tenant: tenantHotline, name: ccaas.EventInteractionStarted, phone: phoneTX, interaction: "conv-1", channel: "chat"}},
			want: []want{{decision: q, status: policy.StatusNotRequired, reasons: []policy.Reason{policy.ReasonProcessorUndisclosed},
				undisclosed: []string{"genesys"}}},
		},
		{
			name:   "Hotline that names Genesys: routing flows under contract",
			events: []event{{vendor: "genesys", tenant: tenantCrisisLine, name: ccaas.EventInteractionStarted, phone: phoneTX, interaction: "conv-2", channel: "chat"}},
			want:   []want{{decision: f, status: policy.StatusNotRequired, reasons: []policy.Reason{policy.ReasonContractBasis}}},
		},
		{
			name:   "Hotline that names Genesys: Genesys AI stays quarantined, even with consent",
			store:  []consentstore.Record{{ID: "cr_hotline_all", Source: consentstore.SourceAPI, Key: consentstore.Key{Scope: "genesys/" + tenantCrisisLine, Subject: keyer.Key("phone", phoneTX)}, Granted: []string{"collect", "analytics", "functional"}, At: t0.Add(-time.Hour)}},
			events: []event{{vendor: "genesys", tenant: tenantCrisisLine, name: ccaas.EventTranscriptSegment, phone: phoneTX, interaction: "conv-3", channel: "voice"}},
			want:   []want{{decision: q, status: policy.StatusGranted, reasons: []policy.Reason{policy.ReasonSensitiveSecondaryUse}}},
		},
		{
			name: "Unknown location counts as all-party: recording without consent is quarantined",
			events: []event{
				{vendor: "talkdesk", tenant: tenantRetailer, name: ccaas.EventRecordingAvailable, opaque: "contact-42", interaction: "call-4", channel: "voice"},
				{vendor: "talkdesk", tenant: tenantRetailer, name: ccaas.EventRecordingAvailable, phone: phoneTX, interaction: "call-5", channel: "voice"},
				{vendor: "talkdesk", tenant: tenantRetailer, name: ccaas.EventRecordingAvailable, phone: phoneCA, interaction: "call-6", channel: "voice"},
			},
			want: []want{
				{decision: q, status: policy.StatusUnknown, allParty: yes(), jurisdict: []string{"unknown@customer.none"},
					reasons: []policy.Reason{policy.ReasonJurisdictionUnknown, policy.ReasonAllPartyJurisdiction, policy.ReasonConsentMissing}},
				{decision: f, status: policy.StatusNotRequired, allParty: no(), jurisdict: []string{"US-TX@customer.e164"}, reasons: []policy.Reason{policy.ReasonContractBasis}},
				{decision: q, status: policy.StatusUnknown, allParty: yes(), jurisdict: []string{"US-CA@customer.e164"}},
			},
		},
		{
			name: "GPC opt-out: blocks third parties, and persists for the subject",
			events: []event{
				{vendor: "segment", tenant: tenantOutdoorWeb, name: ccaas.EventAnalyticsTrack, email: "shopper@example.com", channel: "web",
					attrs: map[string]any{"ccaas.consent.category.Analytics": true, "ccaas.consent.category.Advertising": true}},
				{vendor: "segment", tenant: tenantOutdoorWeb, name: ccaas.EventAnalyticsTrack, email: "shopper@example.com", channel: "web", at: t0.Add(time.Minute),
					attrs: map[string]any{"ccaas.consent.category.Analytics": true, "ccaas.consent.category.Advertising": true, "ccaas.consent.gpc": true}},
				{vendor: "segment", tenant: tenantOutdoorWeb, name: ccaas.EventAnalyticsTrack, email: "shopper@example.com", channel: "web", at: t0.Add(2 * time.Minute),
					attrs: map[string]any{"ccaas.consent.category.Analytics": true, "ccaas.consent.category.Advertising": true}},
			},
			want: []want{
				{decision: f, status: policy.StatusGranted, reasons: []policy.Reason{policy.ReasonThirdPartyRole, policy.ReasonConsentGranted}},
				{decision: q, status: policy.StatusDenied, reasons: []policy.Reason{policy.ReasonOptOutSaleSharing, policy.ReasonOptOutRecorded}, evidence: []string{"gpc"},
					notReasons: []policy.Reason{policy.ReasonConsentDenied}},
				{decision: q, status: policy.StatusDenied, reasons: []policy.Reason{policy.ReasonOptOutSaleSharing},
					notReasons: []policy.Reason{policy.ReasonOptOutRecorded}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startProcessor(t, exampleConfig(), nil)
			for _, r := range tc.store {
				require.NoError(t, h.cp.eval.Store().Append(context.Background(), r))
			}
			got := h.run(tc.events...)
			require.Len(t, got, len(tc.want))
			for i, w := range tc.want {
				assertWant(t, w, got[i])
				assert.NotEmpty(t, got[i].hash)
			}
		})
	}
}
