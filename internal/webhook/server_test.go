package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/consentry/consentry/internal/admission"
	"github.com/consentry/consentry/internal/ccaas"
)

var testType = component.MustNewType("webhooktest")

// oneEvent is a route handler that turns the body (an event id) into one record.
func oneEvent(r *Request) (plog.Logs, error) {
	if r.HTTP.Header.Get("X-Token") != "ok" {
		return plog.Logs{}, Unauthenticated()
	}
	if len(r.Body) == 0 {
		return plog.Logs{}, Malformed("empty")
	}
	b := ccaas.NewBatch("test", "scope", "v")
	for _, id := range strings.Split(string(r.Body), ",") {
		lr := b.Record("tenant")
		lr.Attributes().PutStr(ccaas.AttrEventID, id)
	}
	return b.Logs(), nil
}

func newTestServer(t *testing.T, next consumer.Logs, tel *componenttest.Telemetry, routes ...Route) http.Handler {
	t.Helper()
	cfg := NewDefaultConfig("127.0.0.1:0")
	set := receivertest.NewNopSettings(testType)
	if tel != nil {
		set.TelemetrySettings = tel.NewTelemetrySettings()
	}
	if len(routes) == 0 {
		routes = []Route{{Path: "/hook", Name: "hook", Handle: oneEvent}}
	}
	s, err := NewServer(&cfg, set, testTelemetry(t, set), next, routes...)
	require.NoError(t, err)
	return s.Handler()
}

// testTelemetry makes the instruments a receiver's TelemetryBuilder would.
func testTelemetry(t *testing.T, set receiver.Settings) Telemetry {
	meter := set.MeterProvider.Meter("test")
	requests, err := meter.Int64Counter("consentry.webhook.requests")
	require.NoError(t, err)
	dupes, err := meter.Int64Counter("consentry.webhook.duplicates")
	require.NoError(t, err)
	return Telemetry{Requests: requests, Duplicates: dupes}
}

func do(h http.Handler, body, contentType, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader([]byte(body)))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("X-Token", token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestContentTypes(t *testing.T) {
	h := newTestServer(t, consumertest.NewNop(), nil)
	assert.Equal(t, http.StatusOK, do(h, "a", "application/json", "ok").Code)
	assert.Equal(t, http.StatusOK, do(h, "b", "Application/JSON; charset=utf-8", "ok").Code)
	assert.Equal(t, http.StatusUnsupportedMediaType, do(h, "c", "", "ok").Code)
	assert.Equal(t, http.StatusUnsupportedMediaType, do(h, "c", "text/json", "ok").Code)
	assert.Equal(t, http.StatusUnsupportedMediaType, do(h, "c", "application/json;;", "ok").Code)

	form := newTestServer(t, consumertest.NewNop(), nil, Route{Path: "/hook", Name: "hook", ContentTypes: []string{ContentTypeForm}, Handle: oneEvent})
	assert.Equal(t, http.StatusOK, do(form, "a", ContentTypeForm, "ok").Code)
	rec := do(form, "a", ContentTypeJSON, "ok")
	assert.Equal(t, http.StatusUnsupportedMediaType, rec.Code)
	assert.Contains(t, rec.Body.String(), ContentTypeForm)
}

func TestErrorBodiesAreJSON(t *testing.T) {
	h := newTestServer(t, consumertest.NewNop(), nil)
	rec := do(h, "a", "application/json", "bad")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.JSONEq(t, `{"code":401,"message":"missing or invalid credentials or signature"}`, rec.Body.String())
	rec = do(h, "", "application/json", "ok")
	assert.Equal(t, http.StatusBadRequest, rec.Code)
}

func TestNoRecordsIsMalformed(t *testing.T) {
	h := newTestServer(t, consumertest.NewNop(), nil, Route{Path: "/hook", Name: "hook", Handle: func(*Request) (plog.Logs, error) { return plog.NewLogs(), nil }})
	assert.Equal(t, http.StatusBadRequest, do(h, "x", "application/json", "ok").Code)
}

func TestCustomResponse(t *testing.T) {
	h := newTestServer(t, consumertest.NewNop(), nil, Route{Path: "/hook", Name: "hook", Handle: oneEvent,
		Respond: func(w http.ResponseWriter, accepted, dups int) { w.WriteHeader(http.StatusNoContent) }})
	assert.Equal(t, http.StatusNoContent, do(h, "a", "application/json", "ok").Code)
}

func TestPipelineErrorMapping(t *testing.T) {
	h := newTestServer(t, consumertest.NewErr(errors.New("boom")), nil)
	rec := do(h, "a", "application/json", "ok")
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "5", rec.Header().Get("Retry-After"))
	assert.NotContains(t, rec.Body.String(), "boom")

	h = newTestServer(t, consumertest.NewErr(consumererror.NewPermanent(errors.New("never"))), nil)
	rec = do(h, "a", "application/json", "ok")
	assert.Equal(t, http.StatusBadRequest, rec.Code)
}

// TestOverloadIs503: admission control's refusal reaches the vendor as
// 503 with Retry-After, like any retryable failure, and the refused event
// is not remembered as accepted: its retry goes through.
func TestOverloadIs503(t *testing.T) {
	overloaded := true
	sink := new(consumertest.LogsSink)
	next, err := consumer.NewLogs(func(ctx context.Context, ld plog.Logs) error {
		if overloaded {
			return fmt.Errorf("quarantine: %w", admission.ErrOverloaded)
		}
		return sink.ConsumeLogs(ctx, ld)
	})
	require.NoError(t, err)
	h := newTestServer(t, next, nil)
	rec := do(h, "e1", "application/json", "ok")
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "5", rec.Header().Get("Retry-After"))
	assert.JSONEq(t, `{"code":503,"message":"the collector is overloaded; retry later"}`, rec.Body.String())
	overloaded = false
	assert.JSONEq(t, `{"accepted":1,"duplicates":0}`, do(h, "e1", "application/json", "ok").Body.String())
	assert.Equal(t, 1, sink.LogRecordCount())
}

