package talkdeskreceiver

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/goldenlogs"
	"github.com/consentry/consentry/receiver/talkdeskreceiver/internal/metadata"
)

const (
	testAccount    = "052c3763ee0745c68a1f65f25b0bf273"
	otherAccount   = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
	testToken      = "td-header-token-current-0123456789"
	oldToken       = "td-header-token-previous-012345678"
	testURLToken   = "td-url-token-0123456789abcdef"
	otherToken     = "td-other-account-token-0123456789"
	testSalt       = "unit-test-subject-salt-0123456789"
	testKeyID      = "2b4f6e8a0c1d3e5f"
	testHeaderName = "X-Consentry-Token"
	// legacyAccount is the account of Talkdesk's own call_finished example
	// (testdata/fixtures/SOURCES.md).
	legacyAccount = "4f4a37a201c642014200000c"
	legacyToken   = "td-legacy-account-token-0123456789"
)

var (
	keyOnce  sync.Once
	testKey  *ecdsa.PrivateKey
	otherKey *ecdsa.PrivateKey
)

// signingKeys returns the Events API test key pair (and a second key that
// is not configured), generated once per test binary.
func signingKeys(t testing.TB) (*ecdsa.PrivateKey, *ecdsa.PrivateKey) {
	keyOnce.Do(func() {
		var err error
		if testKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if otherKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
	return testKey, otherKey
}

func publicPEM(t testing.TB, k *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// sign makes the Events API headers for body: hex ASN.1 DER ECDSA over the
// SHA-512 of the raw body.
func sign(t testing.TB, k *ecdsa.PrivateKey, keyID string, body []byte) map[string]string {
	t.Helper()
	d := sha512.Sum512(body)
	sig, err := ecdsa.SignASN1(rand.Reader, k, d[:])
	require.NoError(t, err)
	return map[string]string{HeaderSignature: hex.EncodeToString(sig), HeaderSignatureID: keyID}
}

func testConfig(t testing.TB) *Config {
	k, _ := signingKeys(t)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.SubjectSalt = testSalt
	cfg.ConsentFields = map[string]string{"RecordingConsent": "recording", "consent_analytics": "analytics"}
	cfg.TriggerAliases = map[string]string{"call-done": "inboundCallEnds"}
	cfg.Tenants = []TenantConfig{
		{
			AccountID:    testAccount,
			AccountName:  "starship",
			HeaderTokens: []configopaque.String{testToken, oldToken},
			URLTokens:    []configopaque.String{testURLToken},
		},
		{AccountID: otherAccount, HeaderTokens: []configopaque.String{otherToken}},
		{AccountID: legacyAccount, HeaderTokens: []configopaque.String{legacyToken}},
	}
	cfg.EventsAPI.SignatureKeys = []SignatureKeyConfig{{ID: testKeyID, PublicKey: publicPEM(t, k)}}
	return cfg
}

type harness struct {
	t    *testing.T
	url  string
	sink *consumertest.LogsSink
	logs *observer.ObservedLogs
}

func startReceiver(t *testing.T, cfg *Config, next consumer.Logs) *harness {
	t.Helper()
	sink, _ := next.(*consumertest.LogsSink)
	core, observed := observer.New(zap.DebugLevel)
	set := receivertest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	rcv, err := NewFactory().CreateLogs(context.Background(), set, cfg, next)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	return &harness{t: t, url: "http://" + rcv.(*talkdeskReceiver).server.Addr().String(), sink: sink, logs: observed}
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

func token(tok string) map[string]string { return map[string]string{testHeaderName: tok} }

func webhookPath(trigger string) string { return "/talkdesk/webhook/" + trigger }

func TestGolden(t *testing.T) {
	k, _ := signingKeys(t)
	for _, tc := range []struct {
		fixture, path string
		headers       func([]byte) map[string]string
	}{
		{"webhook_inbound_call_reaches.json", webhookPath("inboundCallReachesContactCenter"), func([]byte) map[string]string { return token(testToken) }},
		{"webhook_inbound_call_starts.json", webhookPath("inbound_call_starts") + "?token=" + testURLToken, func([]byte) map[string]string { return nil }},
		{"webhook_inbound_call_ends.json", webhookPath("inboundCallEnds"), func([]byte) map[string]string { return token(oldToken) }},
		{"webhook_outbound_call_ends.json", webhookPath("outbound-call-ends"), func([]byte) map[string]string { return token(testToken) }},
		{"webhook_contact_updated.json", webhookPath("contactUpdated"), func([]byte) map[string]string { return token(testToken) }},
		{"webhook_agent_log_in.json", webhookPath("agentLogIn"), func([]byte) map[string]string { return token(testToken) }},
		{"webhook_custom_trigger.json", webhookPath("surveyCompleted"), func([]byte) map[string]string { return token(testToken) }},
		{"events_app_installed.json", PathEvents, func(b []byte) map[string]string { return sign(t, k, testKeyID, b) }},
		{"events_user_logout.json", PathEvents, func(b []byte) map[string]string { return sign(t, k, testKeyID, b) }},
		// The URL does not name a trigger: the payload's event does.
		{"webhook_legacy_call_finished.json", webhookPath("talkdesk-events"), func([]byte) map[string]string { return token(legacyToken) }},
		{"webhook_agent_status_changes.json", webhookPath("agentStatusChanges"), func([]byte) map[string]string { return token(testToken) }},
		{"digital_connect_message_created.json", PathDigitalConnect, func([]byte) map[string]string { return token(testToken) }},
		{"digital_connect_conversation_ended.json", PathDigitalConnect + "?token=" + testURLToken, func([]byte) map[string]string { return nil }},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			h := startReceiver(t, testConfig(t), new(consumertest.LogsSink))
			body := fixture(t, tc.fixture)
			resp, out := h.post(tc.path, body, tc.headers(body))
			require.Equal(t, http.StatusOK, resp.StatusCode, out)
			require.Len(t, h.sink.AllLogs(), 1)
			ld := h.sink.AllLogs()[0]
			goldenlogs.Assert(t, filepath.Join("testdata", "golden", tc.fixture), ld)
			assertNoRawIdentifiers(t, ld)
			assertNoSecrets(t, ld, h)
		})
	}
}

// assertNoRawIdentifiers checks that no attribute carries a raw identifier
// of the fixtures: those stay in the body, which the ledger encrypts.
func assertNoRawIdentifiers(t *testing.T, ld plog.Logs) {
	t.Helper()
	goldenlogs.AssertNoRawIdentifiers(t, ld, "5550123", "5550199", "7946", "example.com", "example.org", "jane", "recordings/")
}

// assertNoSecrets checks that no token or credential appears in records or
// in the receiver's own logs.
func assertNoSecrets(t *testing.T, ld plog.Logs, h *harness) {
	t.Helper()
	var all strings.Builder
	forEachRecord(ld, func(_ string, lr plog.LogRecord) {
		all.WriteString(lr.Body().AsString())
		for _, v := range lr.Attributes().All() {
			all.WriteString(v.AsString())
		}
	})
	for _, e := range h.logs.All() {
		all.WriteString(e.Message)
		for _, f := range e.Context {
			all.WriteString(f.String)
			all.WriteString(f.Key)
		}
	}
	for _, secret := range []string{testToken, oldToken, testURLToken, otherToken, "s3cr3t-client-secret-value", "MHcCAQEEIFakeFakeFake"} {
		assert.NotContains(t, all.String(), secret)
	}
}

func forEachRecord(ld plog.Logs, fn func(tenant string, lr plog.LogRecord)) {
	for _, rl := range ld.ResourceLogs().All() {
		tenant, _ := rl.Resource().Attributes().Get(ccaas.AttrTenantID)
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				fn(tenant.Str(), lr)
			}
		}
	}
}

