package auditapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/sqlite"
	"github.com/consentry/consentry/internal/ledger/sqlstore"
)

// restEnv is the service over a SQLite ledger in dir, served over REST.
type restEnv struct {
	*env
	dir string
	url string
	tel *componenttest.Telemetry
}

func newRESTEnv(t testing.TB, opts Options) *restEnv {
	t.Helper()
	dir := t.TempDir()
	b := backend{"sqlite", func(testing.TB) func(ctx context.Context) (*sqlstore.Store, error) {
		return func(ctx context.Context) (*sqlstore.Store, error) {
			return sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "ledger.db"), Synchronous: "NORMAL"})
		}
	}}
	e := newEnvWith(t, b, func(o *Options) {
		if opts.Logger != nil {
			o.Logger = opts.Logger
		}
		o.DenialWindow = opts.DenialWindow
		o.ProgressEvery = opts.ProgressEvery
		o.VerifyLimit = opts.VerifyLimit
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h, err := e.svc.HTTPHandler(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &restEnv{env: e, dir: dir, url: srv.URL, tel: e.tel}
}

func (r *restEnv) do(t *testing.T, method, path, token, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, r.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// grepDir returns the files under dir that contain any of the needles.
func grepDir(t *testing.T, dir string, needles ...string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if strings.Contains(string(b), n) {
				hits = append(hits, fmt.Sprintf("%s holds %q", p, n))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// TestAccessLogNeverStoresRawQuery: a REST call that the gateway rejects
// before decoding it (any unparsable query value) was logged with its raw
// query string in the hash-chained access log, where a phone number, an
// e-mail address or a bearer token passed as a query parameter stayed,
// unerasable. The access log keeps parameter names and redacted, decoded
// values only; never a raw query, path or header value.
func TestAccessLogNeverStoresRawQuery(t *testing.T) {
	r := newRESTEnv(t, Options{DenialWindow: time.Hour})
	phone, email, secret := "+14155550100", "alice.secret@example.org", "sk-live-Z9Y8X7W6V5U4T3S2R1"
	for _, c := range []struct {
		path, token string
		want        int
	}{
		{"/v1/consents?tenant=t1&raw_identifier=" + url.QueryEscape(phone) + "&page_size=many", roleTokens["auditor"], 400},
		{"/v1/quarantine/records?stored_from=" + url.QueryEscape(email), roleTokens["auditor"], 400},
		{"/v1/quarantine/records?access_token=" + secret + "&page_size=x", roleTokens["auditor"], 400},
		{"/v1/quarantine/records?" + url.QueryEscape(phone) + "=1&page_size=x", roleTokens["auditor"], 400},
		{"/v1/quarantine/stats?tenant=" + url.QueryEscape(phone) + "&released=%zz", roleTokens["auditor"], 400},
		{"/v1/quarantine/records?subject_key=" + url.QueryEscape(email) + "&page_size=x", "", 401},
		{"/v1/quarantine/records/" + url.PathEscape(phone) + "?reason=r&page_size=" + secret, roleTokens["investigator"], 400}, // page_size is no parameter of a read
		{"/v1/access-log?identity=carol&from=" + secret, roleTokens["auditor"], 400},
	} {
		resp, body := r.do(t, http.MethodGet, c.path, c.token, "")
		if resp.StatusCode != c.want {
			t.Errorf("GET %s: %d %s, want %d", c.path, resp.StatusCode, body, c.want)
		}
	}
	// An unknown bearer token in the header, and a phone number in a path.
	resp, body := r.do(t, http.MethodGet, "/v1/quarantine/records/"+url.PathEscape(phone)+"?reason=r", secret, "")
	if resp.StatusCode != 401 {
		t.Errorf("unknown token: %d %s", resp.StatusCode, body)
	}
	if err := r.svc.Close(); err != nil { // flushes aggregated denials
		t.Fatal(err)
	}
	needles := []string{phone, url.QueryEscape(phone), url.PathEscape(phone), email, url.QueryEscape(email), secret}
	acc := allAccess(t, r.l)
	if len(acc) == 0 {
		t.Fatal("no access entries")
	}
	for _, e := range acc {
		all := strings.Join([]string{e.Identity, e.Method, e.Target, e.Reason, e.Result}, " | ")
		for _, n := range needles {
			if strings.Contains(all, n) {
				t.Errorf("access entry holds %q: %s", n, all)
			}
		}
	}
	// What was asked is still there: the parameter names, raw identifiers
	// redacted, and which parameters could not be read.
	var named bool
	for _, e := range acc {
		if e.Method == "ListConsents" && strings.Contains(e.Target, `"raw_identifier":"[redacted]"`) && strings.Contains(e.Target, "page_size") && strings.Contains(e.Target, `"tenant":"t1"`) {
			named = true
		}
	}
	if !named {
		t.Errorf("the rejected ListConsents call is not described by its parameter names: %+v", acc)
	}
	if hits := grepDir(t, r.dir, needles...); len(hits) > 0 {
		t.Errorf("plaintext under the data directory:\n%s", strings.Join(hits, "\n"))
	}
}

func metricSum(t *testing.T, tel *componenttest.Telemetry, name string, match map[string]string) int64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	if err != nil {
		t.Fatalf("metric %s: %v", name, err)
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		ok := true
		for k, want := range match {
			if v, _ := dp.Attributes.Value(attribute.Key(k)); v.AsString() != want {
				ok = false
			}
		}
		if ok {
			n += dp.Value
		}
	}
	return n
}

// TestAnonymousCallsCannotGrowTheLedger: every denied call appended a
// committed, chained access-log entry with up to 4 KB of caller text
// through the same writer as the quarantine: about 1,300 anonymous
// requests/s doubled the webhooks' p50 and, sustained, filled the disk.
// Unauthenticated calls are now aggregated per source and window into one
// entry without caller text, and counted in metrics one by one.
func TestAnonymousCallsCannotGrowTheLedger(t *testing.T) {
	r := newRESTEnv(t, Options{DenialWindow: time.Hour})
	before := len(allAccess(t, r.l))
	rowsBefore := r.l.Metrics().Rows
	const grpcCalls, restCalls = 1500, 300
	long := strings.Repeat("x", 4000)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < grpcCalls; i += 4 {
				ctx := context.Background()
				if i%2 == 1 {
					ctx = metadataCtx("Bearer " + fmt.Sprintf("guess-%d", i))
				}
				_, err := r.client.ListQuarantinedRecords(ctx, &consentryv1.ListQuarantinedRecordsRequest{Tenant: long, SubjectKey: long})
				if status.Code(err) != codes.Unauthenticated {
					t.Errorf("anonymous call: %v", err)
					return
				}
			}
		}()
	}
	for range restCalls {
		resp, _ := r.do(t, http.MethodGet, "/v1/quarantine/records?tenant="+long, "", "")
		if resp.StatusCode != 401 {
			t.Fatalf("REST anonymous call: %d", resp.StatusCode)
		}
	}
	wg.Wait()
	if grown := len(allAccess(t, r.l)) - before; grown > 0 {
		t.Errorf("%d anonymous calls wrote %d access entries during the window", grpcCalls+restCalls, grown)
	}
	if got := metricSum(t, r.tel, "consentry.audit.calls", map[string]string{"outcome": "unauthenticated"}); got != grpcCalls+restCalls {
		t.Errorf("consentry.audit.calls{outcome=unauthenticated} = %d, want %d", got, grpcCalls+restCalls)
	}
	if err := r.svc.Close(); err != nil {
		t.Fatal(err)
	}
	acc := allAccess(t, r.l)
	var denied int64
	entries := 0
	for _, e := range acc[:len(acc)-before] {
		if len(e.Target) > maxDenialTarget {
			t.Errorf("aggregated entry's target is %d bytes: %s", len(e.Target), e.Target)
		}
		if strings.Contains(e.Target, "xxxx") {
			t.Errorf("caller text in an unauthenticated call's entry: %s", e.Target)
		}
		var agg struct {
			Denied int64 `json:"denied"`
		}
		if err := json.Unmarshal([]byte(e.Target), &agg); err != nil || !strings.HasPrefix(e.Result, "denied: Unauthenticated") {
			t.Errorf("entry %+v", e)
		}
		denied += agg.Denied
		entries++
	}
	if denied != grpcCalls+restCalls || entries > 4 {
		t.Errorf("%d entries account for %d denials, want a few for %d", entries, denied, grpcCalls+restCalls)
	}
	if rows := r.l.Metrics().Rows - rowsBefore; rows > 4 {
		t.Errorf("the flood committed %d rows", rows)
	}
}

// TestDenialAggregationIsBounded: however many sources an attacker uses,
// a window writes at most maxDenialSources+1 entries.
func TestDenialAggregationIsBounded(t *testing.T) {
	d := newDenials(time.Minute)
	now := time.Unix(1e9, 0)
	for i := range 5 * maxDenialSources {
		d.add(now, fmt.Sprintf("198.51.%d.%d", i/256, i%256), "anonymous", "GetStats")
	}
	entries := d.take()
	if len(entries) > maxDenialSources+1 {
		t.Fatalf("%d entries for one window", len(entries))
	}
	var n int64
	for _, e := range entries {
		n += e.count
	}
	if n != 5*maxDenialSources {
		t.Fatalf("entries account for %d denials, want %d", n, 5*maxDenialSources)
	}
}

// errorBody is the one documented shape of every REST error.
func checkErrorBody(t *testing.T, what string, resp *http.Response, body []byte, wantCode codes.Code) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Errorf("%s: body is not a JSON object: %q", what, body)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "code,details,message" {
		t.Errorf("%s: body has keys %v, want code, message, details: %s", what, keys, body)
		return
	}
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Details []any  `json:"details"`
	}
	if err := json.Unmarshal(body, &e); err != nil || codes.Code(e.Code) != wantCode || e.Message == "" || e.Details == nil {
		t.Errorf("%s: %s, want code %d (%s)", what, body, wantCode, wantCode)
	}
	if wantCode == codes.Unauthenticated && resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("%s: 401 without WWW-Authenticate", what)
	}
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// TestErrorBodyShapeOnEveryRoute: every route of the OpenAPI document
// answers errors in the documented shape ({"code", "message", "details"}),
// the streamed export included (it answered {"error": {...}}).
func TestErrorBodyShapeOnEveryRoute(t *testing.T) {
	r := newRESTEnv(t, Options{})
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(consentryv1.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	routes := 0
	for path, ops := range doc.Paths {
		for method := range ops {
			method = strings.ToUpper(method)
			if method == "PARAMETERS" {
				continue
			}
			p := pathParam.ReplaceAllString(path, "01JD3M0000000000000000000")
			routes++
			resp, body := r.do(t, method, p, "", "{}")
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s without credentials: %d", method, p, resp.StatusCode)
			}
			checkErrorBody(t, method+" "+p+" (401)", resp, body, codes.Unauthenticated)
			resp, body = r.do(t, method, p, "Bearer-less", "{}")
			checkErrorBody(t, method+" "+p+" (bad token)", resp, body, codes.Unauthenticated)
		}
	}
	if routes < 10 {
		t.Fatalf("only %d routes in the OpenAPI document", routes)
	}
	for _, c := range []struct {
		method, path, token, body string
		code                      codes.Code
	}{
		{"POST", "/v1/evidence:export", roleTokens["investigator"], `{"filter":{"tenant":"t1"}}`, codes.InvalidArgument},
		{"POST", "/v1/evidence:export", roleTokens["auditor"], `{"reason":"r"}`, codes.PermissionDenied},
		{"POST", "/v1/evidence:export", roleTokens["investigator"], `{"reason":"r","filter":{"stored_from":"2026-02-01T00:00:00Z","stored_to":"2026-01-01T00:00:00Z"}}`, codes.InvalidArgument},
		{"POST", "/v1/evidence:export", roleTokens["investigator"], `{"reason":`, codes.InvalidArgument},
		{"GET", "/v1/quarantine/records?page_size=x", roleTokens["auditor"], "", codes.InvalidArgument},
		{"GET", "/v1/quarantine/records/01NOPE?reason=x", roleTokens["investigator"], "", codes.NotFound},
		{"POST", "/v1/subjects:erase", roleTokens["auditor"], `{}`, codes.PermissionDenied},
		{"GET", "/v1/no-such-route", roleTokens["auditor"], "", codes.NotFound},
	} {
		resp, body := r.do(t, c.method, c.path, c.token, c.body)
		checkErrorBody(t, c.method+" "+c.path, resp, body, c.code)
	}
}

