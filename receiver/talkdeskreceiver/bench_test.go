package talkdeskreceiver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/receiver/talkdeskreceiver/internal/metadata"
)

const benchFixture = "webhook_bench_1500.json"

// benchBodies returns n copies of the ~1.5 KB inboundCallEnds payload, each
// with its own call id (the same length), so de-duplication never
// short-cuts.
func benchBodies(b *testing.B, n int) [][]byte {
	base := fixture(b, benchFixture)
	const id = "CA6f3c2a1b9d8e7f60514233a2b1c0d9e8"
	if !bytes.Contains(base, []byte(id)) {
		b.Fatal("fixture call id not found")
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = bytes.Replace(base, []byte(id), []byte(fmt.Sprintf("%s%08d", id[:len(id)-8], i)), 1)
	}
	return out
}

// BenchmarkRequestPath measures the receiver's own work for one 1.5 KB
// inboundCallEnds callback with a recording URL: authenticate the header
// token, parse, normalise into two records (call end and recording), derive
// the subject key and jurisdiction, de-duplicate, hand to the next
// consumer, answer.
func BenchmarkRequestPath(b *testing.B) {
	rcv, err := newReceiver(testConfig(b), receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	h := rcv.server.Handler()
	bodies := benchBodies(b, 1<<16)
	b.SetBytes(int64(len(bodies[0])))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, webhookPath("inboundCallEnds"), bytes.NewReader(bodies[i%len(bodies)]))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(testHeaderName, testToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		i++
	}
}

// BenchmarkRequestPathEvents is the same for a signed Events API delivery
// (ECDSA P-256 / SHA-512 verification dominates).
func BenchmarkRequestPathEvents(b *testing.B) {
	k, _ := signingKeys(b)
	rcv, err := newReceiver(testConfig(b), receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	h := rcv.server.Handler()
	base := fixture(b, "events_app_installed.json")
	const n = 1 << 12
	bodies := make([][]byte, n)
	sigs := make([]map[string]string, n)
	for i := range bodies {
		bodies[i] = bytes.Replace(base, []byte(`"id": "8b62e0c6001548d7b59f8240d79cb0d7"`), []byte(fmt.Sprintf(`"id": "8b62e0c6001548d7b59f8240%08d"`, i)), 1)
		sigs[i] = sign(b, k, testKeyID, bodies[i])
	}
	b.SetBytes(int64(len(bodies[0])))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, PathEvents, bytes.NewReader(bodies[i%n]))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range sigs[i%n] {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		i++
	}
}

// BenchmarkRequestPathHTTP adds the real server (confighttp middleware,
// net/http over loopback with keep-alive); the client's cost is included.
func BenchmarkRequestPathHTTP(b *testing.B) {
	rcv, err := newReceiver(testConfig(b), receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	if err := rcv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = rcv.Shutdown(context.Background()) })
	url := "http://" + rcv.server.Addr().String() + webhookPath("inboundCallEnds")
	bodies := benchBodies(b, 1<<16)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.SetBytes(int64(len(bodies[0])))
	b.ReportAllocs()
	b.ResetTimer()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1))
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(bodies[i%len(bodies)]))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(testHeaderName, testToken)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}
