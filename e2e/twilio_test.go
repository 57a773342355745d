package e2e

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio's signature is HMAC-SHA1.
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go/client"

	"github.com/consentry/consentry/internal/ccaas"
)

const (
	twilioAccount = "AC0123456789abcdef0123456789abcdef"
	twilioToken   = "e2e0123456789abcdef0123456789abc"
	twilioOld     = "e2efedcba9876543210fedcba9876543"
)

// The collector sees Twilio's requests at public_url: here its own loopback
// address, as in config/local.yaml.
const twilioConfig = `
extensions:
` + healthExtension + `receivers:
  twilio:
    endpoint: 127.0.0.1:{{.Ports.twilio}}
    public_url: http://127.0.0.1:{{.Ports.twilio}}
    max_request_body_size: 65536
    retry_after: 7s
    subject_salt: ${env:E2E_SUBJECT_SALT}
    consent_attributes:
      recording_consent: recording
    tenants:
      - account_sid: ` + twilioAccount + `
        auth_tokens: ["${env:E2E_TWILIO_TOKEN}", "${env:E2E_TWILIO_TOKEN_OLD}"]
exporters:
  otlp_http:
    endpoint: {{.Sink}}
    compression: none
    sending_queue:
      enabled: false
    retry_on_failure:
      enabled: false
service:
  extensions: [healthcheckv2]
  telemetry:
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {{.Ports.metrics}}
  pipelines:
    logs:
      receivers: [twilio]
      exporters: [otlp_http]
`

// twilioSignature computes X-Twilio-Signature as Twilio documents it, and
// checks that twilio-go's RequestValidator accepts it.
func twilioSignature(t *testing.T, token, fullURL string, form url.Values) string {
	t.Helper()
	s := fullURL
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range form {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		s += k + form[k][0]
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(s))
	sig := base64.StdEncoding.EncodeToString(m.Sum(nil))
	v := client.NewRequestValidator(token)
	body := []byte(form.Encode())
	if strings.Contains(fullURL, "bodySHA256=") {
		body = nil // checked by the caller
	} else {
		require.True(t, v.ValidateBody(fullURL, body, sig), "twilio-go accepts the signature")
	}
	return sig
}

// postTwilioForm posts a form callback signed for the collector's public URL.
func postTwilioForm(t *testing.T, c *collector, path string, body []byte, token string) (int, http.Header, string) {
	t.Helper()
	form, err := url.ParseQuery(string(body))
	require.NoError(t, err)
	sig := twilioSignature(t, token, c.url("twilio", path), form)
	return post(t, c.url("twilio", path), body, map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig,
	})
}

// postTwilioEvents posts an Event Streams delivery with the bodySHA256
// scheme.
func postTwilioEvents(t *testing.T, c *collector, body []byte, token string) (int, http.Header, string) {
	t.Helper()
	return postTwilioJSON(t, c, "/twilio/eventstreams", body, token)
}

// formValue returns one parameter of a form body.
func formValue(t *testing.T, body []byte, key string) string {
	t.Helper()
	form, err := url.ParseQuery(string(body))
	require.NoError(t, err)
	return form.Get(key)
}

// postTwilioJSON posts a JSON delivery (Event Streams, Conversation
// Intelligence) with the bodySHA256 scheme.
func postTwilioJSON(t *testing.T, c *collector, path string, body []byte, token string) (int, http.Header, string) {
	t.Helper()
	sum := sha256.Sum256(body)
	full := c.url("twilio", path+"?bodySHA256="+hex.EncodeToString(sum[:]))
	sig := twilioSignature(t, token, full, nil)
	v := client.NewRequestValidator(token)
	require.True(t, v.ValidateBody(full, body, sig), "twilio-go accepts the signature")
	return post(t, full, body, map[string]string{"X-Twilio-Signature": sig})
}

