package twilioreceiver

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
)

func TestCloudEventTypes(t *testing.T) {
	n := fuzzNormalizer(t)
	for _, tc := range []struct {
		typ, data string
		name      string
		attrs     map[string]string
	}{
		{"com.twilio.voice.status-callback.call.ringing", `{"request":{"parameters":{"Direction":"inbound","From":"+14155550123"}}}`,
			ccaas.EventInteractionStarted, map[string]string{ccaas.AttrJurisdictionRegion: "US-CA", ccaas.AttrJurisdictionSource: "e164"}},
		{"com.twilio.voice.webhook.status-callback.call.completed", `{"request":{"parameters":{"CallStatus":"completed"}}}`,
			ccaas.EventInteractionEnded, nil},
		{"com.twilio.voice.status-callback.amd.detected", `{"request":{"parameters":{"CallStatus":"in-progress","AnsweredBy":"human"}}}`,
			ccaas.EventVendor, map[string]string{ccaas.AttrChannel: "voice"}},
		{"com.twilio.voice.twiml.call.redirected", `{"request":{"parameters":{"CallStatus":"in-progress"}}}`, ccaas.EventVendor, nil},
		{"com.twilio.voice.status-callback.recording.completed", `{"request":{"parameters":{"RecordingStatus":"completed","RecordingSid":"RE1"}}}`,
			ccaas.EventRecordingAvailable, map[string]string{ccaas.AttrRecordingState: "completed"}},
		{"com.twilio.taskrouter.task.completed", `{"payload":{"task_sid":"WT1","worker_sid":"WK1"}}`,
			ccaas.EventInteractionEnded, map[string]string{ccaas.AttrInteractionID: "WT1", ccaas.AttrAgentID: "WK1"}},
		{"com.twilio.taskrouter.worker.activity.update", `{"payload":{"worker_sid":"WK1","worker_activity_name":"Break","worker_previous_activity_name":"Available","worker_attributes":"{\"email\":\"alice@agents.example.org\"}"}}`,
			ccaas.EventAgentStatusChanged, map[string]string{ccaas.AttrAgentID: "WK1", ccaas.AttrAgentStatus: "break",
				ccaas.AttrAgentPreviousStatus: "available", ccaas.AttrAgentStatusType: "presence", ccaas.AttrSubjectKey: ""}},
		{"com.twilio.taskrouter.worker.attributes.update", `{"payload":{"worker_sid":"WK1"}}`, ccaas.EventVendor, nil},
		{"com.twilio.conversations.conversation-state.updated", `{"ConversationSid":"CH1","StateTo":"closed"}`, ccaas.EventInteractionEnded, nil},
		{"com.twilio.conversations.participant.added", `{"ConversationSid":"CH1","MessagingBinding":{"Address":"+447700900123"}}`,
			ccaas.EventVendor, map[string]string{ccaas.AttrJurisdictionCountry: "GB", ccaas.AttrSubjectIDType: "phone"}},
		{"com.twilio.conversations.message.added", `{"ConversationSid":"CH1","Author":"alice@agents.example.org","Source":"SDK"}`,
			ccaas.EventMessageReceived, map[string]string{ccaas.AttrChannel: "chat", ccaas.AttrSubjectKey: ""}},
		{"com.twilio.messaging.inbound-message.received", `{"messageSid":"SM1","from":"whatsapp:+447700900123","to":"whatsapp:+14155550199"}`,
			ccaas.EventMessageReceived, map[string]string{ccaas.AttrDirection: "inbound", ccaas.AttrMessageType: "whatsapp", ccaas.AttrJurisdictionCountry: "GB"}},
		{"com.twilio.messaging.message.sent", `{"sid":"SM2","from":"+14155550199","to":"+12125550123"}`,
			ccaas.EventMessageSent, map[string]string{ccaas.AttrDirection: "outbound", ccaas.AttrJurisdictionRegion: "US-NY"}},
		{"com.twilio.messaging.message.delivered", `{"sid":"SM2","to":"+12125550123"}`, ccaas.EventMessageReceipt, nil},
		// The type names the status even where the data's messageStatus lags.
		{"com.twilio.messaging.message.delivered", `{"messageSid":"SM2","to":"+12125550123","messageStatus":"QUEUED"}`,
			ccaas.EventMessageReceipt, map[string]string{ccaas.AttrInteractionID: "SM2"}},
		{"com.twilio.messaging.inbound-message.received", `{"messageSid":"SM3","from":"+12125550123","body":"stop"}`,
			ccaas.EventConsentUpdated, map[string]string{ccaas.AttrConsentSignalPrefix + "messaging": "opt_out", ccaas.AttrMessageKeyword: "opt_out"}},
		{"com.twilio.messaging.inbound-message.received", `{"messageSid":"SM3","from":"+12125550123","body":"Ahoy!","optOutType":"START"}`,
			ccaas.EventConsentUpdated, map[string]string{ccaas.AttrConsentSignalPrefix + "messaging": "opt_in"}},
		{"com.twilio.messaging.inbound-message.received", `{"messageSid":"SM3","from":"+12125550123","body":"Please stop calling me"}`,
			ccaas.EventMessageReceived, map[string]string{ccaas.AttrMessageKeyword: "", ccaas.AttrConsentSignalPrefix + "messaging": ""}},
		{"com.twilio.messaging.inbound-message.received", `{"messageSid":"SM3","from":"+12125550123","body":" help "}`,
			ccaas.EventMessageReceived, map[string]string{ccaas.AttrMessageKeyword: "help", ccaas.AttrConsentSignalPrefix + "messaging": ""}},
		{"com.twilio.intelligence.operator-result.created", `{"conversationId":"conv_1","operator":{"displayName":"Sentiment"},"result":{"label":"negative"}}`,
			ccaas.EventAnalyticsSentiment, map[string]string{ccaas.AttrInteractionID: "conv_1"}},
		{"com.twilio.intelligence.operator-result.created", `{"conversationId":"conv_1","operator":{"displayName":"Summary"}}`,
			ccaas.EventAnalyticsInsight, nil},
		{"com.twilio.intelligence.transcript.completed", `{"transcriptSid":"GT1","customerKey":"CA1"}`,
			ccaas.EventTranscriptSegment, map[string]string{ccaas.AttrInteractionID: "CA1"}},
		{"com.twilio.messaging.other", `{}`, ccaas.EventVendor, nil},
		{"com.twilio.eventstreams.test-event", `{"test_id":"TT1"}`, ccaas.EventVendor, nil},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			body := `[{"id":"E1","type":"` + tc.typ + `","time":"2025-03-04T17:00:00Z","data":` + tc.data + `}]`
			ld, err := n.eventStreams([]byte(body), nil, time.Now())
			require.NoError(t, err)
			lr := records(ld)[0]
			assert.Equal(t, tc.name, lr.EventName())
			for k, v := range tc.attrs {
				assert.Equal(t, v, attr(lr, k), k)
			}
		})
	}
}

