package segmentreceiver

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/receiver/segmentreceiver/internal/metadata"
)

// benchBodies makes n distinct copies of a fixture (distinct messageIds, so
// de-duplication never short-cuts the path) with their headers.
func benchBodies(b *testing.B, name string, n int, headers func([]byte) map[string]string) ([][]byte, []map[string]string) {
	base := fixture(b, name)
	bodies := make([][]byte, n)
	hdrs := make([]map[string]string, n)
	for i := range bodies {
		bodies[i] = bytes.Replace(base, []byte(`"messageId":"`), []byte(fmt.Sprintf(`"messageId":"%06d-`, i)), -1)
		hdrs[i] = headers(bodies[i])
	}
	return bodies, hdrs
}

// benchHandler is the receiver's handler without the confighttp middleware:
// content-type and size checks, authentication, parsing, normalisation,
// de-duplication and ConsumeLogs into a no-op consumer.
func benchHandler(b *testing.B) http.Handler {
	cfg := testConfig()
	// Small enough that a body's key is evicted before the bodies cycle.
	cfg.Dedup.MaxEntries = 1024
	rcv, err := NewFactory().CreateLogs(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(b, err)
	return rcv.(*segmentReceiver).server.Handler()
}

func runBench(b *testing.B, path string, bodies [][]byte, hdrs []map[string]string) {
	h := benchHandler(b)
	b.SetBytes(int64(len(bodies[0])))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(bodies)
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(bodies[j]))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdrs[j] {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
	}
}

// BenchmarkWebhookEvent: one signed ~1.5 KB analytics.js track event, as the
// Segment webhook destination delivers it.
func BenchmarkWebhookEvent(b *testing.B) {
	bodies, hdrs := benchBodies(b, "webhook_track.json", 4096, func(body []byte) map[string]string { return signed(testShared, body) })
	runBench(b, PathWebhook, bodies, hdrs)
}

// BenchmarkTrackingEvent: the same event posted by an SDK to /v1/track with
// its write key (HTTP Basic).
func BenchmarkTrackingEvent(b *testing.B) {
	bodies, hdrs := benchBodies(b, "webhook_track.json", 4096, func([]byte) map[string]string { return basic(testWriteKey) })
	runBench(b, "/v1/track", bodies, hdrs)
}

// BenchmarkTrackingBatch: an analytics-node batch of three events.
func BenchmarkTrackingBatch(b *testing.B) {
	bodies, hdrs := benchBodies(b, "tracking_batch.json", 4096, func([]byte) map[string]string { return basic(testWriteKey) })
	runBench(b, "/v1/batch", bodies, hdrs)
}