func TestDedupWithinAndAcrossRequests(t *testing.T) {
	sink := new(consumertest.LogsSink)
	h := newTestServer(t, sink, nil)
	assert.JSONEq(t, `{"accepted":2,"duplicates":0}`, do(h, "e1,e2", "application/json", "ok").Body.String())
	assert.JSONEq(t, `{"accepted":1,"duplicates":2}`, do(h, "e1,e3,e2", "application/json", "ok").Body.String())
	assert.JSONEq(t, `{"accepted":0,"duplicates":1}`, do(h, "e3", "application/json", "ok").Body.String())
	assert.Equal(t, 3, sink.LogRecordCount())
	// The remaining record keeps its resource; emptied resources are removed.
	last := sink.AllLogs()[1]
	assert.Equal(t, 1, last.ResourceLogs().Len())
}

func TestDedupDisabled(t *testing.T) {
	cfg := NewDefaultConfig("127.0.0.1:0")
	cfg.Dedup.Enabled = false
	sink := new(consumertest.LogsSink)
	set := receivertest.NewNopSettings(testType)
	s, err := NewServer(&cfg, set, testTelemetry(t, set), sink, Route{Path: "/hook", Name: "hook", Handle: oneEvent})
	require.NoError(t, err)
	h := s.Handler()
	do(h, "e1", "application/json", "ok")
	do(h, "e1", "application/json", "ok")
	assert.Equal(t, 2, sink.LogRecordCount())
}

func TestMetrics(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	h := newTestServer(t, consumertest.NewNop(), tel)
	do(h, "e1", "application/json", "ok")
	do(h, "e1", "application/json", "ok")
	do(h, "e2", "application/json", "bad")

	assert.Equal(t, map[int64]int64{200: 2, 401: 1}, requestsByStatus(t, tel))

	d, err := tel.GetMetric("consentry.webhook.duplicates")
	require.NoError(t, err)
	assert.Equal(t, int64(1), d.Data.(metricdata.Sum[int64]).DataPoints[0].Value)

	acc, err := tel.GetMetric("otelcol_receiver_accepted_log_records")
	require.NoError(t, err)
	assert.Equal(t, int64(1), acc.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
}

func TestConfigValidate(t *testing.T) {
	cfg := NewDefaultConfig("localhost:1")
	require.NoError(t, cfg.Validate())
	cfg.NetAddr.Endpoint = ""
	cfg.RetryAfter = 0
	cfg.Dedup.MaxEntries = 0
	err := cfg.Validate()
	require.Error(t, err)
	for _, want := range []string{"endpoint must be set", "retry_after", "dedup.max_entries"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestNilConsumer(t *testing.T) {
	cfg := NewDefaultConfig("localhost:1")
	set := receivertest.NewNopSettings(testType)
	_, err := NewServer(&cfg, set, testTelemetry(t, set), nil)
	assert.Error(t, err)
	_, err = NewServer(&cfg, set, Telemetry{}, consumertest.NewNop())
	assert.ErrorContains(t, err, "telemetry instruments are required")
}

func TestDecodeObjects(t *testing.T) {
	objs, err := DecodeObjects([]byte(`{"a":1}`))
	require.NoError(t, err)
	assert.Len(t, objs, 1)
	objs, err = DecodeObjects([]byte(` [{"a":1},{"b":2}] `))
	require.NoError(t, err)
	assert.Len(t, objs, 2)
	for _, bad := range []string{`[1]`, `"x"`, `{`, `[{}] []`} {
		_, err := DecodeObjects([]byte(bad))
		var we *Error
		require.ErrorAs(t, err, &we, bad)
		assert.Equal(t, http.StatusBadRequest, we.Status, bad)
	}
}

func TestMethods(t *testing.T) {
	send := func(h http.Handler, method string) int {
		req := httptest.NewRequest(method, "/hook", bytes.NewReader([]byte("a")))
		req.Header.Set("Content-Type", ContentTypeJSON)
		req.Header.Set("X-Token", "ok")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	post := newTestServer(t, consumertest.NewNop(), nil)
	assert.Equal(t, http.StatusOK, send(post, http.MethodPost))
	assert.Equal(t, http.StatusMethodNotAllowed, send(post, http.MethodPut), "POST only by default")

	h := newTestServer(t, consumertest.NewNop(), nil, Route{Path: "/hook", Name: "hook", Methods: []string{http.MethodPost, http.MethodPut, http.MethodPatch}, Handle: oneEvent})
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch} {
		assert.Equal(t, http.StatusOK, send(h, m), m)
	}
	assert.Equal(t, http.StatusMethodNotAllowed, send(h, http.MethodDelete))
}

// requestsByStatus sums consentry.webhook.requests by status code.
func requestsByStatus(t *testing.T, tel *componenttest.Telemetry) map[int64]int64 {
	t.Helper()
	m, err := tel.GetMetric("consentry.webhook.requests")
	require.NoError(t, err)
	byStatus := map[int64]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		code, _ := dp.Attributes.Value("http.response.status_code")
		byStatus[code.AsInt64()] += dp.Value
	}
	return byStatus
}
