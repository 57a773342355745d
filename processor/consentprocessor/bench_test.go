package consentprocessor

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.yaml.in/yaml/v3"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/policy"
	"github.com/consentry/consentry/internal/webhook"
	"github.com/consentry/consentry/processor/consentprocessor/internal/metadata"
	"github.com/consentry/consentry/receiver/genesysreceiver"
)

// The benchmarks use ~1.5 KB Genesys EventBridge events of the local tenant
// of config/policy.yaml, decoded by the genesys receiver's own decoder:
// bench_routing.json is a customer.start (contract basis, no consent lookup
// needed); bench_signal.json also carries RecordingConsent / ConsentAnalytics
// participant data, so every record is looked up and its signals read.
var benchConsentAttrs = map[string]string{"RecordingConsent": "recording", "ConsentAnalytics": "analytics"}

const benchOrg = "00000000-0000-4000-8000-000000000000"

func benchBody(b *testing.B, name string) []byte {
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// withID gives each request its own event id (the receiver de-duplicates).
func withID(body []byte, i int) []byte {
	return bytes.Replace(body, []byte("EVENTID"), []byte("bench-"+strconv.Itoa(i)), 1)
}

// benchDecoder decodes as a genesys receiver configured with the test salt
// and benchConsentAttrs.
func benchDecoder(b *testing.B) webhook.Decoder {
	f := genesysreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*genesysreceiver.Config)
	cfg.SubjectSalt = testSalt
	cfg.ConsentAttributes = benchConsentAttrs
	d, err := genesysreceiver.NewDecoder(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

func benchLogs(b *testing.B, name string) plog.Logs {
	ld, err := benchDecoder(b).Decode("eventbridge", withID(benchBody(b, name), 0), "")
	if err != nil {
		b.Fatal(err)
	}
	return ld
}

func benchEvaluator(b *testing.B, cache consentstore.CacheConfig, minimal bool) *Evaluator {
	pol, err := policy.CompileFile(context.Background(), examplePolicy)
	if err != nil {
		b.Fatal(err)
	}
	return NewEvaluator(pol, EvaluatorSettings{Cache: cache, InteractionMaxEntries: 100_000, InteractionTTL: 1 << 62, MinimalForwarded: minimal})
}

// BenchmarkEvaluator measures the processor's work per record (one record
// per batch, the receivers' shape): read the record, recall the
// interaction, look up consent, evaluate, write the 12 consent.*
// attributes.
func BenchmarkEvaluator(b *testing.B) {
	cached := consentstore.CacheConfig{TTL: 1 << 62, NegativeTTL: 1 << 62, MaxEntries: 100_000}
	for _, bc := range []struct {
		name, body string
		cache      consentstore.CacheConfig
		wantLookup bool
		minimal    bool
	}{
		{"no_lookup", "bench_routing.json", cached, false, false},
		{"cache_hit", "bench_signal.json", cached, true, false},
		{"store_miss", "bench_signal.json", consentstore.CacheConfig{MaxEntries: 1}, true, false},
		{"cache_hit_minimal", "bench_signal.json", cached, true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := benchEvaluator(b, bc.cache, bc.minimal)
			ld := benchLogs(b, bc.body)
			ctx := context.Background()
			e.ProcessLogs(ctx, ld) // learn the signal once
			lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
			if got, _ := lr.Attributes().Get(ccaas.AttrConsentDecision); got.Str() != policy.DecisionForward {
				b.Fatalf("decision %s", got.Str())
			}
			before := e.Store().Stats()
			b.ReportAllocs()
			for b.Loop() {
				e.ProcessLogs(ctx, ld)
			}
			st := e.Store().Stats()
			lookups := st.Hits + st.NegativeHits + st.Misses - before.Hits - before.NegativeHits - before.Misses
			if (lookups > 0) != bc.wantLookup {
				b.Fatalf("lookups %d, want lookups: %v (%+v)", lookups, bc.wantLookup, st)
			}
			if bc.cache.TTL == 0 && st.Misses-before.Misses != lookups {
				b.Fatalf("every lookup must miss: %+v", st)
			}
		})
	}
}

// BenchmarkProcessorComponent adds the processorhelper wrapper (obsreport,
// the collector's in/out counters) and the processor's metrics.
func BenchmarkProcessorComponent(b *testing.B) {
	for _, attrs := range []string{AttributesFull, AttributesMinimal} {
		b.Run(attrs, func(b *testing.B) { benchComponent(b, attrs) })
	}
}

func benchComponent(b *testing.B, attrs string) {
	cfg := exampleConfig()
	cfg.ForwardedAttributes = attrs
	proc, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	if err := proc.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = proc.Shutdown(context.Background()) })
	ld := benchLogs(b, "bench_signal.json")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := proc.ConsumeLogs(ctx, ld); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode is the genesys receiver's decoding of the same event
