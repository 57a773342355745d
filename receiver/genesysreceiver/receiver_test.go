package genesysreceiver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/goldenlogs"
	"github.com/consentry/consentry/receiver/genesysreceiver/internal/metadata"
)

const (
	testOrg      = "7c5e9a1e-3b2f-4d8a-9f61-2a0c4e6b8d10"
	otherOrg     = "11111111-2222-4333-8444-555555555555"
	testAPIKey   = "test-api-key-current"
	oldAPIKey    = "test-api-key-previous"
	otherAPIKey  = "other-org-api-key"
	testOMSecret = "open-messaging-secret"
	testSalt     = "unit-test-subject-salt-0123456789"
)

// fixtureOrgs are the organizations of the collected deliveries under
// testdata/fixtures (see SOURCES.md there), each a tenant with its own key.
var fixtureOrgs = map[string]string{
	"bb14bed0-f8f9-445d-b9d1-10cecb8569d6": "fixture-key-presence-blueprint",
	"32aa07aa-db1b-4987-abd0-9483601ec29d": "fixture-key-streaming-blueprint",
	"00000000-0000-0000-0000-000000000000": "fixture-key-lambda-tests",
}

// keyFor returns the API key of the organization an EventBridge fixture's
// source names, or testAPIKey.
func keyFor(body []byte) map[string]string {
	for org, key := range fixtureOrgs {
		if bytes.Contains(body, []byte("/cloud/"+org+"/")) {
			return apiKey(key)
		}
	}
	return apiKey(testAPIKey)
}

func testConfig() *Config {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.SubjectSalt = testSalt
	cfg.ConsentAttributes = map[string]string{"RecordingConsent": "recording", "ConsentAnalytics": "analytics"}
	cfg.Tenants = []TenantConfig{
		{
			OrganizationID:       testOrg,
			APIKeys:              []configopaque.String{testAPIKey, oldAPIKey},
			BasicAuth:            []BasicAuthConfig{{Username: "eventbridge", Password: "basic-password"}},
			OpenMessagingSecrets: []configopaque.String{testOMSecret},
		},
		{OrganizationID: otherOrg, APIKeys: []configopaque.String{otherAPIKey}},
	}
	for org, key := range fixtureOrgs {
		cfg.Tenants = append(cfg.Tenants, TenantConfig{OrganizationID: org, APIKeys: []configopaque.String{configopaque.String(key)}})
	}
	acw := DataActionMapping{
		EventName: "ccaas.interaction.wrapup", EventType: "v2.detail.events.conversation.{id}.acw",
		Time: "eventTime", InteractionID: "conversationId", ParticipantID: "participantId", AgentID: "userId",
		QueueID: "queueId", Direction: "direction", Channel: "$.mediaType", Subject: []string{"ani"},
	}
	cfg.DataActions = map[string]DataActionMapping{"acw": acw, "default": acw}
	return cfg
}

type harness struct {
	t    *testing.T
	url  string
	sink *consumertest.LogsSink
}

func startReceiver(t *testing.T, cfg *Config, next consumer.Logs) *harness {
	t.Helper()
	sink, _ := next.(*consumertest.LogsSink)
	rcv, err := NewFactory().CreateLogs(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, next)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	return &harness{t: t, url: "http://" + rcv.(*genesysReceiver).server.Addr().String(), sink: sink}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	require.NoError(t, err)
	return b
}

func (h *harness) post(path string, body []byte, headers map[string]string) (*http.Response, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url+path, bytes.NewReader(body))
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

func apiKey(k string) map[string]string { return map[string]string{"X-API-Key": k} }

