package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Segment signs webhooks with HMAC-SHA1.
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/nodetest"
)

const (
	segmentSource      = "web-prod"
	segmentWriteKey    = "e2e-segment-write-key"
	segmentShared      = "e2e-segment-shared-secret"
	segmentBatchSecret = "e2e-segment-batch-token"
)

const segmentConfig = `
extensions:
` + healthExtension + `receivers:
  segment:
    endpoint: 127.0.0.1:{{.Ports.segment}}
    subject_salt: ${env:E2E_SUBJECT_SALT}
    batch_auth_header: X-Consentry-Token
    tenants:
      - source_id: ` + segmentSource + `
        write_keys: ["${env:E2E_SEGMENT_WRITE_KEY}"]
        shared_secrets: ["${env:E2E_SEGMENT_SHARED_SECRET}"]
        batch_auth_secrets: ["${env:E2E_SEGMENT_BATCH_SECRET}"]
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
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {{.Ports.metrics}}
  pipelines:
    logs:
      receivers: [segment]
      exporters: [otlp_http]
`

var segmentEnv = []string{
	"E2E_SUBJECT_SALT=e2e-subject-salt-0123456789abcdef",
	"E2E_SEGMENT_WRITE_KEY=" + segmentWriteKey,
	"E2E_SEGMENT_SHARED_SECRET=" + segmentShared,
	"E2E_SEGMENT_BATCH_SECRET=" + segmentBatchSecret,
}

// segmentClientDir holds the Node client that drives Segment's own SDK.
var segmentClientDir, _ = filepath.Abs("segmentclient")

// requireNodeClient makes sure node, npm and the client's dependencies are
// there (see nodetest.Require).
func requireNodeClient(t *testing.T) string {
	t.Helper()
	return nodetest.Require(t, segmentClientDir, filepath.Join("node_modules", "@segment", "analytics-node", "package.json"),
		"run Segment's SDK against the collector")
}

type sdkResult struct {
	Statuses []int    `json:"statuses"`
	Errors   []string `json:"errors"`
	Library  string   `json:"library"`
	exitCode int
}

// runSegmentSDK runs e2e/segmentclient/send.js: identify, track and page
// through @segment/analytics-node, pointed at the collector.
func runSegmentSDK(t *testing.T, node, host, writeKey, userID, runID string) sdkResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "send.js")
	cmd.Dir = segmentClientDir
	cmd.Env = append(os.Environ(),
		"SEGMENT_HOST="+host, "SEGMENT_WRITE_KEY="+writeKey, "SEGMENT_USER_ID="+userID, "SEGMENT_RUN_ID="+runID)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var res sdkResult
	if ee, ok := err.(*exec.ExitError); ok {
		res.exitCode = ee.ExitCode()
	} else {
		require.NoError(t, err, "stderr:\n%s", stderr.String())
	}
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res), "send.js output %q, stderr:\n%s", stdout.String(), stderr.String())
	return res
}

