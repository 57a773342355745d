package segmentreceiver

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Segment signs with HMAC-SHA1.
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	"github.com/consentry/consentry/receiver/segmentreceiver/internal/metadata"
)

const (
	testSource     = "web-prod"
	otherSource    = "ios-prod"
	testShared     = "test-shared-secret-current"
	oldShared      = "test-shared-secret-previous"
	otherShared    = "other-source-shared-secret"
	testBatchToken = "test-batch-token"
	testWriteKey   = "test-write-key-current"
	oldWriteKey    = "test-write-key-previous"
	otherWriteKey  = "other-source-write-key"
	testSalt       = "unit-test-subject-salt-0123456789"
	batchHeader    = "X-Consentry-Token"
)

func testConfig() *Config {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.SubjectSalt = testSalt
	cfg.BatchAuthHeader = batchHeader
	cfg.Tenants = []TenantConfig{
		{
			SourceID:         testSource,
			SharedSecrets:    []configopaque.String{testShared, oldShared},
			BatchAuthSecrets: []configopaque.String{testBatchToken},
			WriteKeys:        []configopaque.String{testWriteKey, oldWriteKey},
		},
		{SourceID: otherSource, SharedSecrets: []configopaque.String{otherShared}, WriteKeys: []configopaque.String{otherWriteKey}},
	}
	return cfg
}

type harness struct {
	t    *testing.T
	url  string
	sink *consumertest.LogsSink
}

func startReceiver(t *testing.T, cfg *Config, next consumer.Logs) *harness {
	t.Helper()
	require.NoError(t, cfg.Validate())
	sink, _ := next.(*consumertest.LogsSink)
	rcv, err := NewFactory().CreateLogs(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, next)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	return &harness{t: t, url: "http://" + rcv.(*segmentReceiver).server.Addr().String(), sink: sink}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	require.NoError(t, err)
	return bytes.TrimSpace(b)
}

// send posts body with the headers; an empty header value deletes it.
func (h *harness) send(path string, body []byte, headers map[string]string) (*http.Response, string) {
	h.t.Helper()
	return h.sendMethod(http.MethodPost, path, body, headers)
}

func (h *harness) sendMethod(method, path string, body []byte, headers map[string]string) (*http.Response, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, bytes.NewReader(body))
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

func sign(secret string, msg []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

func signed(secret string, body []byte) map[string]string {
	return map[string]string{HeaderSignature: sign(secret, body)}
}

func basic(key string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))}
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		fixture, path string
		headers       func([]byte) map[string]string
		method        string // "" = POST
	}{
		{"webhook_track.json", PathWebhook, func(b []byte) map[string]string { return signed(testShared, b) }, ""},
		// Real deliveries (testdata/fixtures/SOURCES.md), with the methods a
		// Webhooks (Actions) mapping may use.
		{"webhook_captured_track.json", PathWebhook, func(b []byte) map[string]string { return signed(testShared, b) }, http.MethodPut},
		{"webhook_spec_common.json", PathWebhook, func(b []byte) map[string]string { return signed(testShared, b) }, http.MethodPatch},
		{"tracking_ios_batch.json", "/v1/batch", func([]byte) map[string]string { return nil }, ""},
		{"webhook_identify.json", PathWebhook, func(b []byte) map[string]string { return signed(oldShared, b) }, ""},
		{"webhook_consent_updated.json", PathWebhook, func(b []byte) map[string]string { return signed(testShared, b) }, ""},
		{"webhook_delete.json", PathWebhook, func(b []byte) map[string]string { return signed(testShared, b) }, ""},
		{"webhook_actions_batch.json", PathWebhook, func(b []byte) map[string]string {
			first, _ := firstElement(b)
			return merge(signed(testShared, first), map[string]string{batchHeader: testBatchToken})
		}, ""},
		{"tracking_batch.json", "/v1/batch", func([]byte) map[string]string { return basic(testWriteKey) }, ""},
		{"tracking_browser_batch.json", "/v1/b", func([]byte) map[string]string {
			return map[string]string{"Content-Type": "text/plain", HeaderGPC: "1"}
		}, ""},
		{"tracking_track.json", "/v1/track", func([]byte) map[string]string { return basic(oldWriteKey) }, ""},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
			body := fixture(t, tc.fixture)
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			resp, out := h.sendMethod(method, tc.path, body, tc.headers(body))
			require.Equal(t, http.StatusOK, resp.StatusCode, out)
			require.Len(t, h.sink.AllLogs(), 1)
			ld := h.sink.AllLogs()[0]
			stabiliseSkewCorrectedTimestamps(t, ld)
			goldenlogs.Assert(t, filepath.Join("testdata", "golden", tc.fixture), ld)
			assertNoRawIdentifiers(t, ld)
			assertNoWriteKeys(t, ld)
		})
	}
}