func omSign(secret string, body []byte) map[string]string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return map[string]string{HeaderHubSignature: "sha256=" + base64.StdEncoding.EncodeToString(m.Sum(nil))}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		fixture, path string
		headers       func([]byte) map[string]string
	}{
		{"eventbridge_customer_start.json", PathEventBridge, func([]byte) map[string]string { return apiKey(testAPIKey) }},
		{"eventbridge_batch.json", PathEventBridge, func([]byte) map[string]string { return apiKey(oldAPIKey) }},
		{"notification_snapshot.json", PathNotifications, func([]byte) map[string]string { return apiKey(testAPIKey) }},
		{"notification_recording.json", PathNotifications, func([]byte) map[string]string { return apiKey(testAPIKey) }},
		{"openmessaging_inbound_text.json", PathOpenMessaging, func(b []byte) map[string]string { return omSign(testOMSecret, b) }},
		{"openmessaging_outbound_text.json", PathOpenMessaging, func(b []byte) map[string]string { return omSign(testOMSecret, b) }},
		{"openmessaging_receipt.json", PathOpenMessaging, func(b []byte) map[string]string { return omSign(testOMSecret, b) }},
		// Deliveries collected from public sources (testdata/fixtures/SOURCES.md).
		{"eventbridge_transcription_two_channels.json", PathEventBridge, keyFor},
		{"eventbridge_transcription_session_ended.json", PathEventBridge, keyFor},
		{"eventbridge_audit_user_presence.json", PathEventBridge, keyFor},
		{"eventbridge_user_presence.json", PathEventBridge, keyFor},
		{"eventbridge_routing_status.json", PathEventBridge, keyFor},
		{"eventbridge_concrete_detail_type.json", PathEventBridge, keyFor},
		{"notification_user_activity.json", PathNotifications, keyFor},
		{"openmessaging_outbound_conversation.json", PathOpenMessaging, func(b []byte) map[string]string { return omSign(testOMSecret, b) }},
		{"dataaction_acw_toplevel.json", "/genesys/dataactions/acw", keyFor},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
			body := fixture(t, tc.fixture)
			resp, out := h.post(tc.path, body, tc.headers(body))
			require.Equal(t, http.StatusOK, resp.StatusCode, out)
			require.Len(t, h.sink.AllLogs(), 1)
			ld := h.sink.AllLogs()[0]
			goldenlogs.Assert(t, filepath.Join("testdata", "golden", strings.TrimSuffix(tc.fixture, ".json")+".json"), ld)
			assertNoRawIdentifiers(t, ld)
		})
	}
}

// assertNoRawIdentifiers checks that no attribute carries a raw identifier
// of the fixtures: those stay in the body, which the ledger encrypts.
func assertNoRawIdentifiers(t *testing.T, ld plog.Logs) {
	t.Helper()
	goldenlogs.AssertNoRawIdentifiers(t, ld, "5550123", "5550199", "7946", "900123", "example.com")
}

func TestBatchNormalisation(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	resp, out := h.post(PathEventBridge, fixture(t, "eventbridge_batch.json"), apiKey(testAPIKey))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.JSONEq(t, `{"accepted":8,"duplicates":0}`, out)
	recs := h.sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	names := []string{}
	for _, lr := range recs.All() {
		names = append(names, lr.EventName())
	}
	assert.Equal(t, []string{
		ccaas.EventInteractionEnded, ccaas.EventAgentSegmentStarted, ccaas.EventQueueExited, ccaas.EventFlowOutcome,
		ccaas.EventInteractionAttributes, ccaas.EventTranscriptSegment, ccaas.EventAnalyticsSentiment, ccaas.EventVendor,
	}, names)

	// customer.end is outbound: the customer is the called party (+44 ...).
	end := recs.At(0).Attributes()
	country, _ := end.Get(ccaas.AttrJurisdictionCountry)
	assert.Equal(t, "GB", country.Str())
	// user.start is inbound from a California number.
	region, _ := recs.At(1).Attributes().Get(ccaas.AttrJurisdictionRegion)
	assert.Equal(t, "US-CA", region.Str())
	// The same caller has the same subject key in every event of the call.
	k1, _ := recs.At(1).Attributes().Get(ccaas.AttrSubjectKey)
	k2, _ := recs.At(2).Attributes().Get(ccaas.AttrSubjectKey)
	assert.Equal(t, k1.Str(), k2.Str())
	// Participant attribute mapped to a consent signal.
	sig, ok := recs.At(4).Attributes().Get(ccaas.AttrConsentSignalPrefix + "recording")
	require.True(t, ok)
	assert.Equal(t, "true", sig.Str())
	// The unknown topic keeps its raw type.
	typ, _ := recs.At(7).Attributes().Get(ccaas.AttrEventType)
	assert.Equal(t, "v2.analytics.conversation.{id}.metrics", typ.Str())
}

