package talkdeskreceiver

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/consentry/consentry/internal/ccaas"
)

// TestConfiguredFieldNames: an account whose templates use names of their
// own gets its subject, direction and recording link read from them, and a
// recording link on any event (not only a call end) becomes its own
// ccaas.recording.available record.
func TestConfiguredFieldNames(t *testing.T) {
	cfg := testConfig(t)
	cfg.Fields.CustomerPhone = []string{"caller.number"}
	cfg.Fields.Direction = []string{"leg"}
	cfg.Fields.RecordingURL = []string{"links.audio"}
	require.NoError(t, cfg.Validate())
	h := startReceiver(t, cfg, new(consumertest.LogsSink))

	body := []byte(`{"call_id":"c-77","caller":{"number":"+44 7700 900123"},"leg":"out","disposition":"Sale",
		"links":{"audio":"https://recordings.example.com/c-77.mp3"},"timestamp":"2025-11-03T15:00:00Z"}`)
	resp, out := h.post(webhookPath("outboundDispositionCodeSet"), body, token(testToken))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	recs := records(h.sink.AllLogs()[0])
	require.Len(t, recs, 2)
	wrap, rec := recs[0], recs[1]
	assert.Equal(t, ccaas.EventInteractionWrapup, wrap.EventName())
	assert.Equal(t, ccaas.EventRecordingAvailable, rec.EventName())
	for _, lr := range recs {
		assert.Equal(t, "phone", attr(lr, ccaas.AttrSubjectIDType))
		assert.Equal(t, "GB", attr(lr, ccaas.AttrJurisdictionCountry))
		assert.Equal(t, "outbound", attr(lr, ccaas.AttrDirection))
		assert.Equal(t, "c-77", attr(lr, ccaas.AttrInteractionID))
	}
	links, _ := wrap.Body().Map().Get("links")
	_, has := links.Map().Get("audio")
	assert.False(t, has, "the wrap-up's body loses the link")
	assert.Contains(t, rec.Body().AsString(), "c-77.mp3", "the recording record keeps it")
	assert.Equal(t, attr(wrap, ccaas.AttrEventID)+recordingSuffix, attr(rec, ccaas.AttrEventID))

	// The default names no longer apply once replaced.
	body = []byte(`{"call_id":"c-78","contact_phone_number":"+14155550123","recording_url":"https://recordings.example.com/c-78.mp3"}`)
	resp, out = h.post(webhookPath("inboundCallEnds"), body, token(testToken))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	recs = records(h.sink.AllLogs()[1])
	require.Len(t, recs, 1)
	assert.Empty(t, attr(recs[0], ccaas.AttrSubjectKey))
}

func TestRecordingLinkNotALink(t *testing.T) {
	h := startReceiver(t, testConfig(t), new(consumertest.LogsSink))
	for _, v := range []string{`"true"`, `""`, `"{{recording_url}}"`, `null`, `"recording pending"`} {
		body := []byte(`{"call_id":"c-9","record":` + v + `,"timestamp":"2025-11-03T15:00:00Z"}`)
		resp, out := h.post(webhookPath("callFinished"), body, token(testToken))
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
	}
	assert.Equal(t, 5, h.sink.LogRecordCount(), "a flag or placeholder in a recording field makes no recording record")
	for _, lr := range records(h.sink.AllLogs()[0]) {
		assert.Equal(t, ccaas.EventInteractionEnded, lr.EventName())
	}
}

// TestEventFieldOnlyWhenURLSaysNothing: the URL's trigger wins; the payload's
// event names the trigger only when the URL's is unknown.
func TestEventFieldOnlyWhenURLSaysNothing(t *testing.T) {
	h := startReceiver(t, testConfig(t), new(consumertest.LogsSink))
	body := []byte(`{"event":"call_finished","call_id":"c-1","timestamp":"2025-11-03T15:00:00Z"}`)
	for _, p := range []struct{ trigger, want string }{
		{"inboundCallStarts", ccaas.EventAgentSegmentStarted},
		{"anything", ccaas.EventInteractionEnded},
	} {
		resp, out := h.post(webhookPath(p.trigger), body, token(testToken))
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		recs := records(h.sink.AllLogs()[len(h.sink.AllLogs())-1])
		assert.Equal(t, p.want, recs[0].EventName(), p.trigger)
	}
	for name, want := range map[string]string{
		"call_initiated": ccaas.EventInteractionStarted,
		"call_answered":  ccaas.EventAgentSegmentStarted,
		"call_missed":    ccaas.EventInteractionEnded,
		"call_voicemail": ccaas.EventVoicemailEnded,
	} {
		tr, ok := lookupTrigger(name)
		require.True(t, ok, name)
		assert.Equal(t, want, tr.event, name)
	}
}

func TestDigitalConnect(t *testing.T) {
	h := startReceiver(t, testConfig(t), new(consumertest.LogsSink))
	send := func(body string, headers map[string]string) (int, string) {
		resp, out := h.post(PathDigitalConnect, []byte(body), headers)
		return resp.StatusCode, out
	}
	for author, want := range map[string]string{
		"agent":   ccaas.EventMessageSent,
		"bot":     ccaas.EventMessageSent,
		"contact": ccaas.EventMessageReceived,
		"mystery": ccaas.EventVendor,
	} {
		code, out := send(`{"event_type":"MESSAGE_CREATED","conversation_id":"conv-1","timestamp":"2025-11-03T14:40:12Z","payload":{"author_type":"`+author+`","content":"hello"}}`, token(testToken))
		require.Equal(t, http.StatusOK, code, out)
		recs := records(h.sink.AllLogs()[len(h.sink.AllLogs())-1])
		assert.Equal(t, want, recs[0].EventName(), author)
		assert.Equal(t, "chat", attr(recs[0], ccaas.AttrChannel))
		assert.Equal(t, "conv-1", attr(recs[0], ccaas.AttrInteractionID))
	}
	code, _ := send(`{"conversation_id":"conv-1"}`, token(testToken))
	assert.Equal(t, http.StatusBadRequest, code, "no event_type")
	code, _ = send(`{"event_type":"CONVERSATION_ENDED","conversation_id":"conv-1"}`, nil)
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = send(`{"event_type":"CONVERSATION_ENDED","conversation_id":"conv-1","payload":{"account_id":"`+otherAccount+`"}}`, token(testToken))
	assert.Equal(t, http.StatusForbidden, code, "the token's account, not another")
}

func TestFieldsValidation(t *testing.T) {
	cfg := testConfig(t)
	cfg.Fields.RecordingURL = []string{"links..audio"}
	cfg.Fields.AgentStatus = []string{" "}
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fields.recording_url[0]")
	assert.Contains(t, err.Error(), "fields.agent_status[0]")
}