// stabiliseSkewCorrectedTimestamps replaces the timestamps that depend on
// when the request arrived, after checking them: a receivedAt the receiver
// stamped must be the record's ObservedTimestamp, and a timestamp it
// corrected must be receivedAt - (sentAt - originalTimestamp) and the
// record's Timestamp. TestStamp checks the arithmetic on fixed numbers.
func stabiliseSkewCorrectedTimestamps(t *testing.T, ld plog.Logs) {
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				body := lr.Body().Map()
				observed := lr.ObservedTimestamp().AsTime().UTC().Format(segmentTime)
				if v, ok := body.Get("receivedAt"); ok && v.Str() == observed {
					body.PutStr("receivedAt", "(received)")
				}
				orig, hasOrig := body.Get("originalTimestamp")
				sent, hasSent := body.Get("sentAt")
				ts, hasTS := body.Get("timestamp")
				if !hasOrig || !hasSent {
					continue
				}
				want := lr.ObservedTimestamp().AsTime().Add(-parseTime(sent.Str()).Sub(parseTime(orig.Str()))).UTC()
				if hasTS && ts.Str() == want.Format(segmentTime) {
					require.Equal(t, want.Truncate(time.Millisecond), lr.Timestamp().AsTime().UTC())
					body.PutStr("timestamp", "(received - (sentAt - originalTimestamp))")
					lr.SetTimestamp(0)
				}
			}
		}
	}
}

// assertNoRawIdentifiers checks that no attribute carries a raw identifier
// of the fixtures: those stay in the body, which the ledger encrypts.
func assertNoRawIdentifiers(t *testing.T, ld plog.Logs) {
	t.Helper()
	goldenlogs.AssertNoRawIdentifiers(t, ld, "5550123", "79460958", "example.com", "usr_8f1c2d", "203.0.113", "198.51.100", "3a4c6f2e")
}

func assertNoWriteKeys(t *testing.T, ld plog.Logs) {
	t.Helper()
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				_, ok := lr.Body().Map().Get("writeKey")
				assert.False(t, ok, "the write key is a credential and must not leave the receiver")
				raw, _ := json.Marshal(lr.Body().AsRaw())
				assert.NotContains(t, string(raw), "test-write-key")
			}
		}
	}
}

// recs flattens the records of everything the sink received.
func recs(sink *consumertest.LogsSink) []plog.LogRecord {
	var out []plog.LogRecord
	for _, ld := range sink.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					out = append(out, lr)
				}
			}
		}
	}
	return out
}

func attr(lr plog.LogRecord, key string) any {
	v, ok := lr.Attributes().Get(key)
	if !ok {
		return nil
	}
	return v.AsRaw()
}

func tenantOf(ld plog.Logs) string {
	v, _ := ld.ResourceLogs().At(0).Resource().Attributes().Get(ccaas.AttrTenantID)
	return v.Str()
}

func TestTrackingAPIAnswersLikeSegment(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	for _, path := range []string{"/v1/track", "/v1/t"} {
		resp, out := h.send(path, []byte(`{"userId":"u1","event":"E","messageId":"m-`+path+`"}`), basic(testWriteKey))
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		assert.JSONEq(t, `{"success":true}`, out)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	}
	// A retried request answers the same way.
	resp, out := h.send("/v1/t", []byte(`{"userId":"u1","event":"E","messageId":"m-/v1/t"}`), basic(testWriteKey))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.JSONEq(t, `{"success":true}`, out)
	assert.Equal(t, 2, h.sink.LogRecordCount())
}