// (JSON, normalisation, subject key): a lower bound of the forward path
// without HTTP, authentication or de-duplication.
func BenchmarkDecode(b *testing.B) {
	body := withID(benchBody(b, "bench_signal.json"), 0)
	d := benchDecoder(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode("eventbridge", body, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForwardPath posts the event to a real genesys receiver over
// loopback HTTP (keep-alive; the client's own cost is included) whose next
// consumer is either nothing or the consent processor. The difference is
// the processor's share of the forward path.
func BenchmarkForwardPath(b *testing.B) {
	for _, mode := range []string{"", AttributesFull, AttributesMinimal} {
		name := "receiver_only"
		if mode != "" {
			name = "receiver_consent_" + mode
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			var next consumer.Logs = consumertest.NewNop()
			if mode != "" {
				cfg := exampleConfig()
				cfg.ForwardedAttributes = mode
				proc, err := NewFactory().CreateLogs(ctx, processortest.NewNopSettings(metadata.Type), cfg, next)
				if err != nil {
					b.Fatal(err)
				}
				if err := proc.Start(ctx, componenttest.NewNopHost()); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = proc.Shutdown(ctx) })
				next = proc
			}
			url := startGenesys(b, next)
			body := benchBody(b, "bench_signal.json")
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(withID(body, i)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-API-Key", "bench-key")
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
}

// startGenesys starts a genesys receiver through its public factory and
// returns its EventBridge URL.
func startGenesys(b *testing.B, next consumer.Logs) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	f := genesysreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*genesysreceiver.Config)
	cfg.NetAddr.Endpoint = addr
	cfg.SubjectSalt = testSalt
	cfg.ConsentAttributes = benchConsentAttrs
	cfg.Tenants = []genesysreceiver.TenantConfig{{OrganizationID: benchOrg, APIKeys: []configopaque.String{"bench-key"}}}
	rcv, err := f.CreateLogs(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, next)
	if err != nil {
		b.Fatal(err)
	}
	if err := rcv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = rcv.Shutdown(context.Background()) })
	return "http://" + addr + genesysreceiver.PathEventBridge
}

// manyTenantsPolicy is the example policy with n Genesys tenants: the
// local one last, after n-1 others like it, and the genesys processor
// touching every one of them by name.
func manyTenantsPolicy(b *testing.B, n int) *policy.Policy {
	src, err := os.ReadFile(examplePolicy)
	if err != nil {
		b.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		b.Fatal(err)
	}
	tenants := doc["tenants"].([]any)
	var local map[string]any
	for _, t := range tenants {
		if m := t.(map[string]any); strings.Contains(fmt.Sprint(m["id"]), benchOrg) {
			local = m
		}
	}
	if local == nil {
		b.Fatal("the example policy has no tenant " + benchOrg)
	}
	ids := []any{}
	var extra []any
	for i := range n - 1 {
		t := maps.Clone(local)
		t["id"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
		t["name"] = fmt.Sprintf("bench tenant %d", i)
		delete(t, "consent_scope")
		extra = append(extra, t)
		ids = append(ids, t["id"])
	}
	doc["tenants"] = append(extra, tenants...)
	if n > 1 {
		for _, p := range doc["processors"].([]any) {
			if m := p.(map[string]any); m["id"] == "genesys" {
				touches := m["touches"].(map[string]any)
				touches["tenants"] = append(ids, benchOrg)
			}
		}
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		b.Fatal(err)
	}
	pol, err := policy.CompileBytes(context.Background(), "many-tenants.yaml", out)
	if err != nil {
		b.Fatal(err)
	}
	return pol
}

// BenchmarkEvaluatorTenants is BenchmarkEvaluator's cache_hit with the
// example policy (1 Genesys tenant of this kind) and with 1,000 tenants
// and a processor that names all of them: tenants and the tenants a
// processor touches are found by hash, so the cost per record must not
// grow with them.
func BenchmarkEvaluatorTenants(b *testing.B) {
	cached := consentstore.CacheConfig{TTL: 1 << 62, NegativeTTL: 1 << 62, MaxEntries: 100_000}
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("tenants=%d", n), func(b *testing.B) {
			e := NewEvaluator(manyTenantsPolicy(b, n), EvaluatorSettings{Cache: cached, InteractionMaxEntries: 100_000, InteractionTTL: 1 << 62})
			b.Cleanup(e.Close)
			ld := benchLogs(b, "bench_signal.json")
			ctx := context.Background()
			e.ProcessLogs(ctx, ld)
			lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
			if got, _ := lr.Attributes().Get(ccaas.AttrConsentDecision); got.Str() != policy.DecisionForward {
				b.Fatalf("decision %s", got.Str())
			}
			b.ReportAllocs()
			for b.Loop() {
				e.ProcessLogs(ctx, ld)
			}
		})
	}
}

// BenchmarkEvaluatorFresh is the processor's work per record as in the
// running collector: every record is new (its own interaction, so the
// interaction memory learns one per record; subjects spread over 10,000,
// cached after their first lookup) and carries no consent.* attribute yet.
// Fresh copies are made outside the timer, 4,096 at a time.
func BenchmarkEvaluatorFresh(b *testing.B) {
	for _, bc := range []struct{ name, body string }{
		{"routing", "bench_routing.json"},
		{"signal", "bench_signal.json"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cached := consentstore.CacheConfig{TTL: 1 << 62, NegativeTTL: 1 << 62, MaxEntries: 100_000}
			e := benchEvaluator(b, cached, false)
			src := benchLogs(b, bc.body)
			ctx := context.Background()
			const chunk = 4096
			fresh := make([]plog.Logs, chunk)
			ids := make([]string, 0, 1<<16)
			for i := range cap(ids) {
				ids = append(ids, fmt.Sprintf("conv-%08x", i))
			}
			subjects := make([]string, 10_000)
			for i := range subjects {
				subjects[i] = fmt.Sprintf("sk-%06d", i)
			}
			n := 0
			refill := func() {
				for i := range fresh {
					ld := plog.NewLogs()
					src.CopyTo(ld)
					a := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
					a.PutStr(ccaas.AttrInteractionID, ids[n%len(ids)])
					a.PutStr(ccaas.AttrSubjectKey, subjects[n%len(subjects)])
					fresh[i] = ld
					n++
				}
			}
			refill()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i == chunk {
					b.StopTimer()
					refill()
					i = 0
					b.StartTimer()
				}
				e.ProcessLogs(ctx, fresh[i])
				i++
			}
		})
	}
}
