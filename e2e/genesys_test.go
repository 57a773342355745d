package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/ccaas"
)

const (
	genesysOrg    = "7c5e9a1e-3b2f-4d8a-9f61-2a0c4e6b8d10"
	genesysKey    = "e2e-genesys-api-key"
	genesysSecret = "e2e-genesys-open-messaging-secret"
)

// Until the consent pieces exist, every event goes straight to the sink.
// The exporter has no queue and no retries, so a refusal by the sink reaches
// the receiver, and a 2xx means the sink has the event.
const genesysConfig = `
extensions:
` + healthExtension + `receivers:
  genesys:
    endpoint: 127.0.0.1:{{.Ports.genesys}}
    max_request_body_size: 65536
    retry_after: 7s
    subject_salt: ${env:E2E_SUBJECT_SALT}
    consent_attributes:
      RecordingConsent: recording
    tenants:
      - organization_id: ` + genesysOrg + `
        api_keys: ["${env:E2E_GENESYS_KEY}"]
        open_messaging_secrets: ["${env:E2E_GENESYS_SECRET}"]
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
      receivers: [genesys]
      exporters: [otlp_http]
`

var genesysEnv = []string{
	"E2E_SUBJECT_SALT=e2e-subject-salt-0123456789abcdef",
	"E2E_GENESYS_KEY=" + genesysKey,
	"E2E_GENESYS_SECRET=" + genesysSecret,
}

