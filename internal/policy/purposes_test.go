package policy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/consentstore"
)

// messagingPolicy adds two Twilio accounts to basePolicy: one sends service
// messages, the other marketing messages, which its own purposes say.
func messagingPolicy(t *testing.T) string {
	return edit(t,
		"  - id: ads\n", `  - id: twilio
    name: Twilio
    role: processor
    touches: {vendors: [twilio]}
  - id: ads
`,
		"purposes:\n", `  - vendor: twilio
    id: ACservice
    contract_purposes: [essential.service]
    notice: {id: service, processors: [twilio]}
  - vendor: twilio
    id: ACmarketing
    contract_purposes: [essential.service]
    notice: {id: marketing, processors: [twilio]}
    purposes:
      ccaas.message.*: [marketing.communications.sms]
      ccaas.message.receipt: [essential.service.operations.support]
purposes:
  ccaas.message.*: [essential.service.operations.support]
`,
		"consent_sources:\n", `consent_sources:
  twilio:
    signals:
      messaging: {purposes: [marketing.communications.sms], scope: subject}
`)
}

func TestTenantPurposes(t *testing.T) {
	p := compile(t, messagingPolicy(t))
	sent := func(tenant string) *View {
		v := view("twilio", tenant, "ccaas.message.sent", nil)
		v.Channel = "message"
		return v
	}
	d := eval(p, sent("ACservice"))
	assert.True(t, d.Forward, d.Reasons)
	assert.Equal(t, []string{"essential.service.operations.support"}, d.Purposes, "the policy's purposes")

	d = eval(p, sent("ACmarketing"))
	assert.False(t, d.Forward)
	assert.Equal(t, []string{"marketing.communications.sms"}, d.Purposes, "the tenant's own purposes come first")
	assert.True(t, has(d, ReasonConsentMissing))

	// The tenant's most specific key wins within its own map.
	d = eval(p, view("twilio", "ACmarketing", "ccaas.message.receipt", nil))
	assert.Equal(t, []string{"essential.service.operations.support"}, d.Purposes)
	assert.True(t, d.Forward, d.Reasons)

	// STOP, then START, for the subject: the latest statement decides.
	stop := consentstore.Record{ID: "stop", Key: consentstore.Key{Scope: "twilio/ACmarketing", Subject: "sk1_subject"},
		Denied: []string{"marketing.communications.sms"}, Source: consentstore.SourceConsentEvent, At: t0.Add(-time.Hour)}
	start := stop
	start.ID, start.Denied, start.Granted, start.At = "start", nil, []string{"marketing.communications.sms"}, t0.Add(-time.Minute)
	d = eval(p, sent("ACmarketing"), stop)
	assert.False(t, d.Forward)
	assert.True(t, has(d, ReasonConsentDenied))
	d = eval(p, sent("ACmarketing"), stop, start)
	assert.True(t, d.Forward, d.Reasons)
	assert.Equal(t, StatusGranted, d.Status)
	assert.Equal(t, []string{"consent:start"}, d.Evidence)

	// Service messages rest on the contract: a STOP does not touch them.
	d = eval(p, sent("ACservice"), stop)
	assert.True(t, d.Forward)
}

func TestTenantPurposesAreValidated(t *testing.T) {
	src := edit(t, "    id: org\n", "    id: org\n    purposes: {\"ccaas.interaction.*\": [essential.servce], \"ccaas.*.x\": [essential]}\n")
	_, err := Compile(parse(t, src))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `(genesys/org).purposes["ccaas.interaction.*"][0]: unknown data use "essential.servce"`)
	assert.Contains(t, err.Error(), `(genesys/org).purposes["ccaas.*.x"]: "ccaas.*.x": a pattern is an event name`)

	// Tenant purposes are part of what the hash covers.
	a, b := compile(t, basePolicy), compile(t, edit(t, "    id: org\n", "    id: org\n    purposes: {ccaas.interaction.started: [essential.service]}\n"))
	assert.NotEqual(t, a.Hash(), b.Hash())
}