func segmentSign(body []byte) string {
	m := hmac.New(sha1.New, []byte(segmentShared))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func bodyStr(lr plog.LogRecord, path ...string) string {
	v := lr.Body()
	for _, p := range path {
		if v.Type() != pcommon.ValueTypeMap {
			return ""
		}
		next, ok := v.Map().Get(p)
		if !ok {
			return ""
		}
		v = next
	}
	return v.AsString()
}

func TestSegmentEndToEnd(t *testing.T) {
	node := requireNodeClient(t)
	s := newSink(t)
	c := startCollector(t, segmentConfig, map[string]any{"Sink": s.url}, segmentEnv...)
	host := c.url("segment", "")
	runID := time.Now().Format("150405.000000")

	t.Run("Segment's Node SDK delivers identify, track and page", func(t *testing.T) {
		before := s.count()
		res := runSegmentSDK(t, node, host, segmentWriteKey, "usr-e2e-42", runID)
		require.Equal(t, 0, res.exitCode, "SDK result: %+v", res)
		assert.Empty(t, res.Errors)
		require.NotEmpty(t, res.Statuses)
		for _, st := range res.Statuses {
			assert.Equal(t, 200, st)
		}
		assert.True(t, strings.HasPrefix(res.Library, "3."), "analytics-node 3.x, got %s", res.Library)

		// The SDK got its 2xx only after the exporter delivered: the sink
		// has the three events now.
		recs := s.records()[before:]
		require.Len(t, recs, 3)
		byType := map[string]plog.LogRecord{}
		for _, r := range recs {
			assert.Equal(t, "segment", r.Resource[ccaas.AttrVendor])
			assert.Equal(t, segmentSource, r.Resource[ccaas.AttrTenantID])
			byType[attrStr(r.Record, ccaas.AttrEventType)] = r.Record
			assert.Equal(t, "batch", attrStr(r.Record, ccaas.AttrEventRoute))
			assert.Equal(t, ccaas.EventAnalyticsTrack, r.Record.EventName())
			assert.NotEmpty(t, attrStr(r.Record, ccaas.AttrEventID), "messageId")
			assert.NotZero(t, r.Record.Timestamp())
			assert.Equal(t, "@segment/analytics-node", bodyStr(r.Record, "context", "library", "name"))
			_, hasKey := r.Record.Body().Map().Get("writeKey")
			assert.False(t, hasKey, "the write key does not travel on")
			for k, v := range r.Record.Attributes().All() {
				assert.NotContains(t, v.AsString(), "usr-e2e-42", k)
				assert.NotContains(t, v.AsString(), "example.com", k)
			}
		}
		require.Contains(t, byType, "identify")
		require.Contains(t, byType, "track")
		require.Contains(t, byType, "page")
		key := attrStr(byType["identify"], ccaas.AttrSubjectKey)
		assert.True(t, strings.HasPrefix(key, "sk1_"))
		assert.Equal(t, key, attrStr(byType["track"], ccaas.AttrSubjectKey), "one person, one key")
		assert.Equal(t, key, attrStr(byType["page"], ccaas.AttrSubjectKey))
		assert.Equal(t, "US-CA", attrStr(byType["identify"], ccaas.AttrJurisdictionRegion))
		assert.Equal(t, "true", attrStr(byType["track"], ccaas.AttrConsentCategoryPrefix+"Analytics"))
		assert.Equal(t, "false", attrStr(byType["track"], ccaas.AttrConsentCategoryPrefix+"Advertising"))
		assert.Equal(t, "US", attrStr(byType["track"], ccaas.AttrJurisdictionCountry))
		assert.Equal(t, "Callback Requested", bodyStr(byType["track"], "event"))
		assert.Equal(t, runID, bodyStr(byType["page"], "properties", "run"))
		assert.Equal(t, "web", attrStr(byType["page"], ccaas.AttrChannel))
	})

	t.Run("a wrong write key is refused with 401 and produces no record", func(t *testing.T) {
		before, reqs := s.count(), s.reqs.Load()
		res := runSegmentSDK(t, node, host, "not-the-write-key", "usr-e2e-43", runID)
		assert.Equal(t, 3, res.exitCode, "the SDK reports the failed delivery: %+v", res)
		require.NotEmpty(t, res.Statuses)
		for _, st := range res.Statuses {
			assert.Equal(t, 401, st)
		}
		assert.Len(t, res.Statuses, 1, "a 401 is not retried")
		assert.NotEmpty(t, res.Errors)
		assert.Equal(t, before, s.count())
		assert.Equal(t, reqs, s.reqs.Load(), "nothing was exported")
	})

	t.Run("Tracking API over HTTP with Sec-GPC", func(t *testing.T) {
		before := s.count()
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(segmentWriteKey+":"))
		code, _, out := post(t, c.url("segment", "/v1/track"),
			[]byte(`{"userId":"usr-e2e-44","event":"Viewed","messageId":"e2e-gpc-1"}`),
			map[string]string{"Authorization": auth, "Sec-GPC": "1"})
		require.Equal(t, 200, code, out)
		assert.JSONEq(t, `{"success":true}`, out)
		// analytics.js style: text/plain, write key in the body.
		code, _, out = post(t, c.url("segment", "/v1/p"),
			[]byte(`{"anonymousId":"anon-e2e","name":"Home","messageId":"e2e-ajs-1","writeKey":"`+segmentWriteKey+`"}`),
			map[string]string{"Content-Type": "text/plain"})
		require.Equal(t, 200, code, out)
		recs := s.records()[before:]
		require.Len(t, recs, 2)
		assert.Equal(t, "true", attrStr(recs[0].Record, ccaas.AttrConsentGPC))
		assert.Equal(t, "page", attrStr(recs[1].Record, ccaas.AttrEventType))
	})

	t.Run("webhook destination: signed events, batches only with the batch header", func(t *testing.T) {
		before := s.count()
		hook := c.url("segment", "/segment/webhook")
		del := []byte(`{"type":"delete","userId":"usr-e2e-42","messageId":"e2e-delete-1","timestamp":"2024-05-03T08:00:00Z"}`)
		code, _, out := post(t, hook, del, map[string]string{"X-Signature": segmentSign(del)})
		require.Equal(t, 200, code, out)
		recs := s.records()
		require.Len(t, recs, before+1)
		erase := recs[before].Record
		assert.Equal(t, ccaas.EventErasureRequested, erase.EventName())
		assert.Equal(t, "true", attrStr(erase, ccaas.AttrErasureRequested))

		first := `{"type":"track","event":"A","userId":"u","messageId":"e2e-b1"}`
		batch := []byte(`[` + first + `,{"type":"track","event":"B","userId":"u","messageId":"e2e-b2"}]`)
		code, _, out = post(t, hook, batch, map[string]string{"X-Signature": segmentSign([]byte(first))})
		assert.Equal(t, 401, code, "Segment signs only the first event of a batch: %s", out)
		code, _, out = post(t, hook, del, map[string]string{"X-Signature": segmentSign(batch)})
		assert.Equal(t, 401, code, out)
		assert.Equal(t, before+1, s.count())
		code, _, out = post(t, hook, batch, map[string]string{"X-Signature": segmentSign([]byte(first)), "X-Consentry-Token": segmentBatchSecret})
		require.Equal(t, 200, code, out)
		assert.JSONEq(t, `{"accepted":2,"duplicates":0}`, out)
		assert.Equal(t, before+3, s.count())
	})

	c.stop(t)
	for _, secret := range []string{segmentWriteKey, segmentShared, segmentBatchSecret} {
		assert.NotContains(t, c.logs.String(), secret)
	}
}