func TestTwilioEndToEnd(t *testing.T) {
	s := newSink(t)
	c := startCollector(t, twilioConfig, map[string]any{"Sink": s.url},
		"E2E_SUBJECT_SALT=e2e-subject-salt-0123456789abcdef",
		"E2E_TWILIO_TOKEN="+twilioToken,
		"E2E_TWILIO_TOKEN_OLD="+twilioOld,
	)

	t.Run("signed form callbacks reach the sink", func(t *testing.T) {
		code, hdr, out := postTwilioForm(t, c, "/twilio/voice/status", fixture(t, "twilio", "voice_status_inbound_completed.form"), twilioToken)
		require.Equal(t, http.StatusOK, code, out)
		assert.Empty(t, out, "a status callback gets an empty answer, never TwiML")
		assert.Empty(t, hdr.Get("Content-Type"))
		code, hdr, out = postTwilioForm(t, c, "/twilio/taskrouter", fixture(t, "twilio", "taskrouter_task_created.form"), twilioOld)
		require.Equal(t, http.StatusNoContent, code, out)
		assert.Equal(t, "application/json", hdr.Get("Content-Type"))
		code, _, out = postTwilioForm(t, c, "/twilio/voice/recording", fixture(t, "twilio", "voice_recording_paused.form"), twilioToken)
		require.Equal(t, http.StatusOK, code, out)
		code, _, out = postTwilioForm(t, c, "/twilio/conversations", fixture(t, "twilio", "conversations_message_added.form"), twilioToken)
		require.Equal(t, http.StatusOK, code, out)

		require.Equal(t, 4, s.count())
		recs := s.records()
		call, task, rec, msg := recs[0], recs[1], recs[2], recs[3]
		assert.Equal(t, "twilio", call.Resource[ccaas.AttrVendor])
		assert.Equal(t, twilioAccount, call.Resource[ccaas.AttrTenantID])
		assert.Equal(t, ccaas.EventInteractionEnded, call.Record.EventName())
		assert.Equal(t, "US-CA", attrStr(call.Record, ccaas.AttrJurisdictionRegion))
		assert.Equal(t, "vendor_field", attrStr(call.Record, ccaas.AttrJurisdictionSource))
		assert.True(t, strings.HasPrefix(attrStr(call.Record, ccaas.AttrSubjectKey), "sk1_"))
		assert.Equal(t, ccaas.EventTaskCreated, task.Record.EventName())
		assert.Equal(t, "true", attrStr(task.Record, ccaas.AttrConsentSignalPrefix+"recording"))
		assert.Equal(t, attrStr(call.Record, ccaas.AttrSubjectKey), attrStr(task.Record, ccaas.AttrSubjectKey))
		assert.Equal(t, attrStr(call.Record, ccaas.AttrInteractionID), attrStr(task.Record, ccaas.AttrInteractionID))
		assert.Equal(t, "paused", attrStr(rec.Record, ccaas.AttrRecordingState))
		assert.Equal(t, ccaas.EventMessageReceived, msg.Record.EventName())
		from, ok := call.Record.Body().Map().Get("From")
		require.True(t, ok, "the body is the callback's parameters")
		assert.Equal(t, "+14155550123", from.Str())
		for _, r := range recs {
			for k, v := range r.Record.Attributes().All() {
				assert.NotContains(t, v.AsString(), "4155550123", k)
				assert.NotContains(t, v.AsString(), "7700900123", k)
			}
		}
	})

	t.Run("signed Event Streams deliveries reach the sink, once", func(t *testing.T) {
		before := s.count()
		body := fixture(t, "twilio", "eventstreams_batch.json")
		code, _, out := postTwilioEvents(t, c, body, twilioToken)
		require.Equal(t, http.StatusOK, code, out)
		// task.created was already delivered as a TaskRouter callback with
		// the same event Sid: stored once.
		assert.JSONEq(t, `{"accepted":3,"duplicates":1}`, out)
		require.Equal(t, before+3, s.count())
		recs := s.records()[before:]
		assert.Equal(t, ccaas.EventInteractionEnded, recs[0].Record.EventName())
		assert.Equal(t, "EC1b2c3d4e5f60718293a4b5c6d7e8f90a", attrStr(recs[0].Record, ccaas.AttrEventID))
		assert.Equal(t, "com.twilio.error-logs.error.logged", attrStr(recs[2].Record, ccaas.AttrEventType))

		code, _, out = postTwilioEvents(t, c, body, twilioToken)
		require.Equal(t, http.StatusOK, code, out)
		assert.JSONEq(t, `{"accepted":0,"duplicates":4}`, out)
		assert.Equal(t, before+3, s.count())
	})

	t.Run("forged requests get 401 and produce no record", func(t *testing.T) {
		before, reqs := s.count(), s.reqs.Load()
		voice := fixture(t, "twilio", "voice_status_outbound_ringing.form")
		form, _ := url.ParseQuery(string(voice))
		formURL := c.url("twilio", "/twilio/voice/status")
		events := fixture(t, "twilio", "eventstreams_batch.json")
		sum := sha256.Sum256(events)
		esURL := c.url("twilio", "/twilio/eventstreams?bodySHA256="+hex.EncodeToString(sum[:]))
		esSig := twilioSignature(t, twilioToken, esURL, nil)
		formHeaders := func(sig string) map[string]string {
			return map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig}
		}
		for name, tc := range map[string]struct {
			url     string
			body    []byte
			headers map[string]string
		}{
			"unsigned form":          {formURL, voice, formHeaders("")},
			"wrong token":            {formURL, voice, formHeaders(twilioSignature(t, "not-the-token", formURL, form))},
			"altered parameter":      {formURL, []byte(strings.Replace(string(voice), "CallStatus=ringing", "CallStatus=completed", 1)), formHeaders(twilioSignature(t, twilioToken, formURL, form))},
			"signed for another URL": {formURL, voice, formHeaders(twilioSignature(t, twilioToken, strings.Replace(formURL, "127.0.0.1", "localhost", 1), form))},
			"unsigned events":        {esURL, events, nil},
			"events, altered body":   {esURL, []byte(strings.Replace(string(events), "completed", "canceled", 1)), map[string]string{"X-Twilio-Signature": esSig}},
			"events without bodySHA256": {c.url("twilio", "/twilio/eventstreams"), events,
				map[string]string{"X-Twilio-Signature": twilioSignature(t, twilioToken, c.url("twilio", "/twilio/eventstreams"), nil)}},
		} {
			if tc.headers == nil {
				tc.headers = map[string]string{}
			}
			if tc.headers["X-Twilio-Signature"] == "" {
				delete(tc.headers, "X-Twilio-Signature")
			}
			code, _, out := post(t, tc.url, tc.body, tc.headers)
			assert.Equal(t, http.StatusUnauthorized, code, "%s: %s", name, out)
			assert.NotContains(t, out, twilioToken)
		}
		assert.Equal(t, before, s.count())
		assert.Equal(t, reqs, s.reqs.Load(), "nothing was exported")
	})

	t.Run("a retryable refusal downstream is a 503 with Retry-After, and the retry succeeds", func(t *testing.T) {
		s.refuse.Store(http.StatusServiceUnavailable)
		body := fixture(t, "twilio", "voice_status_outbound_ringing.form")
		before := s.count()
		code, hdr, out := postTwilioForm(t, c, "/twilio/voice/status", body, twilioToken)
		assert.Equal(t, http.StatusServiceUnavailable, code, out)
		assert.Equal(t, "7", hdr.Get("Retry-After"))
		s.refuse.Store(0)
		code, _, out = postTwilioForm(t, c, "/twilio/voice/status", body, twilioToken)
		require.Equal(t, http.StatusOK, code, out)
		assert.Equal(t, before+1, s.count())
	})

	t.Run("the receiver's metrics are exported", func(t *testing.T) {
		text := c.metrics(t)
		assert.Contains(t, text, `route="taskrouter"`)
		assert.Contains(t, text, `http_response_status_code="401"`)
	})

	c.stop(t)
	assert.NotContains(t, c.logs.String(), twilioToken)
	assert.NotContains(t, c.logs.String(), twilioOld)
}