func TestTrackingRoutes(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	for _, tc := range []struct {
		paths []string
		typ   string
	}{
		{[]string{"/v1/track", "/v1/t"}, "track"},
		{[]string{"/v1/identify", "/v1/i"}, "identify"},
		{[]string{"/v1/page", "/v1/p"}, "page"},
		{[]string{"/v1/screen", "/v1/s"}, "screen"},
		{[]string{"/v1/group", "/v1/g"}, "group"},
		{[]string{"/v1/alias", "/v1/a"}, "alias"},
	} {
		for _, p := range tc.paths {
			before := h.sink.LogRecordCount()
			resp, out := h.send(p, []byte(`{"anonymousId":"a","messageId":"`+p+`","event":"E"}`), basic(testWriteKey))
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", p, out)
			all := recs(h.sink)
			require.Len(t, all, before+1)
			lr := all[before]
			assert.Equal(t, tc.typ, attr(lr, ccaas.AttrEventType), p)
			assert.Equal(t, tc.typ, attr(lr, ccaas.AttrEventRoute), p)
			typ, _ := lr.Body().Map().Get("type")
			assert.Equal(t, tc.typ, typ.Str(), "the endpoint's type is written into the event")
			assert.Equal(t, ccaas.EventAnalyticsTrack, lr.EventName())
		}
	}
	for _, p := range []string{"/v1/batch", "/v1/b", "/v1/import"} {
		resp, out := h.send(p, []byte(`{"batch":[{"type":"screen","anonymousId":"a","messageId":"b`+p+`"}]}`), basic(testWriteKey))
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", p, out)
		all := recs(h.sink)
		assert.Equal(t, "batch", attr(all[len(all)-1], ccaas.AttrEventRoute))
		assert.Equal(t, "app", attr(all[len(all)-1], ccaas.AttrChannel))
	}
}

func TestWebhookAuthentication(t *testing.T) {
	obj := fixture(t, "webhook_track.json")
	arr := fixture(t, "webhook_actions_batch.json")
	first, ok := firstElement(arr)
	require.True(t, ok)
	batchTok := map[string]string{batchHeader: testBatchToken}
	for _, tc := range []struct {
		name       string
		body       []byte
		headers    map[string]string
		want       int
		wantTenant string
		wantMsg    string
	}{
		{"signed", obj, signed(testShared, obj), http.StatusOK, testSource, ""},
		{"rotated secret", obj, signed(oldShared, obj), http.StatusOK, testSource, ""},
		{"other source's secret names that source", obj, signed(otherShared, obj), http.StatusOK, otherSource, ""},
		{"upper-case hex", obj, map[string]string{HeaderSignature: strings.ToUpper(sign(testShared, obj))}, http.StatusOK, testSource, ""},
		{"unsigned", obj, nil, http.StatusUnauthorized, "", ""},
		{"forged", obj, signed("guess", obj), http.StatusUnauthorized, "", ""},
		{"signature of another body", obj, signed(testShared, []byte(`{}`)), http.StatusUnauthorized, "", ""},
		{"body altered", append(bytes.Clone(obj), ' '), signed(testShared, obj), http.StatusUnauthorized, "", ""},
		{"base64 not hex", obj, map[string]string{HeaderSignature: base64.StdEncoding.EncodeToString([]byte(sign(testShared, obj)))}, http.StatusUnauthorized, "", ""},
		{"write key is not a webhook credential", obj, basic(testWriteKey), http.StatusUnauthorized, "", ""},
		{"batch token authenticates an object", obj, batchTok, http.StatusOK, testSource, ""},
		{"batch token with a wrong signature", obj, merge(batchTok, signed("guess", obj)), http.StatusUnauthorized, "", ""},
		{"wrong batch token", obj, map[string]string{batchHeader: "nope"}, http.StatusUnauthorized, "", ""},
		{"batch with token", arr, batchTok, http.StatusOK, testSource, ""},
		{"batch with token and first-event signature", arr, merge(batchTok, signed(testShared, first)), http.StatusOK, testSource, ""},
		{"batch with token and a wrong signature", arr, merge(batchTok, signed(testShared, arr)), http.StatusUnauthorized, "", ""},
		{"batch signed only on its first event", arr, signed(testShared, first), http.StatusUnauthorized, "", "Segment signs only the first event"},
		{"batch signed over the whole array", arr, signed(testShared, arr), http.StatusUnauthorized, "", "Segment signs only the first event"},
		{"batch without credentials", arr, nil, http.StatusUnauthorized, "", "Segment signs only the first event"},
		{"batch with wrong token", arr, map[string]string{batchHeader: "nope"}, http.StatusUnauthorized, "", "missing or invalid credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
			resp, out := h.send(PathWebhook, tc.body, tc.headers)
			require.Equal(t, tc.want, resp.StatusCode, out)
			if tc.want != http.StatusOK {
				assert.Zero(t, h.sink.LogRecordCount(), "a refused request produces no record")
				assert.Contains(t, out, tc.wantMsg)
				for _, secret := range []string{testShared, testBatchToken, testWriteKey} {
					assert.NotContains(t, out, secret)
				}
				return
			}
			require.Len(t, h.sink.AllLogs(), 1)
			assert.Equal(t, tc.wantTenant, tenantOf(h.sink.AllLogs()[0]))
		})
	}
}

