package twilioreceiver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
)

// lastRecords posts and returns the records of that one request.
func (h *harness) lastRecords(t *testing.T, resp *http.Response, out string) []plog.LogRecord {
	t.Helper()
	require.Less(t, resp.StatusCode, 300, out)
	all := h.sink.AllLogs()
	require.NotEmpty(t, all)
	return records(all[len(all)-1])
}

func TestMessagingKeywords(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	base := url.Values{}
	form, err := url.ParseQuery(string(fixture(t, "messaging_inbound_sms.form")))
	require.NoError(t, err)
	for k, v := range form {
		base[k] = v
	}
	token := fixtureAccounts[base.Get("AccountSid")]
	send := func(sid, body, optOutType string) plog.LogRecord {
		t.Helper()
		f := url.Values{}
		for k, v := range base {
			f[k] = v
		}
		f.Set("MessageSid", sid)
		f.Set("Body", body)
		if optOutType != "" {
			f.Set("OptOutType", optOutType)
		}
		resp, out := h.postForm(PathMessaging, []byte(f.Encode()), token)
		recs := h.lastRecords(t, resp, out)
		require.Len(t, recs, 1)
		return recs[0]
	}
	signal := ccaas.AttrConsentSignalPrefix + "messaging"
	for i, tc := range []struct {
		body, optOutType string
		name, kw, signal string
	}{
		{"STOP", "", ccaas.EventConsentUpdated, "opt_out", "opt_out"},
		{"  unsubscribe ", "", ccaas.EventConsentUpdated, "opt_out", "opt_out"},
		{"StopAll", "", ccaas.EventConsentUpdated, "opt_out", "opt_out"},
		{"quit", "", ccaas.EventConsentUpdated, "opt_out", "opt_out"},
		{"start", "", ccaas.EventConsentUpdated, "opt_in", "opt_in"},
		{"YES", "", ccaas.EventConsentUpdated, "opt_in", "opt_in"},
		{"Unstop", "", ccaas.EventConsentUpdated, "opt_in", "opt_in"},
		{"help", "", ccaas.EventMessageReceived, "help", ""},
		// Advanced Opt-Out matched a custom keyword: Twilio's OptOutType decides.
		{"ARRET", "STOP", ccaas.EventConsentUpdated, "opt_out", "opt_out"},
		// A sentence is conversation, not a keyword.
		{"please stop texting me", "", ccaas.EventMessageReceived, "", ""},
		{"STOP!", "", ccaas.EventMessageReceived, "", ""},
	} {
		t.Run(tc.body, func(t *testing.T) {
			lr := send("SM00000000000000000000000000000"+string(rune('a'+i))+"00", tc.body, tc.optOutType)
			assert.Equal(t, tc.name, lr.EventName())
			assert.Equal(t, tc.kw, attr(lr, ccaas.AttrMessageKeyword))
			assert.Equal(t, tc.signal, attr(lr, signal))
			assert.Equal(t, "inbound", attr(lr, ccaas.AttrDirection))
			assert.NotEmpty(t, attr(lr, ccaas.AttrSubjectKey), "the sender is the subject whatever they wrote")
		})
	}

	t.Run("configured keywords and signal name", func(t *testing.T) {
		cfg := testConfig()
		cfg.Messaging.ConsentSignal = "sms_marketing"
		cfg.Messaging.OptOutKeywords = append(cfg.Messaging.OptOutKeywords, "Arrêt")
		h := startReceiver(t, cfg, new(consumertest.LogsSink))
		f := url.Values{}
		for k, v := range base {
			f[k] = v
		}
		f.Set("Body", "ARRÊT")
		resp, out := h.postForm(PathMessaging, []byte(f.Encode()), token)
		lr := h.lastRecords(t, resp, out)[0]
		assert.Equal(t, ccaas.EventConsentUpdated, lr.EventName())
		assert.Equal(t, "opt_out", attr(lr, ccaas.AttrConsentSignalPrefix+"sms_marketing"))
	})
}