var (
	records = goldenlogs.Records
	attr    = goldenlogs.Attr
)

func TestCallLifecycle(t *testing.T) {
	h := startReceiver(t, testConfig(t), new(consumertest.LogsSink))
	for _, p := range []struct{ fixture, trigger string }{
		{"webhook_inbound_call_reaches.json", "inboundCallReachesContactCenter"},
		{"webhook_inbound_call_starts.json", "inboundCallStarts"},
		{"webhook_inbound_call_ends.json", "call-done"}, // an alias
	} {
		resp, out := h.post(webhookPath(p.trigger), fixture(t, p.fixture), token(testToken))
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
	}
	var recs []plog.LogRecord
	for _, ld := range h.sink.AllLogs() {
		recs = append(recs, records(ld)...)
	}
	require.Len(t, recs, 4)
	names := []string{}
	for _, lr := range recs {
		names = append(names, lr.EventName())
	}
	assert.Equal(t, []string{ccaas.EventInteractionStarted, ccaas.EventAgentSegmentStarted, ccaas.EventInteractionEnded, ccaas.EventRecordingAvailable}, names)

	// Every record of the call has the same interaction id, subject key and
	// jurisdiction (California, from the caller's number, not from the
	// business line in New York).
	for _, lr := range recs {
		assert.Equal(t, "CA6f3c2a1b9d8e7f60514233a2b1c0d9e8", attr(lr, ccaas.AttrInteractionID))
		assert.Equal(t, attr(recs[0], ccaas.AttrSubjectKey), attr(lr, ccaas.AttrSubjectKey))
		assert.Equal(t, "phone", attr(lr, ccaas.AttrSubjectIDType))
		assert.Equal(t, "US-CA", attr(lr, ccaas.AttrJurisdictionRegion))
		assert.Equal(t, "voice", attr(lr, ccaas.AttrChannel))
		assert.Equal(t, "inbound", attr(lr, ccaas.AttrDirection))
	}
	// The end record does not carry the recording link; the recording
	// record does, under its own event id.
	_, hasURL := recs[2].Body().Map().Get("recording_url")
	assert.False(t, hasURL)
	u, hasURL := recs[3].Body().Map().Get("recording_url")
	require.True(t, hasURL)
	assert.Contains(t, u.Str(), "/recordings/")
	assert.Equal(t, attr(recs[2], ccaas.AttrEventID)+recordingSuffix, attr(recs[3], ccaas.AttrEventID))
	assert.Equal(t, "inboundCallEnds", attr(recs[2], ccaas.AttrEventType), "an alias resolves to the trigger it stands for")
	assert.Equal(t, "contact", attr(recs[2], ccaas.AttrDisconnectType))
	// Consent fields, as sent.
	assert.Equal(t, "yes", attr(recs[2], ccaas.AttrConsentSignalPrefix+"recording"))
	assert.Equal(t, "0", attr(recs[3], ccaas.AttrConsentSignalPrefix+"analytics"))
	// Times: the start at start_time, the end at timestamp.
	assert.Equal(t, "2025-11-03T14:20:38Z", recs[1].Timestamp().AsTime().Format("2006-01-02T15:04:05Z07:00"))
	assert.Equal(t, "2025-11-03T14:25:13Z", recs[2].Timestamp().AsTime().Format("2006-01-02T15:04:05Z07:00"))
}