func TestBatchesRefusedWithoutBatchHeaderConfigured(t *testing.T) {
	cfg := testConfig()
	cfg.BatchAuthHeader = ""
	cfg.Tenants[0].BatchAuthSecrets = nil
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	arr := fixture(t, "webhook_actions_batch.json")
	first, _ := firstElement(arr)
	resp, out := h.send(PathWebhook, arr, merge(signed(testShared, first), map[string]string{batchHeader: testBatchToken}))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
	assert.Zero(t, h.sink.LogRecordCount())
}

func TestTrackingAuthentication(t *testing.T) {
	single := []byte(`{"userId":"u1","event":"E","messageId":"m1"}`)
	withKey := func(k string) []byte {
		return []byte(`{"userId":"u1","event":"E","messageId":"m1","writeKey":"` + k + `"}`)
	}
	for _, tc := range []struct {
		name       string
		body       []byte
		headers    map[string]string
		want       int
		wantTenant string
	}{
		{"basic", single, basic(testWriteKey), http.StatusOK, testSource},
		{"rotated key", single, basic(oldWriteKey), http.StatusOK, testSource},
		{"other source's key names that source", single, basic(otherWriteKey), http.StatusOK, otherSource},
		{"basic with a password (ignored)", single, map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(testWriteKey+":whatever"))}, http.StatusOK, testSource},
		{"key in body", withKey(testWriteKey), nil, http.StatusOK, testSource},
		{"key in body and basic agree", withKey(testWriteKey), basic(testWriteKey), http.StatusOK, testSource},
		{"two keys of one source", withKey(oldWriteKey), basic(testWriteKey), http.StatusOK, testSource},
		{"no credentials", single, nil, http.StatusUnauthorized, ""},
		{"wrong key", single, basic("test-write-key-curren"), http.StatusUnauthorized, ""},
		{"wrong key in body", withKey("nope"), nil, http.StatusUnauthorized, ""},
		{"empty key in body", withKey(""), nil, http.StatusUnauthorized, ""},
		{"right basic, wrong body key", withKey("nope"), basic(testWriteKey), http.StatusUnauthorized, ""},
		{"wrong basic, right body key", withKey(testWriteKey), basic("nope"), http.StatusUnauthorized, ""},
		{"keys of two sources", withKey(otherWriteKey), basic(testWriteKey), http.StatusForbidden, ""},
		{"bearer token", single, map[string]string{"Authorization": "Bearer " + testWriteKey}, http.StatusUnauthorized, ""},
		{"basic with empty user", single, basic(""), http.StatusUnauthorized, ""},
		{"webhook secret is not a write key", single, basic(testShared), http.StatusUnauthorized, ""},
		{"writeKey not a string", []byte(`{"userId":"u1","writeKey":42}`), nil, http.StatusBadRequest, ""},
		{"unauthenticated malformed event", []byte(`{"userId":"u1","type":"identify"}`), nil, http.StatusUnauthorized, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
			resp, out := h.send("/v1/track", tc.body, tc.headers)
			require.Equal(t, tc.want, resp.StatusCode, out)
			if tc.want != http.StatusOK {
				assert.Zero(t, h.sink.LogRecordCount(), "a refused request produces no record")
				assert.NotContains(t, out, testWriteKey)
				var e struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				}
				require.NoError(t, json.Unmarshal([]byte(out), &e))
				assert.Equal(t, tc.want, e.Code)
				return
			}
			require.Len(t, h.sink.AllLogs(), 1)
			assert.Equal(t, tc.wantTenant, tenantOf(h.sink.AllLogs()[0]))
		})
	}
}

