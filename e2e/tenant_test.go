package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
)

// Two businesses on one collector: acme (Genesys organization
// localGenesysOrg) and globex (another organization).
const (
	globexGenesysOrg = "11111111-1111-4111-8111-111111111111"
	globexGenesysKey = "e2e-genesys-api-key-globex"

	acmeAuditorToken      = "e2e-acme-auditor-token-0123456789"
	acmeInvestigatorToken = "e2e-acme-investigator-token-0123456789"
	acmeCustodianToken    = "e2e-acme-custodian-token-0123456789"
	globexAuditorToken    = "e2e-globex-auditor-token-0123456789"
	staffToken            = "e2e-staff-admin-token-0123456789"
)

// tenantConfig: one Genesys receiver with both organizations, the example
// policy, and the auditor API over REST and gRPC with tenant-scoped
// identities.
var tenantConfig = `
extensions:
` + healthExtension + `  consent_ledger:
    sqlite:
      path: {{.Dir}}/ledger.db
    keys:
      - id: e2e
        key: ${env:E2E_LEDGER_KEY}
    api:
      http:
        endpoint: 127.0.0.1:{{.Ports.otlp}}
      grpc:
        endpoint: 127.0.0.1:{{.Ports.grpc}}
      subject_salt: ${env:E2E_SUBJECT_SALT}
      auth:
        tokens:
          - {identity: acme-auditor, role: auditor, tenants: ["` + localGenesysOrg + `"], sha256: ` + hashToken(acmeAuditorToken) + `}
          - {identity: acme-investigator, role: investigator, tenants: ["` + localGenesysOrg + `"], sha256: ` + hashToken(acmeInvestigatorToken) + `}
          - {identity: acme-custodian, role: custodian, tenants: ["` + localGenesysOrg + `"], sha256: ` + hashToken(acmeCustodianToken) + `}
          - {identity: globex-auditor, role: auditor, tenants: ["` + globexGenesysOrg + `"], sha256: ` + hashToken(globexAuditorToken) + `}
          - {identity: staff, role: admin, tenants: ["*"], sha256: ` + hashToken(staffToken) + `}
receivers:
  genesys:
    endpoint: 127.0.0.1:{{.Ports.genesys}}
    subject_salt: ${env:E2E_SUBJECT_SALT}
    tenants:
      - organization_id: ` + localGenesysOrg + `
        api_keys: ["` + genesysKey + `"]
      - organization_id: ` + globexGenesysOrg + `
        api_keys: ["` + globexGenesysKey + `"]
` + genesysLedgerPipelines

// startTenants starts a collector with tenantConfig (the gRPC port among
// ports) and sends it both organizations' calls, quarantined (the example
// policy does not know globex; acme's call is in an all-party state). The
// caller is the same in both (one subject salt: one subject key).
func startTenants(t *testing.T) (*collector, map[string]int) {
	t.Helper()
	fwd := newSink(t)
	policy, err := filepath.Abs("../config/policy.yaml")
	require.NoError(t, err)
	ports := map[string]int{}
	for _, name := range []string{"genesys", "twilio", "segment", "talkdesk", "otlp", "grpc", "health", "metrics"} {
		ports[name] = freePort(t)
	}
	c := startCollector(t, tenantConfig, map[string]any{"Forward": fwd.url, "Policy": policy, "Dir": t.TempDir(), "Ports": ports}, ledgerEnv...)
	for org, key := range map[string]string{localGenesysOrg: genesysKey, globexGenesysOrg: globexGenesysKey} {
		body := withOrg(fixture(t, "genesys", "eventbridge_batch.json"), org)
		code, _, out := post(t, c.url("genesys", "/genesys/eventbridge"), body, map[string]string{"X-API-Key": key})
		require.Equal(t, http.StatusOK, code, out)
	}
	return c, ports
}

