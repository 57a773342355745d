package auditapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
	"github.com/consentry/consentry/connector/consentrouterconnector"
	"github.com/consentry/consentry/exporter/quarantineexporter"
)

// TestUnknownQueryParameter: a misspelt query parameter (?tenat=x) was
// ignored and the call answered for every tenant. On every REST route a
// parameter the route does not take is refused with 400 naming it (after
// authentication: an unknown caller still gets 401), and the attempt is
// in the access log without the parameter's name or value.
func TestUnknownQueryParameter(t *testing.T) {
	r := newRESTEnv(t, Options{DenialWindow: time.Hour})
	ids := appendRecords(t, r.l, "t1", "s-1", 1)
	routes := restRoutes()
	if len(routes) != len(methodSpecs) {
		t.Fatalf("%d REST routes for %d methods", len(routes), len(methodSpecs))
	}
	before := len(allAccess(t, r.l))
	var calls int
	for _, rt := range routes {
		path := strings.Replace(rt.path, "{id}", ids[0], 1)
		resp, body := r.do(t, rt.verb, path+"?tenat=t2", roleTokens["admin"], "{}")
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || e.Code != int(codes.InvalidArgument) || !strings.Contains(e.Message, `"tenat"`) {
			t.Errorf("%s %s?tenat=: %d %s, want 400 naming tenat", rt.verb, rt.path, resp.StatusCode, body)
		}
		if resp, body := r.do(t, rt.verb, path+"?tenat=t2", "", "{}"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s?tenat= without a token: %d %s, want 401", rt.verb, rt.path, resp.StatusCode, body)
		}
		calls++
	}
	// What the routes do take still works, in proto and JSON names.
	for _, p := range []string{"/v1/quarantine/records?tenant=t1&page_size=5", "/v1/quarantine/records?pageSize=5&eventName=x",
		"/v1/quarantine/records/" + ids[0] + "?reason=r", "/v1/consents?tenant=t1", "/v1/access-log?identity=x&from=2026-01-01T00:00:00Z"} {
		if resp, body := r.do(t, http.MethodGet, p, roleTokens["admin"], ""); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", p, resp.StatusCode, body)
		}
	}
	acc := allAccess(t, r.l)
	var refused int
	for _, e := range acc[:len(acc)-before] {
		if e.Identity == "admin@example.org" && e.Result == "error: InvalidArgument" {
			refused++
			if strings.Contains(e.Target+e.Reason, "tenat") || strings.Contains(e.Target, "t2") || !strings.Contains(e.Target, `"unknown_parameters":1`) {
				t.Errorf("access entry of a refused call: %+v", e)
			}
		}
	}
	if refused != calls {
		t.Errorf("%d refused calls in the access log, want %d", refused, calls)
	}
}

// TestUnknownFilterValue: a filter value no record can have (a vendor, a
// reason code, a released state, an access-log method) is refused with
// 400 naming the parameter, over REST and gRPC alike, rather than
// answering with nothing.
func TestUnknownFilterValue(t *testing.T) {
	r := newRESTEnv(t, Options{DenialWindow: time.Hour})
	for _, c := range []struct{ path, param string }{
		{"/v1/quarantine/records?vendor=genesis", "vendor"},
		{"/v1/quarantine/records?reason=no_consent", "reason"},
		{"/v1/quarantine/records?released=maybe", "released"},
		{"/v1/quarantine/stats?vendor=Twilio", "vendor"},
		{"/v1/access-log?method=GetRecord", "method"},
	} {
		resp, body := r.do(t, http.MethodGet, c.path, roleTokens["auditor"], "")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), c.param+`: \"`) {
			t.Errorf("GET %s: %d %s, want 400 naming %s", c.path, resp.StatusCode, body, c.param)
		}
	}
	for _, p := range []string{"/v1/quarantine/records?vendor=twilio&reason=consent_missing&released=unreleased", "/v1/quarantine/records?reason=router.invalid_decision", "/v1/access-log?method=ListQuarantinedRecords", "/v1/access-log?method=several"} {
		if resp, body := r.do(t, http.MethodGet, p, roleTokens["auditor"], ""); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", p, resp.StatusCode, body)
		}
	}
	ctx := as("investigator")
	_, err := r.client.ExportEvidence(ctx, &consentryv1.ExportEvidenceRequest{Reason: "r", Filter: &consentryv1.RecordFilter{Vendor: "genesis"}})
	if err == nil {
		_, err = recvAll(r.client, ctx, &consentryv1.ExportEvidenceRequest{Reason: "r", Filter: &consentryv1.RecordFilter{Vendor: "genesis"}})
	}
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "vendor") {
		t.Errorf("gRPC export with an unknown vendor: %v", err)
	}
	_, err = r.client.ListAccessLog(as("auditor"), &consentryv1.ListAccessLogRequest{Method: "Nope"})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("gRPC access log with an unknown method: %v", err)
	}
}

func recvAll(c consentryv1.AuditServiceClient, ctx context.Context, req *consentryv1.ExportEvidenceRequest) (int, error) {
	st, err := c.ExportEvidence(ctx, req)
	n := 0
	for err == nil {
		_, err = st.Recv()
		n++
	}
	return n, err
}

// TestComponentReasonsInStep: the reason codes other components write are
// known to the filter.
func TestComponentReasonsInStep(t *testing.T) {
	for _, r := range []string{quarantineexporter.ReasonMissingIdentity, quarantineexporter.ReasonNoReasons, consentrouterconnector.ReasonInvalidDecision} {
		if !slices.Contains(componentReasons, r) {
			t.Errorf("reason %q is not in componentReasons", r)
		}
	}
}

// TestOpenAPIv3MatchesRoutes: the OpenAPI 3 document describes every REST
// route with its method, and the query parameters each takes.
func TestOpenAPIv3MatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(consentryv1.OpenAPIv3, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %q %v", doc.OpenAPI, err)
	}
	for _, rt := range restRoutes() {
		op, ok := doc.Paths[rt.path][strings.ToLower(rt.verb)]
		if !ok {
			t.Errorf("%s %s is not in openapi.v3.json", rt.verb, rt.path)
			continue
		}
		var query []string
		for _, p := range op.Parameters {
			if p.In == "query" && p.Name != "format" {
				query = append(query, strings.SplitN(p.Name, ".", 2)[0])
			}
		}
		slices.Sort(query)
		if query = slices.Compact(query); !slices.Equal(query, rt.params) {
			t.Errorf("%s %s: the document's query parameters %v, the route's %v", rt.verb, rt.path, query, rt.params)
		}
	}
	n := 0
	for _, ops := range doc.Paths {
		n += len(ops)
	}
	if n != len(restRoutes()) {
		t.Errorf("the document has %d operations on the routes' paths, there are %d routes", n, len(restRoutes()))
	}
}