func TestOutboundDialerAndPlaceholders(t *testing.T) {
	h := startReceiver(t, testConfig(t), new(consumertest.LogsSink))
	resp, out := h.post(webhookPath("outboundCallEnds"), fixture(t, "webhook_outbound_call_ends.json"), token(testToken))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.JSONEq(t, `{"accepted":1,"duplicates":0}`, out, "an empty recording_url makes no recording record")
	lr := records(h.sink.AllLogs()[0])[0]
	assert.Equal(t, "outbound", attr(lr, ccaas.AttrDirection))
	assert.Equal(t, "GB", attr(lr, ccaas.AttrJurisdictionCountry))
	assert.Equal(t, "agent", attr(lr, ccaas.AttrDisconnectType))
	assert.Equal(t, "2025-11-03T14:30:00Z", lr.Timestamp().AsTime().Format("2006-01-02T15:04:05Z07:00"), "epoch milliseconds as a string")
}

func TestAuthentication(t *testing.T) {
	k, other := signingKeys(t)
	call := fixture(t, "webhook_inbound_call_ends.json")
	agent := fixture(t, "webhook_agent_log_in.json")
	ev := fixture(t, "events_user_logout.json")
	signed := sign(t, k, testKeyID, ev)
	q := func(tok string) string { return "?" + url.Values{QueryToken: {tok}}.Encode() }
	for _, tc := range []struct {
		name    string
		path    string
		body    []byte
		headers map[string]string
		want    int
	}{
		{"header token", webhookPath("inboundCallEnds"), call, token(testToken), http.StatusOK},
		{"rotated header token", webhookPath("inboundCallEnds"), call, token(oldToken), http.StatusOK},
		{"url token", webhookPath("inboundCallEnds") + q(testURLToken), call, nil, http.StatusOK},
		{"header and url token of the same account", webhookPath("inboundCallEnds") + q(testURLToken), call, token(testToken), http.StatusOK},
		{"no credentials", webhookPath("inboundCallEnds"), call, nil, http.StatusUnauthorized},
		{"wrong header token", webhookPath("inboundCallEnds"), call, token(testToken[:len(testToken)-1]), http.StatusUnauthorized},
		{"empty url token", webhookPath("inboundCallEnds") + "?token=", call, nil, http.StatusUnauthorized},
		{"url token twice", webhookPath("inboundCallEnds") + q(testURLToken) + "&token=" + testURLToken, call, nil, http.StatusUnauthorized},
		{"header token in the url", webhookPath("inboundCallEnds") + q(testToken), call, nil, http.StatusUnauthorized},
		{"url token in the header", webhookPath("inboundCallEnds"), call, token(testURLToken), http.StatusUnauthorized},
		{"valid header, wrong url token", webhookPath("inboundCallEnds") + q("x"+testURLToken), call, token(testToken), http.StatusUnauthorized},
		{"tokens of two accounts", webhookPath("agentLogIn") + q(testURLToken), agent, token(otherToken), http.StatusUnauthorized},
		{"another account's token", webhookPath("inboundCallEnds"), call, token(otherToken), http.StatusForbidden},
		{"another account's token, no account in payload", webhookPath("agentLogIn"), agent, token(otherToken), http.StatusOK},
		{"token in a path segment is not a route", webhookPath("inboundCallEnds") + "/" + testToken, call, nil, http.StatusNotFound},
		{"events signed", PathEvents, ev, signed, http.StatusOK},
		{"events unsigned", PathEvents, ev, nil, http.StatusUnauthorized},
		{"events unknown key id", PathEvents, ev, sign(t, k, "unknown-key", ev), http.StatusUnauthorized},
		{"events no key id", PathEvents, ev, map[string]string{HeaderSignature: signed[HeaderSignature]}, http.StatusUnauthorized},
		{"events key id only", PathEvents, ev, map[string]string{HeaderSignatureID: testKeyID}, http.StatusUnauthorized},
		{"events signed by another key", PathEvents, ev, sign(t, other, testKeyID, ev), http.StatusUnauthorized},
		{"events body altered", PathEvents, append(bytes.Clone(ev), ' '), signed, http.StatusUnauthorized},
		{"events signature not hex", PathEvents, ev, map[string]string{HeaderSignature: "zz", HeaderSignatureID: testKeyID}, http.StatusUnauthorized},
		{"events with a webhook token", PathEvents, ev, token(testToken), http.StatusUnauthorized},
		{"webhook with an events signature", webhookPath("inboundCallEnds"), call, sign(t, k, testKeyID, call), http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startReceiver(t, testConfig(t), new(consumertest.LogsSink))
			resp, out := h.post(tc.path, tc.body, tc.headers)
			require.Equal(t, tc.want, resp.StatusCode, out)
			if tc.want != http.StatusOK {
				assert.Zero(t, h.sink.LogRecordCount(), "a refused request produces no record")
				if tc.want != http.StatusNotFound {
					var e struct {
						Code    int    `json:"code"`
						Message string `json:"message"`
					}
					require.NoError(t, json.Unmarshal([]byte(out), &e))
					assert.Equal(t, tc.want, e.Code)
				}
			} else {
				assert.NotZero(t, h.sink.LogRecordCount())
			}
			for _, secret := range []string{testToken, testURLToken, otherToken} {
				assert.NotContains(t, out, secret)
			}
			for _, e := range h.logs.All() {
				for _, f := range e.Context {
					for _, secret := range []string{testToken, testURLToken, otherToken} {
						assert.NotContains(t, f.String, secret, "log field %s", f.Key)
					}
				}
			}
		})
	}
}

