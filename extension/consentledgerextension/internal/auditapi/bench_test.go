package auditapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/consentry/consentry/internal/ledger"
)

// BenchmarkListingREST measures, over REST on a SQLite ledger of 20,000
// records of 2,000 subjects in 4 tenants: one JSON page of 100, a lookup
// by raw identifier (the subject's 10 records) naming the tenant (one
// subject key) and naming none (a key per configured salt, here 2), and
// the CSV export of one tenant (5,000 rows, 5 pages).
//
//	go test -run '^$' -bench ListingREST -benchtime 20x ./extension/consentledgerextension/internal/auditapi/
func BenchmarkListingREST(b *testing.B) {
	r := newRESTEnv(b, Options{Logger: zap.NewNop()})
	var recs []ledger.Record
	for i := range 20000 {
		tenant := fmt.Sprintf("t%d", i%4+1)
		subject := fmt.Sprintf("key-%s-1555%07d", tenant, i%2000)
		ev := fmt.Sprint("ev-", i)
		recs = append(recs, ledger.Record{Tenant: tenant, Vendor: "genesys", EventID: ev, EventName: "ccaas.recording.available",
			SubjectKey: subject, Reasons: []string{"consent_missing"}, OccurredAt: time.Now(), Payload: payload(b, tenant, subject, ev, "x")})
		if len(recs) == 1000 {
			if _, err := r.l.Append(context.Background(), recs); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	get := func(b *testing.B, path string) int64 {
		req, _ := http.NewRequest(http.MethodGet, r.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+roleTokens["investigator"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		n, _ := io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK || n < 100 {
			b.Fatalf("GET %s: %d, %d bytes", path, resp.StatusCode, n)
		}
		return n
	}
	for _, c := range []struct{ name, path string }{
		{"page_json", "/v1/quarantine/records?tenant=t1&page_size=100"},
		{"raw_identifier_tenant", "/v1/quarantine/records?tenant=t2&raw_identifier=%2B15550000041"},
		{"raw_identifier_all_salts", "/v1/quarantine/records?raw_identifier=%2B15550000041"},
		{"csv_5000_rows", "/v1/quarantine/records?tenant=t3&format=csv"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var bytes int64
			for b.Loop() {
				bytes = get(b, c.path)
			}
			b.ReportMetric(float64(bytes), "bytes/op")
		})
	}
}
