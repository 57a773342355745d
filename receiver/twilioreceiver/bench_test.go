package twilioreceiver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/receiver/twilioreceiver/internal/metadata"
)

func newBenchHandler(b *testing.B) http.Handler {
	b.Helper()
	cfg := testConfig()
	cfg.Dedup.Enabled = false // every iteration sends the same event
	rcv, err := newReceiver(cfg, receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	return rcv.server.Handler()
}

// BenchmarkTaskRouterCallback: a signed ~1.3 KB TaskRouter task.created
// callback (form parsing, signature check, TaskAttributes, normalisation,
// subject key) through the receiver's HTTP handler.
func BenchmarkTaskRouterCallback(b *testing.B) {
	body := fixture(b, "taskrouter_task_created.form")
	sig := signForm(b, testToken, testPublic+PathTaskRouter, body)
	benchmarkRequest(b, PathTaskRouter, formType, body, sig, http.StatusNoContent)
}

// BenchmarkVoiceStatusCallback: a signed ~0.6 KB call status callback.
func BenchmarkVoiceStatusCallback(b *testing.B) {
	body := fixture(b, "voice_status_inbound_completed.form")
	sig := signForm(b, testToken, testPublic+PathVoiceStatus, body)
	benchmarkRequest(b, PathVoiceStatus, formType, body, sig, http.StatusOK)
}

// BenchmarkEventStreamsSingle: a signed Event Streams delivery of one ~1.5
// KB TaskRouter CloudEvent (2.2 KB with its envelope) (bodySHA256 variant).
func BenchmarkEventStreamsSingle(b *testing.B) {
	all := fixture(b, "eventstreams_batch.json")
	// The first CloudEvent of the batch, alone in an array.
	first := bytes.SplitN(all, []byte("\n  },\n  {"), 2)[0]
	body := append(first, []byte("\n  }\n]")...)
	pq, sig := signJSON(b, testToken, testPublic, PathEventStreams, body)
	benchmarkRequest(b, pq, "application/json", body, sig, http.StatusOK)
}

// BenchmarkEventStreamsBatch: the four-event fixture batch (5 KB).
func BenchmarkEventStreamsBatch(b *testing.B) {
	body := fixture(b, "eventstreams_batch.json")
	pq, sig := signJSON(b, testToken, testPublic, PathEventStreams, body)
	benchmarkRequest(b, pq, "application/json", body, sig, http.StatusOK)
}

func benchmarkRequest(b *testing.B, pathQuery, contentType string, body []byte, sig string, want int) {
	h := newBenchHandler(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, pathQuery, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set(HeaderSignature, sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
}
