package genesysreceiver

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
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/internal/tenant/tenanttest"
	"github.com/consentry/consentry/receiver/genesysreceiver/internal/metadata"
)

const benchFixture = "eventbridge_bench_1500.json"

// benchBodies returns n copies of the ~1.5 KB EventBridge event, each with
// its own event id (the same length), so de-duplication never short-cuts.
func benchBodies(b *testing.B, n int) [][]byte {
	base := fixture(b, benchFixture)
	const id = "4f1d7c3e-1111-4c2b-9a8e-6d5c4b3a2f10"
	if !bytes.Contains(base, []byte(id)) {
		b.Fatal("fixture id not found")
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = bytes.Replace(base, []byte(id), []byte(fmt.Sprintf("%s%08d", id[:len(id)-8], i)), 1)
	}
	return out
}

// BenchmarkRequestPath measures the receiver's own work for one 1.5 KB
// EventBridge event: authenticate, parse, normalise, derive the subject key
// and jurisdiction, de-duplicate, hand to the next consumer, answer.
func BenchmarkRequestPath(b *testing.B) {
	rcv, err := newReceiver(testConfig(), receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	benchEventBridge(b, rcv.server.Handler())
}

// BenchmarkRequestPathHTTP adds the real server (confighttp middleware,
// net/http over loopback with keep-alive); the client's cost is included.
func BenchmarkRequestPathHTTP(b *testing.B) {
	cfg := testConfig()
	rcv, err := newReceiver(cfg, receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	if err := rcv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = rcv.Shutdown(context.Background()) })
	url := "http://" + rcv.server.Addr().String() + PathEventBridge
	bodies := benchBodies(b, 1<<16)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.SetBytes(int64(len(bodies[0])))
	b.ReportAllocs()
	b.ResetTimer()
	var next int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(atomicAdd(&next))
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(bodies[i%len(bodies)]))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-API-Key", testAPIKey)
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

func atomicAdd(p *int64) int64 { return atomic.AddInt64(p, 1) }

// BenchmarkRequestPathTenants is BenchmarkRequestPath with 1 and with
// 1,000 organizations configured (the event's organization listed last):
// the credential lookup and the subject keyer are found by hash, so the
// cost per request must not grow with the tenants.
func BenchmarkRequestPathTenants(b *testing.B) {
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("tenants=%d", n), func(b *testing.B) {
			cfg := testConfig()
			var many []TenantConfig
			for i := range n - 1 {
				many = append(many, TenantConfig{
					OrganizationID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1),
					APIKeys:        []configopaque.String{configopaque.String(fmt.Sprintf("bench-api-key-%06d", i))},
				})
			}
			cfg.Tenants = append(many, cfg.Tenants[0])
			rcv, err := newReceiver(cfg, receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			benchEventBridge(b, rcv.server.Handler())
		})
	}
}

// BenchmarkTenantsFile: 1,000 organizations from a tenants file (each API
// key an ${env:..} reference), the event's organization listed: the
// request path (one atomic load more than listed tenants), and what a
// reload costs (read, resolve, decode, validate, build the lookups).
func BenchmarkTenantsFile(b *testing.B) {
	const n = 1000
	cfg := testConfig()
	cfg.Tenants[0].BasicAuth[0].Password = "basic-password-0123456789"
	cfg.TenantsFile = tenanttest.WriteMany(b, b.TempDir(), "genesys", "api_keys", n)
	b.Run("request", func(b *testing.B) {
		rcv, err := newReceiver(cfg, receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
		if err != nil {
			b.Fatal(err)
		}
		benchEventBridge(b, rcv.server.Handler())
	})
	b.Run("reload", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rcv, err := newReceiver(cfg, receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := rcv.live.Load().tokens.Lookup(tenanttest.Secret(n - 1)); !ok {
				b.Fatal("the last tenant's key is not served")
			}
		}
	})
}

// benchEventBridge posts EventBridge batches of testOrg to h, through the
// handler without a network.
func benchEventBridge(b *testing.B, h http.Handler) {
	bodies := benchBodies(b, 1<<16)
	b.SetBytes(int64(len(bodies[0])))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, PathEventBridge, bytes.NewReader(bodies[i%len(bodies)]))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", testAPIKey)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		i++
	}
}