func hubSignature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestGenesysEndToEnd(t *testing.T) {
	s := newSink(t)
	c := startCollector(t, genesysConfig, map[string]any{"Sink": s.url}, genesysEnv...)
	eventbridge := c.url("genesys", "/genesys/eventbridge")
	notifications := c.url("genesys", "/genesys/notifications")
	openmessaging := c.url("genesys", "/genesys/openmessaging")
	key := map[string]string{"X-API-Key": genesysKey}

	t.Run("signed events reach the sink with their attributes", func(t *testing.T) {
		code, _, out := post(t, eventbridge, fixture(t, "genesys", "eventbridge_batch.json"), key)
		require.Equal(t, http.StatusOK, code, out)
		// The exporter is synchronous: the 2xx means the sink has them.
		require.Equal(t, 8, s.count())
		recs := s.records()
		first := recs[0]
		assert.Equal(t, "genesys", first.Resource[ccaas.AttrVendor])
		assert.Equal(t, genesysOrg, first.Resource[ccaas.AttrTenantID])
		assert.Equal(t, ccaas.EventInteractionEnded, first.Record.EventName())
		assert.Equal(t, "4f1d7c3e-2222-4c2b-9a8e-6d5c4b3a2f10", attrStr(first.Record, ccaas.AttrEventID))
		assert.Equal(t, "voice", attrStr(first.Record, ccaas.AttrChannel))
		assert.Equal(t, "GB", attrStr(first.Record, ccaas.AttrJurisdictionCountry))
		assert.True(t, strings.HasPrefix(attrStr(first.Record, ccaas.AttrSubjectKey), "sk1_"))
		assert.Equal(t, "US-CA", attrStr(recs[1].Record, ccaas.AttrJurisdictionRegion))
		assert.Equal(t, "true", attrStr(recs[4].Record, ccaas.AttrConsentSignalPrefix+"recording"))
		assert.NotZero(t, first.Record.Timestamp())
		assert.NotZero(t, first.Record.ObservedTimestamp())
		// The body arrives as the structured vendor event.
		detail, ok := first.Record.Body().Map().Get("detail")
		require.True(t, ok)
		topic, _ := detail.Map().Get("topicName")
		assert.Contains(t, topic.Str(), ".customer.end")
		// No attribute carries the raw phone number.
		for _, r := range recs {
			for k, v := range r.Record.Attributes().All() {
				assert.NotContains(t, v.AsString(), "2079460958", k)
				assert.NotContains(t, v.AsString(), "4155550123", k)
			}
		}
	})

	t.Run("a retried event is acknowledged once and stored once", func(t *testing.T) {
		before := s.count()
		code, _, out := post(t, eventbridge, fixture(t, "genesys", "eventbridge_batch.json"), key)
		require.Equal(t, http.StatusOK, code, out)
		assert.JSONEq(t, `{"accepted":0,"duplicates":8}`, out)
		assert.Equal(t, before, s.count())
	})

	t.Run("notifications and open messaging", func(t *testing.T) {
		before := s.count()
		code, _, out := post(t, notifications, fixture(t, "genesys", "notification_snapshot.json"), key)
		require.Equal(t, http.StatusOK, code, out)
		om := fixture(t, "genesys", "openmessaging_inbound_text.json")
		code, _, out = post(t, openmessaging, om, map[string]string{"X-Hub-Signature-256": hubSignature(genesysSecret, om)})
		require.Equal(t, http.StatusOK, code, out)
		require.Equal(t, before+2, s.count())
		recs := s.records()
		assert.Equal(t, ccaas.EventInteractionSnapshot, recs[before].Record.EventName())
		assert.Equal(t, "paused", attrStr(recs[before].Record, ccaas.AttrRecordingState))
		assert.Equal(t, ccaas.EventMessageReceived, recs[before+1].Record.EventName())
	})

	t.Run("forged and unsigned requests get 401 and produce no record", func(t *testing.T) {
		before, reqs := s.count(), s.reqs.Load()
		body := fixture(t, "genesys", "eventbridge_customer_start.json")
		om := fixture(t, "genesys", "openmessaging_outbound_text.json")
		for name, tc := range map[string]struct {
			url     string
			body    []byte
			headers map[string]string
		}{
			"no key":             {eventbridge, body, nil},
			"wrong key":          {eventbridge, body, map[string]string{"X-API-Key": genesysKey + "x"}},
			"wrong basic":        {notifications, fixture(t, "genesys", "notification_recording.json"), map[string]string{"Authorization": "Basic ZXZlbnRicmlkZ2U6bm9wZQ=="}},
			"unsigned message":   {openmessaging, om, nil},
			"forged signature":   {openmessaging, om, map[string]string{"X-Hub-Signature-256": hubSignature("not-the-secret", om)}},
			"signature of other": {openmessaging, om, map[string]string{"X-Hub-Signature-256": hubSignature(genesysSecret, []byte("{}"))}},
		} {
			code, _, out := post(t, tc.url, tc.body, tc.headers)
			assert.Equal(t, http.StatusUnauthorized, code, "%s: %s", name, out)
			assert.NotContains(t, out, genesysKey)
		}
		assert.Equal(t, before, s.count())
		assert.Equal(t, reqs, s.reqs.Load(), "nothing was exported")
	})

	t.Run("malformed 400, oversize 413, wrong type 415, wrong method 405", func(t *testing.T) {
		before := s.count()
		code, _, out := post(t, eventbridge, []byte(`{"detail":`), key)
		assert.Equal(t, http.StatusBadRequest, code, out)
		code, _, out = post(t, eventbridge, []byte(`{"id":"1","detail-type":"v2.x"}`), key)
		assert.Equal(t, http.StatusBadRequest, code, out)
		code, _, out = post(t, eventbridge, []byte(`{"pad":"`+strings.Repeat("x", 70000)+`"}`), key)
		assert.Equal(t, http.StatusRequestEntityTooLarge, code, out)
		code, _, out = post(t, eventbridge, fixture(t, "genesys", "eventbridge_customer_start.json"), map[string]string{"X-API-Key": genesysKey, "Content-Type": "text/plain"})
		assert.Equal(t, http.StatusUnsupportedMediaType, code, out)
		resp, err := http.Get(eventbridge)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		assert.Equal(t, before, s.count())
	})

	t.Run("a retryable refusal downstream is a 503 with Retry-After, and the retry succeeds", func(t *testing.T) {
		s.refuse.Store(http.StatusServiceUnavailable)
		body := fixture(t, "genesys", "eventbridge_customer_start.json")
		before := s.count()
		code, hdr, out := post(t, eventbridge, body, key)
		assert.Equal(t, http.StatusServiceUnavailable, code, out)
		assert.Equal(t, "7", hdr.Get("Retry-After"))
		s.refuse.Store(0)
		code, _, out = post(t, eventbridge, body, key)
		require.Equal(t, http.StatusOK, code, out)
		assert.JSONEq(t, `{"accepted":1,"duplicates":0}`, out, "a refused event is not remembered as a duplicate")
		assert.Equal(t, before+1, s.count())
	})

	t.Run("the receiver's metrics are exported", func(t *testing.T) {
		text := c.metrics(t)
		assert.Contains(t, text, "consentry_webhook_requests")
		assert.Contains(t, text, `otelcol_receiver_accepted_log_records`)
		assert.Contains(t, text, `http_response_status_code="401"`)
	})

	// Secrets never reach the collector's own log output.
	c.stop(t)
	assert.NotContains(t, c.logs.String(), genesysKey)
	assert.NotContains(t, c.logs.String(), genesysSecret)
}
