package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/subject"
)

// The tenants of the fixtures sent below: each real delivery keeps the
// account or organization it was captured with (the receivers'
// testdata/fixtures/SOURCES.md), so each is configured as a tenant.
// smsAccount is also the example policy's SMS marketing account.
const (
	smsAccount      = "ACf54dd7a47a8011d65b54d472a7190549"
	familiesSalt    = "e2e-families-subject-salt-0123456789"
	tdAccount       = "052c3763ee0745c68a1f65f25b0bf273"
	tdLegacyAccount = "4f4a37a201c642014200000c"
	tdToken         = "e2e-families-talkdesk-token-0123456789"
	tdLegacyToken   = "e2e-families-talkdesk-legacy-token-0123"
)

var (
	familiesTwilioAccounts = []string{smsAccount, "AC193fd584652e4c3bb7c3e918f06b065e", "AC3f1496421dea2c8446672cdf90ff4c7a",
		"AC0123456789abcdef0123456789abcdef", "AC00000000000000000000000000000000"}
	familiesGenesysOrgs = []string{"bb14bed0-f8f9-445d-b9d1-10cecb8569d6", "7c5e9a1e-3b2f-4d8a-9f61-2a0c4e6b8d10",
		"00000000-0000-0000-0000-000000000000"}
)

// familyToken is a tenant's credential, distinct per tenant.
func familyToken(tenant string) string {
	sum := sha256.Sum256([]byte("e2e-families/" + tenant))
	return hex.EncodeToString(sum[:16])
}

// familiesConfig: three receivers, the consent processor with the example
// policy, and the router, as a deployment runs them.
func familiesConfig() string {
	var tw, gen strings.Builder
	for _, a := range familiesTwilioAccounts {
		fmt.Fprintf(&tw, "      - account_sid: %s\n        auth_tokens: [%q]\n", a, familyToken(a))
	}
	for _, o := range familiesGenesysOrgs {
		fmt.Fprintf(&gen, "      - organization_id: %s\n        api_keys: [%q]\n", o, familyToken(o))
	}
	return `
extensions:
` + healthExtension + `receivers:
  twilio:
    endpoint: 127.0.0.1:{{.Ports.twilio}}
    public_url: http://127.0.0.1:{{.Ports.twilio}}
    subject_salt: ` + familiesSalt + `
    tenants:
` + tw.String() + `  genesys:
    endpoint: 127.0.0.1:{{.Ports.genesys}}
    subject_salt: ` + familiesSalt + `
    tenants:
` + gen.String() + `  talkdesk:
    endpoint: 127.0.0.1:{{.Ports.talkdesk}}
    subject_salt: ` + familiesSalt + `
    tenants:
      - account_id: ` + tdAccount + `
        header_tokens: ["` + tdToken + `"]
      - account_id: ` + tdLegacyAccount + `
        header_tokens: ["` + tdLegacyToken + `"]
` + routedPipelines("twilio, genesys, talkdesk")
}

// familyRecord is what a delivery must become.
type familyRecord struct {
	event       string
	subjectType subject.IDType // "" = the record names no customer
	subjectRaw  string         // the customer's identifier as the vendor sent it
	interaction string
	agent       string
	time        string // RFC 3339; "" = the vendor sends no time: unset
	country     string
	region      string
}