func TestAuthorizationBearer(t *testing.T) {
	cfg := testConfig(t)
	cfg.TokenHeader = "authorization"
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	call := fixture(t, "webhook_inbound_call_ends.json")
	for hdr, want := range map[string]int{
		"Bearer " + testToken: http.StatusOK,
		"bearer " + testToken: http.StatusOK,
		testToken:             http.StatusUnauthorized,
		"Basic " + testToken:  http.StatusUnauthorized,
		"Bearer ":             http.StatusUnauthorized,
	} {
		resp, out := h.post(webhookPath("inboundCallEnds"), call, map[string]string{"Authorization": hdr})
		assert.Equal(t, want, resp.StatusCode, "%q: %s", hdr, out)
	}
}

func TestAccountNameMustMatch(t *testing.T) {
	h := startReceiver(t, testConfig(t), new(consumertest.LogsSink))
	body := []byte(`{"event":"contact_created","contact_id":"1","account_name":"another-account","contact_email":"a@b.example"}`)
	resp, out := h.post(webhookPath("contactCreated"), body, token(testToken))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, out)
	body = []byte(`{"event":"contact_created","contact_id":"1","account_name":"STARSHIP","contact_email":"a@b.example"}`)
	resp, out = h.post(webhookPath("contactCreated"), body, token(testToken))
	assert.Equal(t, http.StatusOK, resp.StatusCode, out)
}