// TestTenantIsolation: on one collector holding two businesses' records,
// acme's auditor, investigator and custodian cannot list, read, export,
// count or erase globex's records, over REST and over gRPC; their listings,
// statistics and exports without a tenant hold only acme's records; every
// attempt is in the access log, where globex's auditor finds the attempts
// on globex and nothing of acme's.
func TestTenantIsolation(t *testing.T) {
	c, ports := startTenants(t)
	api := c.url("otlp", "")
	var all struct {
		Records []auditRecord `json:"records"`
	}
	code, out := rest(t, http.MethodGet, api+"/v1/quarantine/records?page_size=1000", staffToken, nil, &all)
	require.Equal(t, http.StatusOK, code, out)
	var acmeRec, globexRec auditRecord
	counts := map[string]int{}
	for _, r := range all.Records {
		counts[r.Tenant]++
		switch {
		case r.Tenant == localGenesysOrg && acmeRec.ID == "":
			acmeRec = r
		case r.Tenant == globexGenesysOrg && r.SubjectKey != "" && globexRec.ID == "":
			globexRec = r
		}
	}
	require.NotEmpty(t, acmeRec.ID, out)
	require.NotEmpty(t, globexRec.ID, "a globex record with a subject: %s", out)

	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", ports["grpc"]), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	gc := consentryv1.NewAuditServiceClient(conn)
	as := func(token string) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		t.Cleanup(cancel)
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	globexSubject := map[string]string{"tenant": globexGenesysOrg, "subject_key": globexRec.SubjectKey}

	// Every attempt on globex, over REST and over gRPC: 403.
	type attempt struct{ identity, method string }
	var attempts []attempt
	restDenied := func(identity, method, httpMethod, path, token string, body any) {
		t.Helper()
		code, out := rest(t, httpMethod, api+path, token, body, nil)
		assert.Equal(t, http.StatusForbidden, code, "REST %s %s by %s: %s", httpMethod, path, identity, out)
		assert.NotContains(t, out, globexRec.EventID, "a refusal says nothing of the record")
		attempts = append(attempts, attempt{identity, method})
	}
	grpcDenied := func(identity, method string, err error) {
		t.Helper()
		assert.Equal(t, codes.PermissionDenied, status.Code(err), "gRPC %s by %s: %v", method, identity, err)
		attempts = append(attempts, attempt{identity, method})
	}
	restDenied("acme-auditor", "ListQuarantinedRecords", http.MethodGet, "/v1/quarantine/records?tenant="+globexGenesysOrg, acmeAuditorToken, nil)
	restDenied("acme-auditor", "GetStats", http.MethodGet, "/v1/quarantine/stats?tenant="+globexGenesysOrg, acmeAuditorToken, nil)
	restDenied("acme-investigator", "GetQuarantinedRecord", http.MethodGet, "/v1/quarantine/records/"+globexRec.ID+"?reason=curious", acmeInvestigatorToken, nil)
	restDenied("acme-investigator", "ExportEvidence", http.MethodPost, "/v1/evidence:export", acmeInvestigatorToken,
		map[string]any{"filter": map[string]string{"tenant": globexGenesysOrg}, "reason": "curious"})
	restDenied("acme-custodian", "EraseSubject", http.MethodPost, "/v1/subjects:erase", acmeCustodianToken,
		map[string]any{"subject": globexSubject, "reason": "curious"})
	restDenied("acme-custodian", "ReleaseRecords", http.MethodPost, "/v1/quarantine/records:release", acmeCustodianToken,
		map[string]any{"subject": globexSubject, "reason": "curious"})
	restDenied("acme-custodian", "RecordConsent", http.MethodPost, "/v1/consents", acmeCustodianToken,
		map[string]any{"subject": map[string]string{"tenant": "genesys/" + globexGenesysOrg, "subject_key": globexRec.SubjectKey}, "status": "withdrawn", "purposes": []string{"essential.service"}})
	restDenied("acme-custodian", "Purge", http.MethodPost, "/v1/ledger:purge", acmeCustodianToken,
		map[string]any{"older_than": "2001-01-01T00:00:00Z", "reason": "every tenant"})

	_, err = gc.ListQuarantinedRecords(as(acmeAuditorToken), &consentryv1.ListQuarantinedRecordsRequest{Tenant: globexGenesysOrg})
	grpcDenied("acme-auditor", "ListQuarantinedRecords", err)
	_, err = gc.GetStats(as(acmeAuditorToken), &consentryv1.GetStatsRequest{Tenant: globexGenesysOrg})
	grpcDenied("acme-auditor", "GetStats", err)
	_, err = gc.GetQuarantinedRecord(as(acmeInvestigatorToken), &consentryv1.GetQuarantinedRecordRequest{Id: globexRec.ID, Reason: "curious"})
	grpcDenied("acme-investigator", "GetQuarantinedRecord", err)
	st, err := gc.ExportEvidence(as(acmeInvestigatorToken), &consentryv1.ExportEvidenceRequest{Filter: &consentryv1.RecordFilter{Tenant: globexGenesysOrg}, Reason: "curious"})
	if err == nil {
		_, err = st.Recv()
	}
	grpcDenied("acme-investigator", "ExportEvidence", err)
	_, err = gc.EraseSubject(as(acmeCustodianToken), &consentryv1.EraseSubjectRequest{Subject: &consentryv1.Subject{Tenant: globexGenesysOrg, SubjectKey: globexRec.SubjectKey}, Reason: "curious"})
	grpcDenied("acme-custodian", "EraseSubject", err)
	_, err = gc.ListConsents(as(acmeAuditorToken), &consentryv1.ListConsentsRequest{Tenant: "genesys/" + globexGenesysOrg})
	grpcDenied("acme-auditor", "ListConsents", err)

	// Without a tenant, acme's people see acme's records only.
	var mine struct {
		Records []auditRecord `json:"records"`
	}
	code, out = rest(t, http.MethodGet, api+"/v1/quarantine/records?page_size=1000", acmeAuditorToken, nil, &mine)
	require.Equal(t, http.StatusOK, code, out)
	assert.Len(t, mine.Records, counts[localGenesysOrg])
	assert.NotContains(t, out, globexGenesysOrg)
	lr, err := gc.ListQuarantinedRecords(as(acmeAuditorToken), &consentryv1.ListQuarantinedRecordsRequest{PageSize: 1000})
	require.NoError(t, err)
	assert.Len(t, lr.Records, counts[localGenesysOrg])
	for _, r := range lr.Records {
		assert.Equal(t, localGenesysOrg, r.Tenant)
	}
	var stats struct {
		Total    string `json:"total"`
		ByTenant []struct {
			Key string `json:"key"`
		} `json:"by_tenant"`
	}
	code, out = rest(t, http.MethodGet, api+"/v1/quarantine/stats", acmeAuditorToken, nil, &stats)
	require.Equal(t, http.StatusOK, code, out)
	assert.Equal(t, fmt.Sprint(counts[localGenesysOrg]), stats.Total, "stats count acme's records only: %s", out)
	assert.NotContains(t, out, globexGenesysOrg)
	gs, err := gc.GetStats(as(acmeAuditorToken), &consentryv1.GetStatsRequest{})
	require.NoError(t, err)
	assert.Equal(t, int64(counts[localGenesysOrg]), gs.Total)
	code, out = rest(t, http.MethodGet, api+"/v1/quarantine/records/"+acmeRec.ID+"?reason=own%20record", acmeInvestigatorToken, nil, nil)
	require.Equal(t, http.StatusOK, code, "acme reads its own records: %s", out)

	// An export without a tenant: acme's records, and nothing of globex's
	// but the chain's hashes; it verifies offline.
	var ver struct {
		PublicKey string `json:"public_key"`
	}
	code, out = rest(t, http.MethodPost, api+"/v1/ledger:verify", acmeAuditorToken, map[string]any{"checkpoint": true}, &ver)
	require.Equal(t, http.StatusOK, code, out)
	code, bundle := rest(t, http.MethodPost, api+"/v1/evidence:export", acmeInvestigatorToken, map[string]any{"reason": "acme audit"}, nil)
	require.Equal(t, http.StatusOK, code, bundle)
	assert.NotContains(t, bundle, globexGenesysOrg)
	assert.NotContains(t, bundle, globexRec.ID)
	assert.Equal(t, counts[localGenesysOrg], strings.Count(bundle, `"type":"record"`))
	bundleFile := filepath.Join(t.TempDir(), "bundle.ndjson")
	require.NoError(t, os.WriteFile(bundleFile, []byte(bundle), 0o600))
	vout, err := exec.Command(consentryCLI(t), "bundle", "verify", "--public-key", ver.PublicKey, bundleFile).CombinedOutput()
	require.NoError(t, err, "bundle verify:\n%s", vout)
	gst, err := gc.ExportEvidence(as(acmeInvestigatorToken), &consentryv1.ExportEvidenceRequest{Reason: "acme audit"})
	require.NoError(t, err)
	var gbundle bytes.Buffer
	for {
		m, err := gst.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		gbundle.Write(m.Data)
	}
	assert.NotContains(t, gbundle.String(), globexGenesysOrg)

	// Every attempt is in the access log, as denied.
	type entry struct {
		ID       string `json:"id"`
		Identity string `json:"identity"`
		Method   string `json:"method"`
		Target   string `json:"target"`
		Result   string `json:"result"`
	}
	var log struct {
		Entries []entry `json:"entries"`
	}
	code, out = rest(t, http.MethodGet, api+"/v1/access-log?page_size=1000", staffToken, nil, &log)
	require.Equal(t, http.StatusOK, code, out)
	denied := map[attempt]int{}
	var deniedIDs []string
	for _, e := range log.Entries {
		if strings.HasPrefix(e.Result, "denied: PermissionDenied") {
			denied[attempt{e.Identity, e.Method}]++
			deniedIDs = append(deniedIDs, e.ID)
		}
	}
	want := map[attempt]int{}
	for _, a := range attempts {
		want[a]++
	}
	assert.Equal(t, want, denied, "every refused attempt, and only those, is logged as denied")

	// globex's auditor sees the attempts on globex (all but acme's refused
	// purge, which was about acme's own tenants), and nothing of acme's.
	var glog struct {
		Entries []entry `json:"entries"`
	}
	code, out = rest(t, http.MethodGet, api+"/v1/access-log?page_size=1000", globexAuditorToken, nil, &glog)
	require.Equal(t, http.StatusOK, code, out)
	assert.NotContains(t, out, localGenesysOrg)
	globexSees := map[string]bool{}
	for _, e := range glog.Entries {
		globexSees[e.ID] = true
	}
	seen := 0
	for _, id := range deniedIDs {
		if globexSees[id] {
			seen++
		}
	}
	assert.Equal(t, len(deniedIDs)-1, seen, "globex's auditor sees every attempt on globex: %s", out)
	var gl *consentryv1.ListAccessLogResponse
	gl, err = gc.ListAccessLog(as(globexAuditorToken), &consentryv1.ListAccessLogRequest{PageSize: 1000})
	require.NoError(t, err)
	b, _ := json.Marshal(gl)
	assert.NotContains(t, string(b), localGenesysOrg)
}
