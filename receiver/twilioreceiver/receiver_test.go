package twilioreceiver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/goldenlogs"
	"github.com/consentry/consentry/receiver/twilioreceiver/internal/metadata"
)

func TestGolden(t *testing.T) {
	for _, tc := range []struct{ fixture, path string }{
		{"voice_status_inbound_completed.form", PathVoiceStatus},
		{"voice_status_outbound_ringing.form", PathVoiceStatus},
		{"voice_status_anonymous.form", PathVoiceStatus},
		{"voice_recording_paused.form", PathVoiceRecording},
		{"voice_recording_completed.form", PathVoiceRecording},
		{"taskrouter_task_created.form", PathTaskRouter},
		{"taskrouter_reservation_accepted.form", PathTaskRouter},
		{"conversations_message_added.form", PathConversations},
		{"conversations_participant_added.form", PathConversations},
		{"eventstreams_batch.json", PathEventStreams},
		// Deliveries collected from public sources (testdata/fixtures/SOURCES.md).
		{"messaging_inbound_sms.form", PathMessaging},
		{"messaging_inbound_whatsapp.form", PathMessaging},
		{"messaging_inbound_stop.form", PathMessaging},
		{"messaging_inbound_start.form", PathMessaging},
		{"messaging_inbound_help.form", PathMessaging},
		{"messaging_status_delivered.form", PathMessageStatus},
		{"messaging_status_whatsapp_delivered.form", PathMessageStatus},
		{"messaging_status_sent.form", PathMessageStatus},
		{"voice_recording_recordverb.form", PathVoiceRecording},
		{"voice_record_transcription.form", PathTranscription},
		{"voice_transcription_started.form", PathTranscription},
		{"voice_transcription_content.form", PathTranscription},
		{"voice_transcription_content_agent.form", PathTranscription},
		{"voice_conference_agent_join.form", PathConference},
		{"voice_conference_customer_hold.form", PathConference},
		{"voice_conference_agent_leave.form", PathConference},
		{"voice_conference_end.form", PathConference},
		{"taskrouter_worker_activity_update.form", PathTaskRouter},
		{"eventstreams_messaging.json", PathEventStreams},
		{"eventstreams_data_string.json", PathEventStreams},
		{"eventstreams_intelligence.json", PathEventStreams},
		{"intelligence_rule_execution.json", PathIntelligence},
		{"intelligence_rule_execution_sentiment.json", PathIntelligence},
		{"intelligence_transcript_available.json", PathIntelligence},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
			body := fixture(t, tc.fixture)
			var (
				resp *http.Response
				out  string
			)
			if strings.HasSuffix(tc.fixture, ".json") {
				resp, out = h.postEvents(tc.path, body, tokenFor(t, body))
			} else {
				resp, out = h.postForm(tc.path, body, tokenFor(t, body))
			}
			require.Less(t, resp.StatusCode, 300, out)
			require.Len(t, h.sink.AllLogs(), 1)
			ld := h.sink.AllLogs()[0]
			name := strings.TrimSuffix(strings.TrimSuffix(tc.fixture, ".json"), ".form")
			goldenlogs.Assert(t, filepath.Join("testdata", "golden", name+".json"), ld)
			assertNoRawIdentifiers(t, ld)
		})
	}
}

// assertNoRawIdentifiers checks that no attribute carries a raw identifier
// of the fixtures: those stay in the body, which the ledger encrypts.
func assertNoRawIdentifiers(t *testing.T, ld plog.Logs) {
	t.Helper()
	goldenlogs.AssertNoRawIdentifiers(t, ld, "5550123", "5550199", "7946", "900123", "xample.", "266696687")
}

