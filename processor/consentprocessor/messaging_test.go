package consentprocessor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/policy"
)

// tenantSMS is the example policy's Twilio account that sends marketing
// texts (config/policy.yaml).
const tenantSMS = "ACf54dd7a47a8011d65b54d472a7190549"

// TestSMSOptOut: with the example policy, a customer's STOP denies marketing
// texts to their number from then on, START grants them again, and service
// messages rest on the contract throughout. The consent events are the
// records the twilio receiver makes of the keywords (signal "messaging").
func TestSMSOptOut(t *testing.T) {
	q, f := policy.DecisionQuarantine, policy.DecisionForward
	const phone = "+31612345678"
	keyword := func(value string, at time.Time) event {
		return event{vendor: "twilio", tenant: tenantSMS, name: ccaas.EventConsentUpdated, phone: phone, interaction: "SM-" + value,
			channel: "message", at: at, attrs: map[string]any{"ccaas.consent.signal.messaging": value, ccaas.AttrMessageKeyword: value}}
	}
	sent := func(id string, at time.Time) event {
		return event{vendor: "twilio", tenant: tenantSMS, name: ccaas.EventMessageSent, phone: phone, interaction: id, channel: "message", at: at}
	}
	h := startProcessor(t, exampleConfig(), nil)
	got := h.run(
		sent("SM-before", t0),
		keyword(ccaas.KeywordOptOut, t0.Add(time.Minute)),
		sent("SM-after-stop", t0.Add(2*time.Minute)),
		event{vendor: "twilio", tenant: tenantSMS, name: ccaas.EventMessageReceived, phone: phone, interaction: "SM-question", channel: "message", at: t0.Add(3 * time.Minute)},
		keyword(ccaas.KeywordOptIn, t0.Add(4*time.Minute)),
		sent("SM-after-start", t0.Add(5*time.Minute)),
	)
	require.Len(t, got, 6)
	for i, w := range []want{
		{decision: q, status: policy.StatusUnknown, reasons: []policy.Reason{policy.ReasonConsentMissing}},
		{decision: f, reasons: []policy.Reason{policy.ReasonConsentRecorded}},
		{decision: q, status: policy.StatusDenied, reasons: []policy.Reason{policy.ReasonConsentDenied}},
		{decision: f, status: policy.StatusNotRequired, reasons: []policy.Reason{policy.ReasonContractBasis}},
		{decision: f, reasons: []policy.Reason{policy.ReasonConsentRecorded}},
		{decision: f, status: policy.StatusGranted, reasons: []policy.Reason{policy.ReasonConsentGranted}},
	} {
		assertWant(t, w, got[i])
	}
	require.Equal(t, []string{"marketing.communications.sms"}, got[2].purposes, "the tenant's own purposes")
}