func TestMessagingAnswers(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	body := fixture(t, "messaging_inbound_sms.form")
	resp, out := h.postForm(PathMessaging, body, tokenFor(t, body))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/xml", resp.Header.Get("Content-Type"))
	assert.Equal(t, emptyTwiML, out, "the incoming message webhook gets TwiML that does nothing")

	body = fixture(t, "messaging_status_delivered.form")
	resp, out = h.postForm(PathMessageStatus, body, tokenFor(t, body))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, out)

	// Signed like voice: no signature, or one for another URL, is refused.
	resp, _ = h.post(PathMessaging, formType, body, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = h.post(PathMessaging, formType, body, map[string]string{HeaderSignature: signForm(t, tokenFor(t, body), testPublic+PathMessageStatus, body)})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// A messaging webhook without a message SID is not one.
	bad := []byte(url.Values{"AccountSid": {testAccount}, "Body": {"hi"}}.Encode())
	resp, _ = h.postForm(PathMessaging, bad, testToken)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestEventStreamsDataString(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	event := func(data any, contentType string) []byte {
		ce := map[string]any{"specversion": "1.0", "id": "EV-" + contentType, "type": "com.twilio.messaging.message.sent", "data": data}
		if contentType != "" {
			ce["datacontenttype"] = contentType
		}
		b, err := json.Marshal([]any{ce})
		require.NoError(t, err)
		return b
	}
	obj := map[string]any{"accountSid": testAccount, "messageSid": "SM1", "to": "+12125550123", "messageStatus": "SENT"}
	str, err := json.Marshal(obj)
	require.NoError(t, err)

	t.Run("a JSON string is decoded", func(t *testing.T) {
		resp, out := h.postEvents(PathEventStreams, event(string(str), "application/json; charset=utf-8"), testToken)
		lr := h.lastRecords(t, resp, out)[0]
		assert.Equal(t, ccaas.EventMessageSent, lr.EventName())
		assert.Equal(t, "US-NY", attr(lr, ccaas.AttrJurisdictionRegion))
		data, ok := lr.Body().Map().Get("data")
		require.True(t, ok)
		assert.Equal(t, "SM1", data.Map().AsRaw()["messageSid"], "the body holds the decoded data")
	})
	t.Run("the account check applies to the decoded data", func(t *testing.T) {
		other := map[string]any{"accountSid": otherAccount, "messageSid": "SM2", "to": "+12125550123"}
		s, _ := json.Marshal(other)
		resp, out := h.postEvents(PathEventStreams, event(string(s), "application/json"), testToken)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, out)
	})
	t.Run("a JSON-typed string that is not JSON is refused", func(t *testing.T) {
		resp, out := h.postEvents(PathEventStreams, event("not json", "application/json"), testToken)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, out)
		resp, out = h.postEvents(PathEventStreams, event(`["array"]`, ""), testToken)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, out)
	})
	t.Run("a string of another media type stays a string", func(t *testing.T) {
		resp, out := h.postEvents(PathEventStreams, event(string(str), "text/plain"), testToken)
		lr := h.lastRecords(t, resp, out)[0]
		data, _ := lr.Body().Map().Get("data")
		assert.Equal(t, string(str), data.Str())
		assert.Empty(t, attr(lr, ccaas.AttrSubjectKey))
	})
}