func TestEventsRedactsCredentials(t *testing.T) {
	k, _ := signingKeys(t)
	h := startReceiver(t, testConfig(t), new(consumertest.LogsSink))
	body := fixture(t, "events_app_installed.json")
	resp, out := h.post(PathEvents, body, sign(t, k, testKeyID, body))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	lr := records(h.sink.AllLogs()[0])[0]
	data, _ := lr.Body().Map().Get("data")
	for _, f := range credentialFields {
		v, ok := data.Map().Get(f)
		require.True(t, ok)
		assert.Equal(t, redacted, v.Str())
	}
	cid, _ := data.Map().Get("client_id")
	assert.Equal(t, "23de1fee7658490f8021465553402546", cid.Str(), "only credentials are redacted")
	assert.Equal(t, ccaas.EventVendor, lr.EventName())
	assert.Equal(t, "app.installed", attr(lr, ccaas.AttrEventType))
	assert.Equal(t, "8b62e0c6001548d7b59f8240d79cb0d7", attr(lr, ccaas.AttrEventID))
}

func TestRawP1363SignatureAccepted(t *testing.T) {
	k, _ := signingKeys(t)
	h := startReceiver(t, testConfig(t), new(consumertest.LogsSink))
	body := fixture(t, "events_user_logout.json")
	d := sha512.Sum512(body)
	r, s, err := ecdsa.Sign(rand.Reader, k, d[:])
	require.NoError(t, err)
	raw := make([]byte, 64)
	r.FillBytes(raw[:32])
	s.FillBytes(raw[32:])
	resp, out := h.post(PathEvents, body, map[string]string{HeaderSignature: hex.EncodeToString(raw), HeaderSignatureID: testKeyID})
	assert.Equal(t, http.StatusOK, resp.StatusCode, out)
}