func TestBatchWriteKeys(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	// analytics.js puts the key on every event and on the batch.
	body := []byte(`{"writeKey":"` + testWriteKey + `","batch":[{"type":"track","event":"A","anonymousId":"x","messageId":"k1","writeKey":"` + testWriteKey + `"},{"type":"track","event":"B","anonymousId":"x","messageId":"k2","writeKey":"` + oldWriteKey + `"}]}`)
	resp, out := h.send("/v1/b", body, map[string]string{"Content-Type": "text/plain"})
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	// An event carrying another source's key is refused with its batch.
	body = []byte(`{"writeKey":"` + testWriteKey + `","batch":[{"type":"track","event":"A","anonymousId":"x","messageId":"k3"},{"type":"track","event":"B","anonymousId":"x","messageId":"k4","writeKey":"` + otherWriteKey + `"}]}`)
	resp, out = h.send("/v1/b", body, map[string]string{"Content-Type": "text/plain"})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, out)
	assert.Equal(t, 2, h.sink.LogRecordCount())
}

func TestGzipBodies(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	// analytics-kotlin gzips its /v1/b uploads (text/plain, writeKey in the
	// body); the collector's HTTP server decompresses them.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(fixture(t, "tracking_batch.json"))
	require.NoError(t, zw.Close())
	resp, out := h.send("/v1/b", buf.Bytes(), map[string]string{"Content-Type": "text/plain", "Content-Encoding": "gzip"})
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.Equal(t, 3, h.sink.LogRecordCount())

	// A signed webhook body is verified after decompression.
	obj := fixture(t, "webhook_delete.json")
	buf.Reset()
	zw = gzip.NewWriter(&buf)
	_, _ = zw.Write(obj)
	require.NoError(t, zw.Close())
	resp, out = h.send(PathWebhook, buf.Bytes(), merge(signed(testShared, obj), map[string]string{"Content-Encoding": "gzip"}))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)

	resp, out = h.send("/v1/b", []byte("not gzip"), map[string]string{"Content-Encoding": "gzip", "Authorization": basic(testWriteKey)["Authorization"]})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, out)
	assert.Equal(t, 4, h.sink.LogRecordCount())
}