func TestAuthentication(t *testing.T) {
	body := fixture(t, "eventbridge_customer_start.json")
	omBody := fixture(t, "openmessaging_inbound_text.json")
	for _, tc := range []struct {
		name    string
		path    string
		body    []byte
		headers map[string]string
		basic   []string
		want    int
	}{
		{"api key", PathEventBridge, body, apiKey(testAPIKey), nil, http.StatusOK},
		{"rotated api key", PathEventBridge, body, apiKey(oldAPIKey), nil, http.StatusOK},
		{"basic auth", PathEventBridge, body, nil, []string{"eventbridge", "basic-password"}, http.StatusOK},
		{"no credentials", PathEventBridge, body, nil, nil, http.StatusUnauthorized},
		{"wrong api key", PathEventBridge, body, apiKey("test-api-key-curren"), nil, http.StatusUnauthorized},
		{"wrong basic password", PathEventBridge, body, nil, []string{"eventbridge", "nope"}, http.StatusUnauthorized},
		{"unknown basic user", PathEventBridge, body, nil, []string{"someone", "basic-password"}, http.StatusUnauthorized},
		{"another org's key", PathEventBridge, body, apiKey(otherAPIKey), nil, http.StatusForbidden},
		{"notifications without key", PathNotifications, fixture(t, "notification_snapshot.json"), nil, nil, http.StatusUnauthorized},
		{"open messaging signed", PathOpenMessaging, omBody, omSign(testOMSecret, omBody), nil, http.StatusOK},
		{"open messaging forged", PathOpenMessaging, omBody, omSign("guess", omBody), nil, http.StatusUnauthorized},
		{"open messaging unsigned", PathOpenMessaging, omBody, nil, nil, http.StatusUnauthorized},
		{"open messaging hex not base64", PathOpenMessaging, omBody, map[string]string{HeaderHubSignature: "sha256=zz"}, nil, http.StatusUnauthorized},
		{"open messaging no prefix", PathOpenMessaging, omBody, map[string]string{HeaderHubSignature: strings.TrimPrefix(omSign(testOMSecret, omBody)[HeaderHubSignature], "sha256=")}, nil, http.StatusUnauthorized},
		{"open messaging body altered", PathOpenMessaging, append(bytes.Clone(omBody), ' '), omSign(testOMSecret, omBody), nil, http.StatusUnauthorized},
		{"open messaging api key is not a signature", PathOpenMessaging, omBody, apiKey(testAPIKey), nil, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
			req, err := http.NewRequest(http.MethodPost, h.url+tc.path, bytes.NewReader(tc.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			if tc.basic != nil {
				req.SetBasicAuth(tc.basic[0], tc.basic[1])
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, tc.want, resp.StatusCode, string(out))
			if tc.want != http.StatusOK {
				assert.Zero(t, h.sink.LogRecordCount(), "a refused request produces no record")
				var e struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				}
				require.NoError(t, json.Unmarshal(out, &e))
				assert.Equal(t, tc.want, e.Code)
				assert.NotContains(t, string(out), testAPIKey)
			} else {
				assert.Equal(t, 1, h.sink.LogRecordCount())
			}
		})
	}
}