func TestNormalisation(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	post := func(path, name string) plog.LogRecord {
		t.Helper()
		before := len(h.sink.AllLogs())
		resp, out := h.postForm(path, fixture(t, name), testToken)
		require.Less(t, resp.StatusCode, 300, out)
		require.Len(t, h.sink.AllLogs(), before+1)
		return records(h.sink.AllLogs()[before])[0]
	}

	inboundCall := post(PathVoiceStatus, "voice_status_inbound_completed.form")
	t.Run("inbound call: the caller is the subject, FromState the region", func(t *testing.T) {
		lr := inboundCall
		assert.Equal(t, ccaas.EventInteractionEnded, lr.EventName())
		assert.Equal(t, "inbound", attr(lr, ccaas.AttrDirection))
		assert.Equal(t, "US-CA", attr(lr, ccaas.AttrJurisdictionRegion))
		assert.Equal(t, "vendor_field", attr(lr, ccaas.AttrJurisdictionSource))
		assert.Equal(t, "phone", attr(lr, ccaas.AttrSubjectIDType))
	})
	t.Run("outbound call: the called party is the subject", func(t *testing.T) {
		lr := post(PathVoiceStatus, "voice_status_outbound_ringing.form")
		assert.Equal(t, ccaas.EventInteractionStarted, lr.EventName())
		assert.Equal(t, "outbound", attr(lr, ccaas.AttrDirection))
		assert.Equal(t, "GB", attr(lr, ccaas.AttrJurisdictionCountry))
		assert.Empty(t, attr(lr, ccaas.AttrJurisdictionRegion))
	})
	t.Run("a withheld caller id is nobody", func(t *testing.T) {
		lr := post(PathVoiceStatus, "voice_status_anonymous.form")
		assert.Empty(t, attr(lr, ccaas.AttrSubjectKey))
		assert.Empty(t, attr(lr, ccaas.AttrJurisdictionCountry), "+266696687 is Twilio's marker, not Lesotho")
	})
	t.Run("a paused recording says so", func(t *testing.T) {
		lr := post(PathVoiceRecording, "voice_recording_paused.form")
		assert.Equal(t, ccaas.EventRecordingUpdated, lr.EventName())
		assert.Equal(t, "paused", attr(lr, ccaas.AttrRecordingState))
		assert.Equal(t, "false", attr(lr, ccaas.AttrRecordingActive))
		lr = post(PathVoiceRecording, "voice_recording_completed.form")
		assert.Equal(t, ccaas.EventRecordingAvailable, lr.EventName())
	})
	t.Run("task attributes give subject, jurisdiction, consent and the call", func(t *testing.T) {
		call := inboundCall
		lr := post(PathTaskRouter, "taskrouter_task_created.form")
		assert.Equal(t, ccaas.EventTaskCreated, lr.EventName())
		assert.Equal(t, "true", attr(lr, ccaas.AttrConsentSignalPrefix+"recording"))
		assert.Equal(t, "denied", attr(lr, ccaas.AttrConsentSignalPrefix+"analytics"), "a dotted path reaches nested attributes")
		assert.Equal(t, "US-CA", attr(lr, ccaas.AttrJurisdictionRegion))
		assert.Equal(t, attr(call, ccaas.AttrSubjectKey), attr(lr, ccaas.AttrSubjectKey), "the task's customer is the caller")
		assert.Equal(t, attr(call, ccaas.AttrInteractionID), attr(lr, ccaas.AttrInteractionID), "the task belongs to the call")
		assert.Equal(t, "WQ5555eeee6666ffff7777aaaa8888bbbb", attr(lr, ccaas.AttrQueueID))
	})
	t.Run("a WhatsApp customer is the same subject in TaskRouter and Conversations", func(t *testing.T) {
		task := post(PathTaskRouter, "taskrouter_reservation_accepted.form")
		msg := post(PathConversations, "conversations_message_added.form")
		assert.Equal(t, ccaas.EventAgentSegmentStarted, task.EventName())
		assert.Equal(t, "WKaaaa1111bbbb2222cccc3333dddd4444", attr(task, ccaas.AttrAgentID))
		assert.Equal(t, ccaas.EventMessageReceived, msg.EventName())
		assert.Equal(t, "inbound", attr(msg, ccaas.AttrDirection))
		assert.Equal(t, "whatsapp", attr(msg, ccaas.AttrMessageType))
		assert.Equal(t, attr(task, ccaas.AttrSubjectKey), attr(msg, ccaas.AttrSubjectKey))
		assert.Equal(t, attr(task, ccaas.AttrInteractionID), attr(msg, ccaas.AttrInteractionID))
		assert.Equal(t, "GB", attr(msg, ccaas.AttrJurisdictionCountry))
	})
	t.Run("conversation attributes carry consent signals", func(t *testing.T) {
		lr := post(PathConversations, "conversations_participant_added.form")
		assert.Equal(t, "false", attr(lr, ccaas.AttrConsentSignalPrefix+"recording"))
		assert.Equal(t, "US-CA", attr(lr, ccaas.AttrJurisdictionRegion))
	})
}