func TestSubjectAttributes(t *testing.T) {
	n := fuzzNormalizer(t) // subject_attributes: [crm.phone]
	ta := `{"from":"Jane (web chat)","crm":{"phone":"+1 (415) 555-0123"},"channelType":"web"}`
	body := url.Values{"AccountSid": {testAccount}, "EventType": {"task.created"}, "TaskSid": {"WT1"}, "TaskAttributes": {ta}}.Encode()
	f, err := parseForm([]byte(body))
	require.NoError(t, err)
	ld, err := n.callback(routeTaskRouter, f, nil, time.Now())
	require.NoError(t, err)
	lr := records(ld)[0]
	assert.Equal(t, "phone", attr(lr, ccaas.AttrSubjectIDType))
	assert.Equal(t, "US-CA", attr(lr, ccaas.AttrJurisdictionRegion))
	assert.Equal(t, "chat", attr(lr, ccaas.AttrChannel))

	// Without a configured path, a display name in "from" is nobody.
	n.subjectAttrs = nil
	ld, err = n.callback(routeTaskRouter, f, nil, time.Now())
	require.NoError(t, err)
	assert.Empty(t, attr(records(ld)[0], ccaas.AttrSubjectKey))
}

func TestParseTime(t *testing.T) {
	want := time.Date(2025, 3, 4, 17, 2, 11, 0, time.UTC)
	for _, s := range []string{"Tue, 04 Mar 2025 17:02:11 +0000", "2025-03-04T17:02:11Z", "2025-03-04T18:02:11+01:00", "1741107731", "1741107731000"} {
		assert.Equal(t, want, parseTime(s), s)
	}
	for _, s := range []string{"", "0", "-5", "yesterday", "2025-03-04"} {
		assert.True(t, parseTime(s).IsZero(), s)
	}
}

func TestVendorJurisdiction(t *testing.T) {
	for _, tc := range []struct{ country, state, wantCountry, wantRegion string }{
		{"US", "CA", "US", "US-CA"},
		{"us", " ny ", "US", "US-NY"},
		{"CA", "ON", "CA", "CA-ON"},
		{"GB", "London", "GB", ""},
		{"US", "", "US", ""},
		{"", "CA", "", ""},
		{"USA", "CA", "", ""},
	} {
		lr := records(mustOneRecord(t))[0]
		setVendorJurisdiction(lr.Attributes(), tc.country, tc.state)
		assert.Equal(t, tc.wantCountry, attr(lr, ccaas.AttrJurisdictionCountry), tc)
		assert.Equal(t, tc.wantRegion, attr(lr, ccaas.AttrJurisdictionRegion), tc)
	}
}

func TestFormBodyKeepsValuesValidUTF8(t *testing.T) {
	f, err := parseForm([]byte("AccountSid=" + testAccount + "&CallSid=CA1&Name=%FF%FEok"))
	require.NoError(t, err)
	ld, err := fuzzNormalizer(t).callback(routeVoiceStatus, f, nil, time.Now())
	require.NoError(t, err)
	v, _ := records(ld)[0].Body().Map().Get("Name")
	assert.Equal(t, "\uFFFDok", v.Str())
	_, err = parseForm([]byte(strings.Repeat("a=1&", maxFormParams+1)))
	assert.Error(t, err)
}

func mustOneRecord(t *testing.T) plog.Logs {
	t.Helper()
	b := fuzzNormalizer(t).newBatch()
	b.Record(testAccount)
	return b.Logs()
}