func TestErrorMapping(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRequestBodySize = 4096
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	key := basic(testWriteKey)
	for _, tc := range []struct {
		name, path, body string
		headers          map[string]string
		want             int
	}{
		{"not json", "/v1/track", `{"userId":`, key, http.StatusBadRequest},
		{"trailing data", "/v1/track", `{"userId":"u"} {}`, key, http.StatusBadRequest},
		{"array to a single-event endpoint", "/v1/track", `[{"userId":"u"}]`, key, http.StatusBadRequest},
		{"type conflicts with the endpoint", "/v1/track", `{"type":"identify","userId":"u"}`, key, http.StatusBadRequest},
		{"batch without batch", "/v1/batch", `{"events":[]}`, key, http.StatusBadRequest},
		{"batch of scalars", "/v1/batch", `{"batch":[1]}`, key, http.StatusBadRequest},
		{"batch event without type", "/v1/batch", `{"batch":[{"userId":"u"}]}`, key, http.StatusBadRequest},
		{"batch event of unknown type", "/v1/batch", `{"batch":[{"type":"delete","userId":"u"}]}`, key, http.StatusBadRequest},
		{"empty batch", "/v1/batch", `{"batch":[]}`, key, http.StatusBadRequest},
		{"too deep", "/v1/track", `{"p":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, key, http.StatusBadRequest},
		{"oversize", "/v1/track", `{"pad":"` + strings.Repeat("a", 5000) + `"}`, key, http.StatusRequestEntityTooLarge},
		{"wrong content type", "/v1/track", `{}`, merge(key, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}), http.StatusUnsupportedMediaType},
		{"webhook not json", PathWebhook, `{"type":`, signed(testShared, []byte(`{"type":`)), http.StatusBadRequest},
		{"webhook scalar", PathWebhook, `42`, signed(testShared, []byte(`42`)), http.StatusBadRequest},
		{"webhook text/plain", PathWebhook, `{}`, merge(signed(testShared, []byte(`{}`)), map[string]string{"Content-Type": "text/plain"}), http.StatusUnsupportedMediaType},
		{"webhook batch of scalars", PathWebhook, `[1,2]`, map[string]string{batchHeader: testBatchToken}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, out := h.send(tc.path, []byte(tc.body), tc.headers)
			assert.Equal(t, tc.want, resp.StatusCode, out)
		})
	}
	assert.Zero(t, h.sink.LogRecordCount())

	t.Run("method not allowed", func(t *testing.T) {
		resp, err := http.Get(h.url + "/v1/batch")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
	t.Run("unknown path", func(t *testing.T) {
		resp, _ := h.send("/v1/m", []byte(`{}`), key)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
}

func TestPipelineErrors(t *testing.T) {
	body := fixture(t, "tracking_batch.json")
	t.Run("retryable", func(t *testing.T) {
		h := startReceiver(t, testConfig(), consumertest.NewErr(errors.New("queue is full")))
		resp, out := h.send("/v1/batch", body, basic(testWriteKey))
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, out)
		assert.Equal(t, "5", resp.Header.Get("Retry-After"))
		assert.NotContains(t, out, "queue is full")
	})
	t.Run("permanent", func(t *testing.T) {
		h := startReceiver(t, testConfig(), consumertest.NewErr(consumererror.NewPermanent(errors.New("bad record"))))
		resp, out := h.send("/v1/batch", body, basic(testWriteKey))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, out)
	})
}

func TestDeduplication(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	batch := fixture(t, "tracking_batch.json")
	resp, out := h.send("/v1/batch", batch, basic(testWriteKey))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	// The SDK retries: answered like a success, nothing new produced.
	resp, out = h.send("/v1/batch", batch, basic(testWriteKey))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.JSONEq(t, `{"success":true}`, out)
	assert.Equal(t, 3, h.sink.LogRecordCount())

	// The same event arriving through Segment's webhook later is the same
	// event (same source, same messageId).
	ev := []byte(`{"type":"track","event":"Callback Scheduled","userId":"usr_8f1c2d","messageId":"node-next-1714644000000-a2","timestamp":"2024-05-02T10:40:01.000Z"}`)
	resp, out = h.send(PathWebhook, ev, signed(testShared, ev))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.JSONEq(t, `{"accepted":0,"duplicates":1}`, out)

	// ...but not for another source.
	resp, out = h.send(PathWebhook, ev, signed(otherShared, ev))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	assert.JSONEq(t, `{"accepted":1,"duplicates":0}`, out)

	// Events without messageId get a key derived from their content; a
	// retry that only changes sentAt is still recognised.
	noID := `{"userId":"u9","event":"No Id","timestamp":"2024-05-02T10:00:00Z","sentAt":"%s"}`
	for _, sent := range []string{"2024-05-02T10:00:01Z", "2024-05-02T10:05:01Z"} {
		resp, out = h.send("/v1/track", []byte(strings.Replace(noID, "%s", sent, 1)), basic(testWriteKey))
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
	}
	assert.Equal(t, 5, h.sink.LogRecordCount())
	last := recs(h.sink)[4]
	assert.True(t, strings.HasPrefix(attr(last, ccaas.AttrEventID).(string), "sha256:"))
}

func TestInsecureMode(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants = nil
	cfg.BatchAuthHeader = ""
	cfg.InsecureAllowUnauthenticated = true
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	resp, out := h.send("/v1/track", []byte(`{"userId":"u1","event":"E","messageId":"i1"}`), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	resp, out = h.send(PathWebhook, fixture(t, "webhook_actions_batch.json"), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	for _, ld := range h.sink.AllLogs() {
		assert.Equal(t, unknownTenant, tenantOf(ld))
	}
	lr := recs(h.sink)[0]
	assert.NotEmpty(t, attr(lr, ccaas.AttrSubjectKey), "the receiver-wide salt keys subjects")
	// A presented wrong credential is still refused.
	resp, out = h.send("/v1/track", []byte(`{"userId":"u1","event":"E","messageId":"i2"}`), basic("wrong"))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
	obj := fixture(t, "webhook_track.json")
	resp, out = h.send(PathWebhook, obj, signed("wrong", obj))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
}

func TestShutdownWithoutStart(t *testing.T) {
	rcv, err := NewFactory().CreateLogs(context.Background(), receivertest.NewNopSettings(metadata.Type), testConfig(), consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, rcv.Shutdown(context.Background()))
}

func TestDecoder(t *testing.T) {
	d, err := NewDecoder(testConfig())
	require.NoError(t, err)
	assert.Equal(t, Routes, d.Routes())
	ld, err := d.Decode("batch", fixture(t, "tracking_batch.json"), "web-prod")
	require.NoError(t, err)
	assert.Equal(t, 3, ld.LogRecordCount())
	assert.Equal(t, "web-prod", tenantOf(ld))
	ld, err = d.Decode("webhook", fixture(t, "webhook_actions_batch.json"), "")
	require.NoError(t, err)
	assert.Equal(t, 3, ld.LogRecordCount())
	assert.Equal(t, unknownTenant, tenantOf(ld))
	_, err = d.Decode("nope", nil, "")
	assert.Error(t, err)
	_, err = d.Decode("track", []byte(`{"type":"page"}`), "")
	assert.Error(t, err)
	_, err = d.Decode("batch", []byte("{"), "")
	assert.Error(t, err)

	short := testConfig()
	short.SubjectSalt = "short"
	_, err = NewDecoder(short)
	assert.Error(t, err, "a salt the receiver would refuse")
}

// TestDecoderDecodesAsTheReceiver: the decoder built from a receiver's
// configuration makes the records the running receiver makes, subject keys
// under a source's own salt included.
func TestDecoderDecodesAsTheReceiver(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].SubjectSalt = "source-own-subject-salt-0123456789"
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	body := fixture(t, "webhook_actions_batch.json")
	resp, out := h.send(PathWebhook, body, map[string]string{batchHeader: testBatchToken})
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	d, err := NewDecoder(cfg)
	require.NoError(t, err)
	decoded, err := d.Decode(routeWebhook, body, testSource)
	require.NoError(t, err)
	// The events have no receivedAt: each side stamps its own receive time.
	received := h.sink.AllLogs()[0]
	stabiliseSkewCorrectedTimestamps(t, received)
	stabiliseSkewCorrectedTimestamps(t, decoded)
	goldenlogs.AssertSameRecords(t, received, decoded)
}

func TestBatchHeaderAuthorizationBearer(t *testing.T) {
	cfg := testConfig()
	cfg.BatchAuthHeader = "authorization"
	h := startReceiver(t, cfg, new(consumertest.LogsSink))
	arr := fixture(t, "webhook_actions_batch.json")
	resp, out := h.send(PathWebhook, arr, map[string]string{"Authorization": "Bearer " + testBatchToken})
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	resp, out = h.send(PathWebhook, arr, map[string]string{"Authorization": "Bearer nope"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
	assert.Equal(t, 3, h.sink.LogRecordCount())
}

// TestWideObjectRefusedWith400: an event whose properties have more keys
// than one JSON object may hold (ccaas.MaxJSONKeys) is refused with 400
// and a message naming the bound, through the public write key too; one
// at the bound is accepted.
func TestWideObjectRefusedWith400(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	body := func(keys int) []byte {
		var b strings.Builder
		b.WriteString(`{"type":"track","event":"wide","anonymousId":"a1","properties":{`)
		for i := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"p%d":%d`, i, i)
		}
		b.WriteString(`}}`)
		return []byte(b.String())
	}
	resp, msg := h.send("/v1/track", body(ccaas.MaxJSONKeys+1), basic(testWriteKey))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, msg)
	assert.Contains(t, msg, fmt.Sprintf("more than %d keys", ccaas.MaxJSONKeys))
	resp, msg = h.send("/v1/track", body(ccaas.MaxJSONKeys), basic(testWriteKey))
	assert.Equal(t, http.StatusOK, resp.StatusCode, msg)
	assert.Equal(t, 1, h.sink.LogRecordCount())
}

// TestBatchContextFanOutRefused: a Tracking API batch's context is copied
// into every event, so a small body (2,000 context keys, 1,000 empty
// events: about 40 KB, through the public write key) would make two
// million values. The request path stays linear in the body: such a batch
// is refused with 400; a real batch context is not.
func TestBatchContextFanOutRefused(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	var b strings.Builder
	b.WriteString(`{"context":{`)
	for i := range 2000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"c%d":1`, i)
	}
	b.WriteString(`},"batch":[`)
	for i := range 1000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"type":"track","event":"e","anonymousId":"a"}`)
	}
	b.WriteString(`]}`)
	resp, msg := h.send("/v1/batch", []byte(b.String()), basic(testWriteKey))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, msg)
	assert.Contains(t, msg, "1000 events")
	assert.Zero(t, h.sink.LogRecordCount())

	resp, msg = h.send("/v1/batch", fixture(t, "tracking_batch.json"), basic(testWriteKey))
	assert.Equal(t, http.StatusOK, resp.StatusCode, msg)
}