func TestEventStreamsBatch(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	resp, out := h.postEvents(PathEventStreams, fixture(t, "eventstreams_batch.json"), testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.JSONEq(t, `{"accepted":4,"duplicates":0}`, out)
	recs := records(h.sink.AllLogs()[0])
	var names, ids []string
	for _, lr := range recs {
		names = append(names, lr.EventName())
		ids = append(ids, attr(lr, ccaas.AttrEventID))
	}
	assert.Equal(t, []string{ccaas.EventTaskCreated, ccaas.EventInteractionEnded, ccaas.EventMessageReceived, ccaas.EventVendor}, names)
	assert.Equal(t, []string{"EV8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d", "EC1b2c3d4e5f60718293a4b5c6d7e8f90a", "EZ2c3d4e5f60718293a4b5c6d7e8f90a1b", "EA3d4e5f60718293a4b5c6d7e8f90a1b2c"}, ids,
		"the CloudEvent id is the event id")
	assert.Equal(t, "com.twilio.error-logs.error.logged", attr(recs[3], ccaas.AttrEventType))
	assert.Equal(t, "true", attr(recs[0], ccaas.AttrConsentSignalPrefix+"recording"))
	assert.Equal(t, attr(recs[0], ccaas.AttrSubjectKey), attr(recs[1], ccaas.AttrSubjectKey), "task and call have the same customer")
	assert.Equal(t, "US-CA", attr(recs[1], ccaas.AttrJurisdictionRegion))
}

func TestResponses(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	for _, tc := range []struct {
		path, fixture string
		status        int
		contentType   string
	}{
		{PathVoiceStatus, "voice_status_inbound_completed.form", http.StatusOK, ""},
		{PathVoiceRecording, "voice_recording_paused.form", http.StatusOK, ""},
		{PathConversations, "conversations_message_added.form", http.StatusOK, ""},
		{PathTaskRouter, "taskrouter_task_created.form", http.StatusNoContent, "application/json"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			for range 2 { // a duplicate gets the same answer
				resp, out := h.postForm(tc.path, fixture(t, tc.fixture), testToken)
				assert.Equal(t, tc.status, resp.StatusCode)
				assert.Empty(t, out, "never TwiML, never a body Twilio might interpret")
				assert.Equal(t, tc.contentType, resp.Header.Get("Content-Type"))
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	voice := fixture(t, "voice_status_inbound_completed.form")
	otherVoice := []byte(strings.ReplaceAll(string(voice), testAccount, otherAccount))
	subVoice := []byte(strings.ReplaceAll(string(voice), testAccount, testSub))
	unknownVoice := []byte(strings.ReplaceAll(string(voice), testAccount, "AC00000000000000000000000000000000"))
	events := fixture(t, "eventstreams_batch.json")
	sig := func(token, pq string, body []byte) map[string]string {
		return map[string]string{HeaderSignature: signForm(t, token, testPublic+pq, body)}
	}
	for _, tc := range []struct {
		name    string
		path    string
		body    []byte
		headers map[string]string
		want    int
		tenant  string
	}{
		{"signed", PathVoiceStatus, voice, sig(testToken, PathVoiceStatus, voice), http.StatusOK, testAccount},
		{"rotated token", PathVoiceStatus, voice, sig(oldToken, PathVoiceStatus, voice), http.StatusOK, testAccount},
		{"other account with its own token", PathVoiceStatus, otherVoice, sig(otherToken, PathVoiceStatus, otherVoice), http.StatusOK, otherAccount},
		{"subaccount signed by its parent", PathVoiceStatus, subVoice, sig(testToken, PathVoiceStatus, subVoice), http.StatusOK, testSub},
		{"no signature", PathVoiceStatus, voice, nil, http.StatusUnauthorized, ""},
		{"empty signature", PathVoiceStatus, voice, map[string]string{HeaderSignature: " "}, http.StatusUnauthorized, ""},
		{"wrong token", PathVoiceStatus, voice, sig("00000000000000000000000000000000", PathVoiceStatus, voice), http.StatusUnauthorized, ""},
		{"another account's token", PathVoiceStatus, voice, sig(otherToken, PathVoiceStatus, voice), http.StatusUnauthorized, ""},
		{"unknown account", PathVoiceStatus, unknownVoice, sig(testToken, PathVoiceStatus, unknownVoice), http.StatusUnauthorized, ""},
		{"signed for another route", PathVoiceRecording, voice, sig(testToken, PathVoiceStatus, voice), http.StatusUnauthorized, ""},
		{"signed for another host", PathVoiceStatus, voice, map[string]string{HeaderSignature: referenceSignature(testToken, "https://evil.example.com"+PathVoiceStatus, mustQuery(t, voice))}, http.StatusUnauthorized, ""},
		{"signed for http", PathVoiceStatus, voice, map[string]string{HeaderSignature: referenceSignature(testToken, "http://hooks.example.com"+PathVoiceStatus, mustQuery(t, voice))}, http.StatusUnauthorized, ""},
		{"hex instead of base64", PathVoiceStatus, voice, map[string]string{HeaderSignature: "a1b2c3"}, http.StatusUnauthorized, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
			resp, out := h.post(tc.path, formType, tc.body, tc.headers)
			require.Equal(t, tc.want, resp.StatusCode, out)
			if tc.want != http.StatusOK {
				assert.Zero(t, h.sink.LogRecordCount(), "a refused request produces no record")
				var e struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				}
				require.NoError(t, json.Unmarshal([]byte(out), &e))
				assert.Equal(t, tc.want, e.Code)
				return
			}
			require.Equal(t, 1, h.sink.LogRecordCount())
			assert.Equal(t, tc.tenant, tenantOf(h.sink.AllLogs()[0], 0))
		})
	}

	t.Run("event streams", func(t *testing.T) {
		h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
		// Unsigned, or signed without bodySHA256: the body is not covered.
		resp, out := h.post(PathEventStreams, "application/json", events, nil)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
		resp, out = h.post(PathEventStreams, "application/json", events,
			map[string]string{HeaderSignature: referenceSignature(testToken, testPublic+PathEventStreams, nil)})
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
		// Signed for the body, then the body altered.
		pq, s := signJSON(t, testToken, testPublic, PathEventStreams, events)
		altered := []byte(strings.Replace(string(events), "task.created", "task.deleted", 1))
		resp, out = h.post(pq, "application/json", altered, map[string]string{HeaderSignature: s})
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
		// The altered body with its own hash, but the old signature.
		pq2, _ := signJSON(t, testToken, testPublic, PathEventStreams, altered)
		resp, out = h.post(pq2, "application/json", altered, map[string]string{HeaderSignature: s})
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
		// A well-signed delivery of another account's events: forbidden.
		foreign := []byte(strings.ReplaceAll(string(events), testAccount, otherAccount))
		resp, out = h.postEvents(PathEventStreams, foreign, testToken)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, out)
		assert.Zero(t, h.sink.LogRecordCount())
		// The other account's own token; the account named in the URL so
		// that only its tokens are tried.
		resp, out = h.postEvents(PathEventStreams+"?AccountSid="+otherAccount, foreign, otherToken)
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		assert.Equal(t, otherAccount, tenantOf(h.sink.AllLogs()[0], 0))
		// Named in the URL, signed by another account's token.
		resp, out = h.postEvents(PathEventStreams+"?AccountSid="+otherAccount, events, testToken)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
	})
}

func mustQuery(t *testing.T, body []byte) url.Values {
	t.Helper()
	v, err := url.ParseQuery(string(body))
	require.NoError(t, err)
	return v
}

// TestPublicURLPorts: Twilio signs the URL with or without the default port
// inconsistently; both spellings verify, other ports do not.
func TestPublicURLPorts(t *testing.T) {
	voice := fixture(t, "voice_status_inbound_completed.form")
	form := mustQuery(t, voice)
	for _, tc := range []struct {
		publicURL, signedBase string
		want                  int
	}{
		{"https://hooks.example.com", "https://hooks.example.com", http.StatusOK},
		{"https://hooks.example.com", "https://hooks.example.com:443", http.StatusOK},
		{"https://hooks.example.com:443", "https://hooks.example.com", http.StatusOK},
		{"https://hooks.example.com/", "https://hooks.example.com", http.StatusOK},
		{"http://127.0.0.1:7402", "http://127.0.0.1:7402", http.StatusOK},
		{"http://hooks.example.com", "http://hooks.example.com:80", http.StatusOK},
		{"https://hooks.example.com/consentry", "https://hooks.example.com/consentry", http.StatusOK},
		{"https://hooks.example.com", "https://hooks.example.com:8443", http.StatusUnauthorized},
		{"https://hooks.example.com:8443", "https://hooks.example.com", http.StatusUnauthorized},
		{"https://hooks.example.com", "https://hooks.example.com:80", http.StatusUnauthorized},
		{"https://hooks.example.com/consentry", "https://hooks.example.com", http.StatusUnauthorized},
	} {
		t.Run(tc.publicURL+" signed as "+tc.signedBase, func(t *testing.T) {
			cfg := testConfig()
			cfg.PublicURL = tc.publicURL
			h := startReceiver(t, cfg, new(consumertest.LogsSink))
			sig := referenceSignature(testToken, tc.signedBase+PathVoiceStatus+"?src=console", form)
			resp, out := h.post(PathVoiceStatus+"?src=console", formType, voice, map[string]string{HeaderSignature: sig})
			assert.Equal(t, tc.want, resp.StatusCode, out)
		})
	}
}

func TestErrorMapping(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRequestBodySize = 4096
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	for _, tc := range []struct {
		name, path, contentType, body string
		want                          int
	}{
		{"bad escape", PathVoiceStatus, formType, "AccountSid=" + testAccount + "&CallSid=%zz", http.StatusBadRequest},
		{"no CallSid", PathVoiceStatus, formType, "AccountSid=" + testAccount + "&CallStatus=ringing", http.StatusBadRequest},
		{"no RecordingSid", PathVoiceRecording, formType, "AccountSid=" + testAccount + "&RecordingStatus=completed", http.StatusBadRequest},
		{"no EventType", PathTaskRouter, formType, "AccountSid=" + testAccount + "&TaskSid=WT1", http.StatusBadRequest},
		{"no conversations EventType", PathConversations, formType, "AccountSid=" + testAccount, http.StatusBadRequest},
		{"json to a form route", PathVoiceStatus, "application/json", `{"CallSid":"CA1"}`, http.StatusUnsupportedMediaType},
		{"form to event streams", PathEventStreams, formType, "a=b", http.StatusUnsupportedMediaType},
		{"oversize", PathVoiceStatus, formType, "AccountSid=" + testAccount + "&CallSid=CA1&pad=" + strings.Repeat("a", 5000), http.StatusRequestEntityTooLarge},
		{"not json", PathEventStreams, "application/json", `[{"id":`, http.StatusBadRequest},
		{"scalar", PathEventStreams, "application/json", `42`, http.StatusBadRequest},
		{"array of scalars", PathEventStreams, "application/json", `[1]`, http.StatusBadRequest},
		{"empty array", PathEventStreams, "application/json", `[]`, http.StatusBadRequest},
		{"no id", PathEventStreams, "application/json", `[{"type":"com.twilio.x","data":{}}]`, http.StatusBadRequest},
		{"too deep", PathEventStreams, "application/json", strings.Repeat("[", 100) + strings.Repeat("]", 100), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			var headers map[string]string
			pq := tc.path
			if tc.contentType == "application/json" && tc.path == PathEventStreams {
				var s string
				pq, s = signJSON(t, testToken, testPublic, tc.path, body)
				headers = map[string]string{HeaderSignature: s}
			} else {
				headers = map[string]string{HeaderSignature: referenceSignature(testToken, testPublic+tc.path, nil)}
				if q, err := url.ParseQuery(tc.body); err == nil {
					headers[HeaderSignature] = referenceSignature(testToken, testPublic+tc.path, q)
				}
			}
			resp, out := h.post(pq, tc.contentType, body, headers)
			assert.Equal(t, tc.want, resp.StatusCode, out)
		})
	}
	assert.Zero(t, h.sink.LogRecordCount())

	t.Run("method not allowed", func(t *testing.T) {
		resp, err := http.Get(h.url + PathVoiceStatus)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
	t.Run("unknown path", func(t *testing.T) {
		resp, _ := h.post("/twilio/voice/gather", formType, []byte("a=b"), nil)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
}

func TestPipelineErrors(t *testing.T) {
	body := fixture(t, "taskrouter_task_created.form")
	t.Run("retryable", func(t *testing.T) {
		h := startReceiver(t, testConfig(), consumertest.NewErr(errors.New("queue is full")))
		resp, out := h.postForm(PathTaskRouter, body, testToken)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, out)
		assert.Equal(t, "5", resp.Header.Get("Retry-After"))
		assert.NotContains(t, out, "queue is full")
	})
	t.Run("permanent", func(t *testing.T) {
		h := startReceiver(t, testConfig(), consumertest.NewErr(consumererror.NewPermanent(errors.New("bad record"))))
		resp, out := h.postForm(PathTaskRouter, body, testToken)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, out)
	})
	t.Run("retry after a refusal is not a duplicate", func(t *testing.T) {
		failing := &flakyConsumer{failures: 1, sink: new(consumertest.LogsSink)}
		h := startReceiver(t, testConfig(), failing)
		resp, _ := h.postForm(PathTaskRouter, body, testToken)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		resp, out := h.postForm(PathTaskRouter, body, testToken)
		require.Equal(t, http.StatusNoContent, resp.StatusCode, out)
		assert.Equal(t, 1, failing.sink.LogRecordCount())
	})
}

type flakyConsumer struct {
	failures int
	sink     *consumertest.LogsSink
}

func (f *flakyConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (f *flakyConsumer) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if f.failures > 0 {
		f.failures--
		return errors.New("temporarily unavailable")
	}
	return f.sink.ConsumeLogs(ctx, ld)
}

func TestDeduplication(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	events := fixture(t, "eventstreams_batch.json")
	resp, out := h.postEvents(PathEventStreams, events, testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	resp, out = h.postEvents(PathEventStreams, events, testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.JSONEq(t, `{"accepted":0,"duplicates":4}`, out)
	assert.Equal(t, 4, h.sink.LogRecordCount())

	// Classic callbacks carry no event id: the derived key recognises a
	// retry, also when Conversations counts it in RetryCount.
	for _, name := range []string{"voice_status_inbound_completed.form", "voice_recording_paused.form", "taskrouter_task_created.form", "taskrouter_reservation_accepted.form", "conversations_message_added.form"} {
		path := map[string]string{"voice_s": PathVoiceStatus, "voice_r": PathVoiceRecording, "taskrou": PathTaskRouter, "convers": PathConversations}[name[:7]]
		for range 2 {
			resp, out := h.postForm(path, fixture(t, name), testToken)
			require.Less(t, resp.StatusCode, 300, out)
		}
	}
	// task.created carries the same event Sid as the Event Streams copy of
	// the event posted above: the same event through two channels is stored
	// once.
	assert.Equal(t, 8, h.sink.LogRecordCount())
	retried := strings.Replace(string(fixture(t, "conversations_message_added.form")), "RetryCount=0", "RetryCount=1", 1)
	resp, out = h.postForm(PathConversations, []byte(retried), testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.Equal(t, 8, h.sink.LogRecordCount(), "a Conversations retry is a duplicate")
	// A recording that resumes after a pause is a new event, not a retry.
	resumed := strings.Replace(string(fixture(t, "voice_recording_paused.form")), "RecordingStatus=paused", "RecordingStatus=in-progress", 1)
	resp, out = h.postForm(PathVoiceRecording, []byte(resumed), testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	resumedAgain := resumed + "&RecordingDuration=12"
	resp, out = h.postForm(PathVoiceRecording, []byte(resumedAgain), testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.Equal(t, 10, h.sink.LogRecordCount())
}

func TestInsecureMode(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants = nil
	cfg.PublicURL = ""
	cfg.InsecureAllowUnauthenticated = true
	require.NoError(t, cfg.Validate())
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	resp, out := h.post(PathVoiceStatus, formType, fixture(t, "voice_status_inbound_completed.form"), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.Equal(t, testAccount, tenantOf(h.sink.AllLogs()[0], 0), "the account comes from AccountSid")
	resp, out = h.post(PathEventStreams, "application/json", []byte(`[{"id":"x","type":"com.twilio.eventstreams.test-event","data":{}}]`), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.Equal(t, unknownTenant, tenantOf(h.sink.AllLogs()[1], 0))
	resp, out = h.postForm(PathVoiceStatus, fixture(t, "voice_status_outbound_ringing.form"), testToken)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a signature that cannot be verified is still refused: %s", out)
}

func TestShutdownWithoutStart(t *testing.T) {
	rcv, err := NewFactory().CreateLogs(context.Background(), receivertest.NewNopSettings(metadata.Type), testConfig(), consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, rcv.Shutdown(context.Background()))
}

func TestStartFailsOnBusyPort(t *testing.T) {
	h := startReceiver(t, testConfig(), consumertest.NewNop())
	cfg := testConfig()
	cfg.NetAddr.Endpoint = strings.TrimPrefix(h.url, "http://")
	rcv, err := NewFactory().CreateLogs(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	assert.Error(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
}

func TestDecoder(t *testing.T) {
	d, err := NewDecoder(testConfig())
	require.NoError(t, err)
	assert.Equal(t, Routes, d.Routes())
	ld, err := d.Decode("eventstreams", fixture(t, "eventstreams_batch.json"), "")
	require.NoError(t, err)
	assert.Equal(t, 4, ld.LogRecordCount())
	assert.Equal(t, testAccount, tenantOf(ld, 0))
	ld, err = d.Decode("taskrouter", fixture(t, "taskrouter_task_created.form"), testAccount)
	require.NoError(t, err)
	assert.Equal(t, "true", attr(records(ld)[0], ccaas.AttrConsentSignalPrefix+"recording"))
	_, err = d.Decode("nope", nil, "")
	assert.Error(t, err)
	_, err = d.Decode("voice_status", []byte("%zz"), "")
	assert.Error(t, err)
	_, err = d.Decode("eventstreams", []byte("{"), "")
	assert.Error(t, err)
}

// TestDecoderDecodesAsTheReceiver: the decoder built from a receiver's
// configuration makes the records the running receiver makes, subject keys
// under an account's own salt included.
func TestDecoderDecodesAsTheReceiver(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].SubjectSalt = "account-own-subject-salt-0123456789"
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	body := fixture(t, "taskrouter_task_created.form")
	resp, out := h.postForm(PathTaskRouter, body, testToken)
	require.Less(t, resp.StatusCode, 300, out)
	d, err := NewDecoder(cfg)
	require.NoError(t, err)
	decoded, err := d.Decode(routeTaskRouter, body, testAccount)
	require.NoError(t, err)
	goldenlogs.AssertSameRecords(t, h.sink.AllLogs()[0], decoded)
}