func TestErrorMapping(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxRequestBodySize = 4096
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	tok := token(testToken)
	for _, tc := range []struct {
		name    string
		path    string
		body    string
		headers map[string]string
		want    int
	}{
		{"not json", webhookPath("inboundCallEnds"), `{"call_id":`, tok, http.StatusBadRequest},
		{"trailing data", webhookPath("inboundCallEnds"), `{"call_id":"1"} {}`, tok, http.StatusBadRequest},
		{"scalar", webhookPath("inboundCallEnds"), `"x"`, tok, http.StatusBadRequest},
		{"array of scalars", webhookPath("inboundCallEnds"), `[1]`, tok, http.StatusBadRequest},
		{"empty array", webhookPath("inboundCallEnds"), `[]`, tok, http.StatusBadRequest},
		{"too deep", webhookPath("inboundCallEnds"), strings.Repeat("[", 100) + strings.Repeat("]", 100), tok, http.StatusBadRequest},
		{"oversize", webhookPath("inboundCallEnds"), `{"pad":"` + strings.Repeat("a", 5000) + `"}`, tok, http.StatusRequestEntityTooLarge},
		{"long trigger", webhookPath(strings.Repeat("a", 129)), `{}`, tok, http.StatusBadRequest},
		{"wrong content type", webhookPath("inboundCallEnds"), `{}`, map[string]string{testHeaderName: testToken, "Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
		{"form", webhookPath("inboundCallEnds"), `a=b`, map[string]string{testHeaderName: testToken, "Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"no trigger", "/talkdesk/webhook/", `{}`, tok, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, out := h.post(tc.path, []byte(tc.body), tc.headers)
			assert.Equal(t, tc.want, resp.StatusCode, out)
		})
	}
	t.Run("events without a type", func(t *testing.T) {
		k, _ := signingKeys(t)
		body := []byte(`{"id":"1","data":{"account_id":"a"}}`)
		resp, out := h.post(PathEvents, body, sign(t, k, testKeyID, body))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, out)
	})
	assert.Zero(t, h.sink.LogRecordCount())

	t.Run("method not allowed", func(t *testing.T) {
		resp, err := http.Get(h.url + webhookPath("inboundCallEnds"))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
}

func TestPipelineErrors(t *testing.T) {
	body := fixture(t, "webhook_inbound_call_ends.json")
	path := webhookPath("inboundCallEnds")
	t.Run("retryable", func(t *testing.T) {
		h := startReceiver(t, testConfig(t), consumertest.NewErr(errors.New("queue is full")))
		resp, out := h.post(path, body, token(testToken))
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, out)
		assert.Equal(t, "5", resp.Header.Get("Retry-After"))
		assert.NotContains(t, out, "queue is full")
	})
	t.Run("permanent", func(t *testing.T) {
		h := startReceiver(t, testConfig(t), consumertest.NewErr(consumererror.NewPermanent(errors.New("bad record"))))
		resp, out := h.post(path, body, token(testToken))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, out)
	})
	t.Run("retry after a refusal is not a duplicate", func(t *testing.T) {
		failing := &flakyConsumer{failures: 1, sink: new(consumertest.LogsSink)}
		h := startReceiver(t, testConfig(t), failing)
		resp, _ := h.post(path, body, token(testToken))
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		resp, out := h.post(path, body, token(testToken))
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		assert.JSONEq(t, `{"accepted":2,"duplicates":0}`, out)
		assert.Equal(t, 2, failing.sink.LogRecordCount())
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
	k, _ := signingKeys(t)
	h := startReceiver(t, testConfig(t), new(consumertest.LogsSink))
	call := fixture(t, "webhook_inbound_call_ends.json")
	resp, out := h.post(webhookPath("inboundCallEnds"), call, token(testToken))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.JSONEq(t, `{"accepted":2,"duplicates":0}`, out)
	// A redelivery (whatever the token, header or URL, and however the
	// trigger is spelt) produces nothing new.
	resp, out = h.post(webhookPath("inbound_call_ends")+"?token="+testURLToken, call, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.JSONEq(t, `{"accepted":0,"duplicates":2}`, out)
	// The same payload under another trigger is another event.
	resp, out = h.post(webhookPath("callMissed"), call, token(testToken))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.JSONEq(t, `{"accepted":2,"duplicates":0}`, out)
	// A payload that differs in one field is another event.
	other := bytes.Replace(call, []byte(`"timestamp": "2025-11-03 14:25:13 UTC"`), []byte(`"timestamp": "2025-11-03 14:25:14 UTC"`), 1)
	require.NotEqual(t, call, other)
	resp, out = h.post(webhookPath("inboundCallEnds"), other, token(testToken))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.JSONEq(t, `{"accepted":2,"duplicates":0}`, out)

	// Events API: by the event's id, even when the body was re-serialised.
	ev := fixture(t, "events_user_logout.json")
	resp, out = h.post(PathEvents, ev, sign(t, k, testKeyID, ev))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	var m map[string]any
	require.NoError(t, json.Unmarshal(ev, &m))
	compact, _ := json.Marshal(m)
	resp, out = h.post(PathEvents, compact, sign(t, k, testKeyID, compact))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.JSONEq(t, `{"accepted":0,"duplicates":1}`, out)
	assert.Equal(t, 7, h.sink.LogRecordCount())
}

func TestEventIDFromPayload(t *testing.T) {
	h := startReceiver(t, testConfig(t), new(consumertest.LogsSink))
	body := []byte(`{"event_id":"evt-123","call_id":"c1","contact_phone_number":"+14155550123"}`)
	resp, out := h.post(webhookPath("inboundCallStarts"), body, token(testToken))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	lr := records(h.sink.AllLogs()[0])[0]
	assert.Equal(t, "evt-123", attr(lr, ccaas.AttrEventID))
	// An unrendered template is no id.
	body = []byte(`{"event_id":"{{event_id}}","call_id":"c1"}`)
	resp, out = h.post(webhookPath("inboundCallStarts"), body, token(testToken))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	lr = records(h.sink.AllLogs()[1])[0]
	assert.True(t, strings.HasPrefix(attr(lr, ccaas.AttrEventID), "sha256:"))
}

func TestInsecureMode(t *testing.T) {
	cfg := testConfig(t)
	cfg.Tenants = nil
	cfg.EventsAPI.SignatureKeys = nil
	cfg.InsecureAllowUnauthenticated = true
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	resp, out := h.post(webhookPath("inboundCallEnds"), fixture(t, "webhook_inbound_call_ends.json"), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	tenant, _ := h.sink.AllLogs()[0].ResourceLogs().At(0).Resource().Attributes().Get(ccaas.AttrTenantID)
	assert.Equal(t, testAccount, tenant.Str(), "the account comes from the payload")
	resp, out = h.post(webhookPath("agentLogIn"), fixture(t, "webhook_agent_log_in.json"), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	tenant, _ = h.sink.AllLogs()[1].ResourceLogs().At(0).Resource().Attributes().Get(ccaas.AttrTenantID)
	assert.Equal(t, unknownTenant, tenant.Str())
	resp, out = h.post(PathEvents, fixture(t, "events_user_logout.json"), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)

	// A presented wrong credential is still refused.
	resp, out = h.post(webhookPath("inboundCallEnds"), fixture(t, "webhook_inbound_call_ends.json"), token("wrong-token-0123456789"))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
	resp, out = h.post(PathEvents, fixture(t, "events_user_logout.json"), map[string]string{HeaderSignature: "00", HeaderSignatureID: "x"})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
}

func TestEventsOnlyConfig(t *testing.T) {
	k, _ := signingKeys(t)
	cfg := testConfig(t)
	cfg.Tenants = nil
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	resp, out := h.post(webhookPath("inboundCallEnds"), fixture(t, "webhook_inbound_call_ends.json"), token(testToken))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
	body := fixture(t, "events_user_logout.json")
	resp, out = h.post(PathEvents, body, sign(t, k, testKeyID, body))
	assert.Equal(t, http.StatusOK, resp.StatusCode, out)
}

func TestShutdownWithoutStart(t *testing.T) {
	rcv, err := NewFactory().CreateLogs(context.Background(), receivertest.NewNopSettings(metadata.Type), testConfig(t), consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, rcv.Shutdown(context.Background()))
}

func TestStartFailsOnBusyPort(t *testing.T) {
	h := startReceiver(t, testConfig(t), consumertest.NewNop())
	cfg := testConfig(t)
	cfg.NetAddr.Endpoint = strings.TrimPrefix(h.url, "http://")
	rcv, err := NewFactory().CreateLogs(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	assert.Error(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
}

func TestDecoder(t *testing.T) {
	d, err := NewDecoder(testConfig(t))
	require.NoError(t, err)
	assert.Equal(t, Routes, d.Routes())
	ld, err := d.Decode("webhook/inboundCallEnds", fixture(t, "webhook_inbound_call_ends.json"), "")
	require.NoError(t, err)
	assert.Equal(t, 2, ld.LogRecordCount())
	assert.Equal(t, "yes", attr(records(ld)[0], ccaas.AttrConsentSignalPrefix+"recording"))
	ld, err = d.Decode("events", fixture(t, "events_app_installed.json"), "")
	require.NoError(t, err)
	assert.Equal(t, 1, ld.LogRecordCount())
	_, err = d.Decode("webhook/inboundCallEnds", fixture(t, "webhook_inbound_call_ends.json"), otherAccount)
	assert.Error(t, err, "the payload names another account")
	for _, route := range []string{"nope", "webhook/", "webhook"} {
		_, err = d.Decode(route, []byte(`{}`), "")
		assert.Error(t, err, route)
	}

	short := testConfig(t)
	short.SubjectSalt = "short"
	_, err = NewDecoder(short)
	assert.Error(t, err, "a salt the receiver would refuse")
}

// TestDecoderDecodesAsTheReceiver: the decoder built from a receiver's
// configuration makes the records the running receiver makes (trigger
// aliases and an account's own salt included).
func TestDecoderDecodesAsTheReceiver(t *testing.T) {
	cfg := testConfig(t)
	cfg.Tenants[0].SubjectSalt = "account-own-subject-salt-0123456789"
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	body := fixture(t, "webhook_inbound_call_ends.json")
	resp, out := h.post("/talkdesk/webhook/call-done", body, map[string]string{defaultTokenHeader: testToken})
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	d, err := NewDecoder(cfg)
	require.NoError(t, err)
	decoded, err := d.Decode("webhook/call-done", body, testAccount)
	require.NoError(t, err)
	goldenlogs.AssertSameRecords(t, h.sink.AllLogs()[0], decoded)
}