// TestNewVendorFamilies sends one delivery of each new event family through
// the built collector: real ones wherever one was published (the fixtures'
// SOURCES.md says which are synthesised), and checks what each record says
// about its subject, interaction, event, time and jurisdiction.
func TestNewVendorFamilies(t *testing.T) {
	c, fwd, q := startRouted(t, familiesConfig())
	keyers, err := subject.NewKeyers([]byte(familiesSalt))
	require.NoError(t, err)
	keyer := keyers.Resolve("", true)

	twilioForm := func(path string) func(body []byte) (int, string) {
		return func(body []byte) (int, string) {
			code, _, out := postTwilioForm(t, c, path, body, familyToken(formValue(t, body, "AccountSid")))
			return code, out
		}
	}
	for _, tc := range []struct {
		name, vendor, fixture string
		send                  func(body []byte) (int, string)
		want                  []familyRecord
	}{
		{"twilio inbound SMS (captured)", "twilio", "messaging_inbound_sms.form", twilioForm("/twilio/messaging"),
			[]familyRecord{{event: ccaas.EventMessageReceived, subjectType: subject.IDTypePhone, subjectRaw: "+31612345678",
				interaction: "SMb711289e438f577f230f5837e9c74a08", country: "NL"}}},
		{"twilio message status (captured)", "twilio", "messaging_status_delivered.form", twilioForm("/twilio/messaging/status"),
			[]familyRecord{{event: ccaas.EventMessageReceipt, subjectType: subject.IDTypePhone, subjectRaw: "+12125550123",
				interaction: "SMb937992a991240608f2893dd3e13ffcc", country: "US", region: "US-NY"}}},
		{"twilio <Record transcribe> (captured)", "twilio", "voice_record_transcription.form", twilioForm("/twilio/voice/transcription"),
			[]familyRecord{{event: ccaas.EventTranscriptSegment, subjectType: subject.IDTypePhone, subjectRaw: "+14045550123",
				interaction: "CAbea03a48a7be37048368488684116087", country: "US", region: "US-GA"}}},
		{"twilio Real-Time Transcription (synthesised)", "twilio", "voice_transcription_content.form", twilioForm("/twilio/voice/transcription"),
			[]familyRecord{{event: ccaas.EventTranscriptSegment, interaction: "CA5f2b1c9d8e7a6b5c4d3e2f1a0b9c8d7e", time: "2025-03-04T17:00:19.652139Z"}}},
		{"twilio Conversation Intelligence (Twilio's SDK test)", "twilio", "intelligence_rule_execution.json",
			func(body []byte) (int, string) {
				code, _, out := postTwilioJSON(t, c, "/twilio/intelligence", body, familyToken("AC00000000000000000000000000000000"))
				return code, out
			},
			[]familyRecord{{event: ccaas.EventAnalyticsInsight, interaction: "conv_conversation_01234567890123456789abcdef", time: "2025-01-15T10:30:45Z"}}},
		{"twilio worker activity (synthesised)", "twilio", "taskrouter_worker_activity_update.form", twilioForm("/twilio/taskrouter"),
			[]familyRecord{{event: ccaas.EventAgentStatusChanged, agent: "WKaaaa1111bbbb2222cccc3333dddd4444", time: "2025-03-04T17:20:00.123Z"}}},
		{"genesys presence audit (Genesys blueprint)", "genesys", "eventbridge_audit_user_presence.json",
			func(body []byte) (int, string) {
				code, _, out := post(t, c.url("genesys", "/genesys/eventbridge"), body, map[string]string{"X-API-Key": familyToken(familiesGenesysOrgs[0])})
				return code, out
			},
			[]familyRecord{{event: ccaas.EventAgentStatusChanged, agent: "278522be-1683-4877-8257-4164a177be89", time: "2021-06-25T15:11:52Z"}}},
		{"genesys user activity (Genesys developer blog)", "genesys", "notification_user_activity.json",
			func(body []byte) (int, string) {
				code, _, out := post(t, c.url("genesys", "/genesys/notifications"), body, map[string]string{"X-API-Key": familyToken(familiesGenesysOrgs[1])})
				return code, out
			},
			[]familyRecord{{event: ccaas.EventAgentStatusChanged, agent: "e40f28ea-fa86-493f-a5b8-d559c8533c96", time: "2021-05-14T09:03:17.047Z"}}},
		{"genesys transcription, one record per utterance (published test case)", "genesys", "eventbridge_transcription_two_channels.json",
			func(body []byte) (int, string) {
				code, _, out := post(t, c.url("genesys", "/genesys/eventbridge"), body, map[string]string{"X-API-Key": familyToken(familiesGenesysOrgs[2])})
				return code, out
			},
			[]familyRecord{
				{event: ccaas.EventTranscriptSegment, interaction: "test-conversation-id-1", time: "2025-12-10T08:44:30.264Z"},
				{event: ccaas.EventTranscriptSegment, interaction: "test-conversation-id-1", time: "2025-12-10T08:44:30.264Z"},
			}},
		{"talkdesk agent status (synthesised)", "talkdesk", "webhook_agent_status_changes.json",
			func(body []byte) (int, string) {
				code, _, out := post(t, c.url("talkdesk", "/talkdesk/webhook/agentStatusChanges"), body, map[string]string{"X-Consentry-Token": tdToken})
				return code, out
			},
			[]familyRecord{{event: ccaas.EventAgentStatusChanged, agent: "6a7b8c9d0e1f2a3b4c5d6e7f", time: "2025-11-03T14:31:02Z"}}},
		{"talkdesk call_finished with a recording link (Talkdesk's example)", "talkdesk", "webhook_legacy_call_finished.json",
			func(body []byte) (int, string) {
				code, _, out := post(t, c.url("talkdesk", "/talkdesk/webhook/events"), body, map[string]string{"X-Consentry-Token": tdLegacyToken})
				return code, out
			},
			[]familyRecord{
				{event: ccaas.EventInteractionEnded, subjectType: subject.IDTypePhone, subjectRaw: "+351961918192", interaction: "9d036a18-0986-11e2-b2c6-3d435d81b7fd",
					agent: "4f78ded32b0ac00001000001", time: "2012-09-28T16:09:07Z", country: "PT"},
				{event: ccaas.EventRecordingAvailable, subjectType: subject.IDTypePhone, subjectRaw: "+351961918192", interaction: "9d036a18-0986-11e2-b2c6-3d435d81b7fd",
					agent: "4f78ded32b0ac00001000001", time: "2012-09-28T16:09:07Z", country: "PT"},
			}},
		{"talkdesk Digital Connect message (synthesised)", "talkdesk", "digital_connect_message_created.json",
			func(body []byte) (int, string) {
				code, _, out := post(t, c.url("talkdesk", "/talkdesk/digital-connect"), body, map[string]string{"X-Consentry-Token": tdToken})
				return code, out
			},
			[]familyRecord{{event: ccaas.EventMessageReceived, subjectType: subject.IDTypePhone, subjectRaw: "+14155550123",
				interaction: "7c1f0b5e-2d4a-4e8b-9f3c-6a5d4e3c2b1a", time: "2025-11-03T14:40:12.345Z", country: "US", region: "US-CA"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fwd.count() + q.count()
			sent := time.Now()
			code, out := tc.send(fixture(t, tc.vendor, tc.fixture))
			require.Contains(t, []int{http.StatusOK, http.StatusNoContent}, code, out)
			waitFor(t, "the records", func() bool { return fwd.count()+q.count() >= before+len(tc.want) })
			got := append(fwd.records(), q.records()...)
			var recs []plog.LogRecord
			for _, r := range got {
				if r.Record.ObservedTimestamp().AsTime().After(sent) {
					recs = append(recs, r.Record)
				}
			}
			require.Len(t, recs, len(tc.want))
			for _, w := range tc.want {
				lr := findFamilyRecord(t, recs, w)
				if w.subjectType != "" {
					want, _, err := keyer.KeyRaw(w.subjectType, w.subjectRaw)
					require.NoError(t, err)
					assert.Equal(t, want, attrStr(lr, ccaas.AttrSubjectKey), "subject")
					assert.Equal(t, string(w.subjectType), attrStr(lr, ccaas.AttrSubjectIDType))
				} else {
					assert.Empty(t, attrStr(lr, ccaas.AttrSubjectKey), "no customer")
				}
				assert.Equal(t, w.interaction, attrStr(lr, ccaas.AttrInteractionID), "interaction")
				assert.Equal(t, w.agent, attrStr(lr, ccaas.AttrAgentID), "agent")
				if w.time == "" {
					assert.Zero(t, lr.Timestamp(), "the vendor sends no time")
				} else {
					at, err := time.Parse(time.RFC3339Nano, w.time)
					require.NoError(t, err)
					assert.Equal(t, at, lr.Timestamp().AsTime().UTC(), "time")
				}
				assert.True(t, lr.ObservedTimestamp().AsTime().After(sent), "observed when it arrived")
				assert.Equal(t, w.country, attrStr(lr, ccaas.AttrJurisdictionCountry), "jurisdiction")
				assert.Equal(t, w.region, attrStr(lr, ccaas.AttrJurisdictionRegion), "jurisdiction region")
				assert.NotEmpty(t, attrStr(lr, ccaas.AttrConsentDecision), "decided by the consent processor")
			}
		})
	}
	// Transcripts: one record per speaker, never one speaker's words under
	// the other's label.
	var channels []string
	for _, r := range append(fwd.records(), q.records()...) {
		if attrStr(r.Record, ccaas.AttrInteractionID) == "test-conversation-id-1" {
			channels = append(channels, attrStr(r.Record, ccaas.AttrTranscriptChannel))
			assert.Equal(t, 1, transcriptCount(r.Record), "one utterance per record")
		}
	}
	assert.ElementsMatch(t, []string{"internal", "external"}, channels)
}

// findFamilyRecord returns the record with the wanted event name (the
// recording record of a call end carries the call end's attributes).
func findFamilyRecord(t *testing.T, recs []plog.LogRecord, w familyRecord) plog.LogRecord {
	t.Helper()
	for _, lr := range recs {
		if lr.EventName() == w.event {
			return lr
		}
	}
	t.Fatalf("no %s record", w.event)
	return plog.LogRecord{}
}

func transcriptCount(lr plog.LogRecord) int {
	body := lr.Body().Map()
	ev, ok := body.Get("detail")
	if !ok {
		return -1
	}
	eb, ok := ev.Map().Get("eventBody")
	if !ok {
		return -1
	}
	ts, ok := eb.Map().Get("transcripts")
	if !ok {
		return -1
	}
	return ts.Slice().Len()
}

// TestSMSStopStart: a customer texts STOP to the example policy's SMS
// marketing account; the next marketing text to their number is
// quarantined; they text START; the next one flows. Real Twilio deliveries
// (testdata/fixtures/SOURCES.md), signed, through the built collector.
func TestSMSStopStart(t *testing.T) {
	c, fwd, q := startRouted(t, familiesConfig())
	token := familyToken(smsAccount)
	step := func(path, name string) sinkRecord {
		t.Helper()
		before := fwd.count() + q.count()
		code, _, out := postTwilioForm(t, c, path, fixture(t, "twilio", name), token)
		require.Contains(t, []int{http.StatusOK, http.StatusNoContent}, code, "%s: %s", name, out)
		waitFor(t, name, func() bool { return fwd.count()+q.count() > before })
		all := append(fwd.records(), q.records()...)
		var last sinkRecord
		for _, r := range all {
			if last.Record == (plog.LogRecord{}) || r.Record.ObservedTimestamp() > last.Record.ObservedTimestamp() {
				last = r
			}
		}
		return last
	}
	stop := step("/twilio/messaging", "messaging_inbound_stop.form")
	assert.Equal(t, ccaas.EventConsentUpdated, stop.Record.EventName())
	assert.Equal(t, ccaas.KeywordOptOut, attrStr(stop.Record, ccaas.AttrMessageKeyword))
	assert.Contains(t, attrStr(stop.Record, ccaas.AttrConsentReasons), "consent_recorded", "the STOP message is the evidence")

	afterStop := step("/twilio/messaging/status", "messaging_status_sent.form")
	assert.Equal(t, ccaas.EventMessageSent, afterStop.Record.EventName())
	assert.Equal(t, attrStr(stop.Record, ccaas.AttrSubjectKey), attrStr(afterStop.Record, ccaas.AttrSubjectKey), "the same number")
	assert.Equal(t, "quarantine", attrStr(afterStop.Record, ccaas.AttrConsentDecision))
	assert.Contains(t, attrStr(afterStop.Record, ccaas.AttrConsentReasons), "consent_denied")

	start := step("/twilio/messaging", "messaging_inbound_start.form")
	assert.Equal(t, ccaas.KeywordOptIn, attrStr(start.Record, ccaas.AttrMessageKeyword))

	afterStart := step("/twilio/messaging/status", "messaging_status_sent_after_start.form")
	assert.Equal(t, "forward", attrStr(afterStart.Record, ccaas.AttrConsentDecision), attrStr(afterStart.Record, ccaas.AttrConsentReasons))
	assert.Contains(t, attrStr(afterStart.Record, ccaas.AttrConsentReasons), "consent_granted")

	quarantined := 0
	for _, r := range q.records() {
		if r.Record.EventName() == ccaas.EventMessageSent {
			quarantined++
		}
	}
	assert.Equal(t, 1, quarantined, "only the text sent between STOP and START was held back")
}