func TestIntelligenceRoute(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	body := fixture(t, "intelligence_rule_execution_sentiment.json")

	resp, _ := h.post(PathIntelligence, "application/json", body, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "unsigned")
	resp, _ = h.post(PathIntelligence, "application/json", body, map[string]string{HeaderSignature: signForm(t, testToken, testPublic+PathIntelligence, nil)})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a JSON body needs bodySHA256")
	resp, _ = h.postEvents(PathIntelligence, body, otherToken)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "another account's token")

	// Two results: one record each, each body holding its own result.
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m))
	results := m["operatorResults"].([]any)
	second := map[string]any{}
	for k, v := range results[0].(map[string]any) {
		second[k] = v
	}
	second["id"] = "intelligence_operatorresult_second"
	second["operator"] = map[string]any{"displayName": "Summary"}
	m["operatorResults"] = append(results, second)
	two, _ := json.Marshal(m)
	resp, out := h.postEvents(PathIntelligence, two, testToken)
	recs := h.lastRecords(t, resp, out)
	require.Len(t, recs, 2)
	assert.Equal(t, ccaas.EventAnalyticsSentiment, recs[0].EventName())
	assert.Equal(t, ccaas.EventAnalyticsInsight, recs[1].EventName())
	for _, lr := range recs {
		ops, _ := lr.Body().Map().Get("operatorResults")
		assert.Equal(t, 1, ops.Slice().Len())
		assert.Equal(t, "conv_conversation_772a49ae-48e7-4d18-9db5-a40f6203de01", attr(lr, ccaas.AttrInteractionID))
	}

	resp, _ = h.postEvents(PathIntelligence, []byte(`{"accountId":"`+testAccount+`"}`), testToken)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestTranscriptionAndConference(t *testing.T) {
	n := fuzzNormalizer(t)
	call := func(route string, v url.Values) (plog.LogRecord, error) {
		f, err := parseForm([]byte(v.Encode()))
		require.NoError(t, err)
		ld, err := n.callback(route, f, nil, time.Now())
		if err != nil {
			return plog.LogRecord{}, err
		}
		return records(ld)[0], nil
	}
	_, err := call(routeTranscription, url.Values{"TranscriptionEvent": {"transcription-content"}})
	assert.Error(t, err, "no CallSid")
	_, err = call(routeTranscription, url.Values{"CallSid": {"CA1"}})
	assert.Error(t, err, "neither kind of transcription callback")

	for track, speaker := range map[string]string{"inbound_track": "external", "outbound_track": "internal", "both_tracks": "both", "": ""} {
		lr, err := call(routeTranscription, url.Values{"CallSid": {"CA1"}, "TranscriptionEvent": {"transcription-content"}, "Track": {track},
			"Final": {"false"}, "TranscriptionData": {`{"transcript":"hello"}`}})
		require.NoError(t, err)
		assert.Equal(t, speaker, attr(lr, ccaas.AttrTranscriptChannel), track)
		assert.Equal(t, "false", attr(lr, ccaas.AttrTranscriptFinal))
	}
	lr, err := call(routeTranscription, url.Values{"CallSid": {"CA1"}, "TranscriptionStatus": {"failed"}, "From": {"+12125550123"}, "Direction": {"inbound"}})
	require.NoError(t, err)
	assert.Equal(t, ccaas.EventVendor, lr.EventName(), "a failed transcription has no text")

	_, err = call(routeConference, url.Values{"StatusCallbackEvent": {"participant-join"}})
	assert.Error(t, err, "no ConferenceSid")
	for evt, want := range map[string]string{
		"conference-start": ccaas.EventInteractionStarted, "participant-join": ccaas.EventParticipantJoined,
		"participant-leave": ccaas.EventParticipantLeft, "participant-mute": ccaas.EventParticipantUpdated,
		"participant-unhold": ccaas.EventParticipantUpdated, "announcement-end": ccaas.EventVendor,
	} {
		lr, err := call(routeConference, url.Values{"ConferenceSid": {"CF1"}, "StatusCallbackEvent": {evt}, "ParticipantLabel": {"supervisor"}})
		require.NoError(t, err)
		assert.Equal(t, want, lr.EventName(), evt)
		assert.Empty(t, attr(lr, ccaas.AttrParticipantRole), "an unconfigured label has no role")
	}
	lr, err = call(routeConference, url.Values{"ConferenceSid": {"CF1"}, "StatusCallbackEvent": {"participant-leave"}, "ParticipantLabel": {"Agent"}})
	require.NoError(t, err)
	assert.Equal(t, ccaas.EventAgentSegmentEnded, lr.EventName(), "labels compare case-insensitively")
}

func TestMessagingConfigValidation(t *testing.T) {
	cfg := testConfig()
	cfg.Messaging.HelpKeywords = append(cfg.Messaging.HelpKeywords, "stop")
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is also one of opt_out_keywords")

	cfg = testConfig()
	cfg.Messaging.ConsentSignal = "sms.marketing"
	require.ErrorContains(t, cfg.Validate(), "messaging.consent_signal")
	cfg = testConfig()
	cfg.Messaging.OptInKeywords = []string{" "}
	require.ErrorContains(t, cfg.Validate(), "opt_in_keywords[0] is empty")
	cfg = testConfig()
	cfg.Conference.AgentLabels = []string{""}
	require.ErrorContains(t, cfg.Validate(), "conference.agent_labels[0] is empty")
	assert.True(t, strings.HasPrefix(normKeyword(" stop  all "), "STOP ALL"))
}