// TestVerifyLedgerRateLimitedPerIdentity: VerifyLedger reads the whole
// ledger (about 25 µs a record); one identity may run it at most burst
// times per interval, one at a time, and is told when to retry; other
// identities are not affected.
func TestVerifyLedgerRateLimitedPerIdentity(t *testing.T) {
	r := newRESTEnv(t, Options{VerifyLimit: RateLimit{Burst: 2, Every: time.Hour}})
	for i := range 2 {
		if _, err := r.client.VerifyLedger(as("auditor"), &consentryv1.VerifyLedgerRequest{}); err != nil {
			t.Fatalf("verify %d: %v", i, err)
		}
	}
	_, err := r.client.VerifyLedger(as("auditor"), &consentryv1.VerifyLedgerRequest{})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(status.Convert(err).Message(), "retry") {
		t.Fatalf("third verify: %v, want ResourceExhausted", err)
	}
	resp, body := r.do(t, http.MethodPost, "/v1/ledger:verify", roleTokens["auditor"], "{}")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("REST verify over the limit: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	checkErrorBody(t, "verify over the limit", resp, body, codes.ResourceExhausted)
	if _, err := r.client.VerifyLedger(as("admin"), &consentryv1.VerifyLedgerRequest{}); err != nil {
		t.Fatalf("another identity: %v", err)
	}
	// Other methods of the limited identity are not limited.
	if _, err := r.client.GetStats(as("auditor"), &consentryv1.GetStatsRequest{}); err != nil {
		t.Fatal(err)
	}
	acc := allAccess(t, r.l)
	if acc[len(acc)-1].Method == "" || !hasResult(acc, "VerifyLedger", "error: ResourceExhausted") {
		t.Errorf("the refused verify is not in the access log")
	}
}

func hasResult(acc []ledger.AccessEntry, method, result string) bool {
	for _, e := range acc {
		if e.Method == method && strings.HasPrefix(e.Result, result) {
			return true
		}
	}
	return false
}