func TestErrorMapping(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRequestBodySize = 4096
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	key := apiKey(testAPIKey)

	for _, tc := range []struct {
		name    string
		body    string
		headers map[string]string
		want    int
	}{
		{"not json", `{"id":`, key, http.StatusBadRequest},
		{"trailing data", `{"id":"x","detail":{"topicName":"v2.x"}} {}`, key, http.StatusBadRequest},
		{"scalar", `42`, key, http.StatusBadRequest},
		{"array of scalars", `[1,2]`, key, http.StatusBadRequest},
		{"empty array", `[]`, key, http.StatusBadRequest},
		{"no detail", `{"id":"x","detail-type":"v2.x"}`, key, http.StatusBadRequest},
		{"foreign source", `{"id":"x","source":"aws.events","detail":{"topicName":"v2.x","eventBody":{}}}`, key, http.StatusBadRequest},
		{"too deep", strings.Repeat("[", 100) + strings.Repeat("]", 100), key, http.StatusBadRequest},
		{"oversize", `{"pad":"` + strings.Repeat("a", 5000) + `"}`, key, http.StatusRequestEntityTooLarge},
		{"wrong content type", `{}`, map[string]string{"X-API-Key": testAPIKey, "Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
		{"form content type", `a=b`, map[string]string{"X-API-Key": testAPIKey, "Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, out := h.post(PathEventBridge, []byte(tc.body), tc.headers)
			assert.Equal(t, tc.want, resp.StatusCode, out)
		})
	}
	assert.Zero(t, h.sink.LogRecordCount())

	t.Run("method not allowed", func(t *testing.T) {
		resp, err := http.Get(h.url + PathEventBridge)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		assert.Contains(t, resp.Header.Get("Allow"), "POST")
	})
	t.Run("unknown path", func(t *testing.T) {
		resp, _ := h.post("/genesys/other", []byte(`{}`), key)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
}

func TestLargestAllowedBody(t *testing.T) {
	cfg := testConfig()
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	// An EventBridge event padded to exactly the body limit is accepted; one
	// byte more is refused.
	var ev map[string]any
	require.NoError(t, json.Unmarshal(fixture(t, "eventbridge_customer_start.json"), &ev))
	ev["detail"].(map[string]any)["eventBody"].(map[string]any)["padding"] = ""
	base, err := json.Marshal(ev)
	require.NoError(t, err)
	pad := int(cfg.MaxRequestBodySize) - len(base)
	ev["detail"].(map[string]any)["eventBody"].(map[string]any)["padding"] = strings.Repeat("é", pad/2)
	body, err := json.Marshal(ev)
	require.NoError(t, err)
	if len(body) < int(cfg.MaxRequestBodySize) {
		body = append(body, bytes.Repeat([]byte{' '}, int(cfg.MaxRequestBodySize)-len(body))...)
	}
	require.Len(t, body, int(cfg.MaxRequestBodySize))
	resp, out := h.post(PathEventBridge, body, apiKey(testAPIKey))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)

	resp, out = h.post(PathEventBridge, append(body, ' '), apiKey(testAPIKey))
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, out)
	assert.Equal(t, 1, h.sink.LogRecordCount())
}

func TestPipelineErrors(t *testing.T) {
	body := fixture(t, "eventbridge_customer_start.json")
	t.Run("retryable", func(t *testing.T) {
		h := startReceiver(t, testConfig(), consumertest.NewErr(errors.New("queue is full")))
		resp, out := h.post(PathEventBridge, body, apiKey(testAPIKey))
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, out)
		assert.Equal(t, "5", resp.Header.Get("Retry-After"))
		assert.NotContains(t, out, "queue is full", "internal errors are not echoed to the vendor")
	})
	t.Run("permanent", func(t *testing.T) {
		h := startReceiver(t, testConfig(), consumertest.NewErr(consumererror.NewPermanent(errors.New("bad record"))))
		resp, out := h.post(PathEventBridge, body, apiKey(testAPIKey))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, out)
		assert.Empty(t, resp.Header.Get("Retry-After"))
	})
	t.Run("retry after a refusal is not a duplicate", func(t *testing.T) {
		failing := &flakyConsumer{failures: 1, sink: new(consumertest.LogsSink)}
		h := startReceiver(t, testConfig(), failing)
		resp, _ := h.post(PathEventBridge, body, apiKey(testAPIKey))
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		resp, out := h.post(PathEventBridge, body, apiKey(testAPIKey))
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
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
	batch := fixture(t, "eventbridge_batch.json")
	resp, out := h.post(PathEventBridge, batch, apiKey(testAPIKey))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	// The vendor retries the whole batch: acknowledged, nothing new produced.
	resp, out = h.post(PathEventBridge, batch, apiKey(testAPIKey))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.JSONEq(t, `{"accepted":0,"duplicates":8}`, out)
	// A batch mixing one new event with old ones yields only the new one.
	single := fixture(t, "eventbridge_customer_start.json")
	var ev any
	require.NoError(t, json.Unmarshal(single, &ev))
	var arr []any
	require.NoError(t, json.Unmarshal(batch, &arr))
	mixed, _ := json.Marshal(append(arr[:2], ev))
	resp, out = h.post(PathEventBridge, mixed, apiKey(testAPIKey))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.JSONEq(t, `{"accepted":1,"duplicates":2}`, out)
	assert.Equal(t, 9, h.sink.LogRecordCount())

	// Notifications carry no id: the derived key still recognises a retry.
	snap := fixture(t, "notification_snapshot.json")
	for range 2 {
		resp, out = h.post(PathNotifications, snap, apiKey(testAPIKey))
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
	}
	assert.Equal(t, 10, h.sink.LogRecordCount())
}

func TestInsecureMode(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants = nil
	cfg.InsecureAllowUnauthenticated = true
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	resp, out := h.post(PathEventBridge, fixture(t, "eventbridge_customer_start.json"), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	tenant, _ := h.sink.AllLogs()[0].ResourceLogs().At(0).Resource().Attributes().Get(ccaas.AttrTenantID)
	assert.Equal(t, testOrg, tenant.Str(), "the organization comes from the EventBridge source")
	resp, out = h.post(PathEventBridge, fixture(t, "eventbridge_customer_start.json"), apiKey("wrong"))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a wrong credential is still refused: %s", out)
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
	ld, err := d.Decode("eventbridge", fixture(t, "eventbridge_batch.json"), "")
	require.NoError(t, err)
	assert.Equal(t, 8, ld.LogRecordCount())
	tenant, _ := ld.ResourceLogs().At(0).Resource().Attributes().Get(ccaas.AttrTenantID)
	assert.Equal(t, testOrg, tenant.Str())
	_, err = d.Decode("nope", nil, "")
	assert.Error(t, err)
	_, err = d.Decode("eventbridge", []byte("{"), "")
	assert.Error(t, err)

	short := testConfig()
	short.SubjectSalt = "short"
	_, err = NewDecoder(short)
	assert.Error(t, err, "a salt the receiver would refuse")
}

// TestDecoderDecodesAsTheReceiver: the decoder built from a receiver's
// configuration makes the records the running receiver makes, subject keys
// under a tenant's own salt included.
func TestDecoderDecodesAsTheReceiver(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].SubjectSalt = "tenant-own-subject-salt-0123456789"
	d, err := NewDecoder(cfg)
	require.NoError(t, err)
	for _, tc := range []struct{ fixture, path, route string }{
		{"eventbridge_batch.json", PathEventBridge, routeEventBridge},
		{"dataaction_acw_toplevel.json", "/genesys/dataactions/acw", routeDataActions + "/acw"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			h := startReceiver(t, cfg, new(consumertest.LogsSink))
			body := fixture(t, tc.fixture)
			resp, out := h.post(tc.path, body, apiKey(testAPIKey))
			require.Equal(t, http.StatusOK, resp.StatusCode, out)
			decoded, err := d.Decode(tc.route, body, testOrg)
			require.NoError(t, err)
			goldenlogs.AssertSameRecords(t, h.sink.AllLogs()[0], decoded)
		})
	}
}
