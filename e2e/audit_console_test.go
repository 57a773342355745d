package e2e

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
)

// fixturePhone is the caller's number in the Genesys EventBridge fixture,
// written as a person would type it.
const fixturePhone = "+1 (415) 555-0123"

// TestAuditConsoleAPI drives what the auditor console (and any client)
// needs of the API, on the built collector holding two businesses'
// records (tenantConfig): the raw-identifier filter within the caller's
// tenants, 400 on an unknown parameter, CSV listings, a streamed
// verification, counts by day, gRPC reflection listed the way grpcurl does,
// grpc.health.v1, and the OpenAPI 3 document clean under Redocly's linter.
func TestAuditConsoleAPI(t *testing.T) {
	c, ports := startTenants(t)
	api := c.url("otlp", "")
	grpcAddr := fmt.Sprintf("127.0.0.1:%d", ports["grpc"])
	type list struct {
		Records []auditRecord `json:"records"`
	}
	phone := url.QueryEscape(fixturePhone)

	t.Run("RawIdentifier", func(t *testing.T) {
		var staff list
		code, out := rest(t, http.MethodGet, api+"/v1/quarantine/records?page_size=1000&raw_identifier="+phone, staffToken, nil, &staff)
		require.Equal(t, http.StatusOK, code, out)
		require.NotEmpty(t, staff.Records, "the caller's records by phone number")
		key := staff.Records[0].SubjectKey
		tenants := map[string]int{}
		for _, r := range staff.Records {
			assert.Equal(t, key, r.SubjectKey, "only the caller's records")
			tenants[r.Tenant]++
		}
		assert.Len(t, tenants, 2, "in both businesses, for vendor staff: %v", tenants)
		// The same records as by subject key.
		var byKey list
		code, out = rest(t, http.MethodGet, api+"/v1/quarantine/records?page_size=1000&subject_key="+key, staffToken, nil, &byKey)
		require.Equal(t, http.StatusOK, code, out)
		assert.ElementsMatch(t, staff.Records, byKey.Records)

		// acme's investigator finds acme's records of that caller only.
		var acme list
		code, out = rest(t, http.MethodGet, api+"/v1/quarantine/records?page_size=1000&raw_identifier="+phone, acmeInvestigatorToken, nil, &acme)
		require.Equal(t, http.StatusOK, code, out)
		assert.Len(t, acme.Records, tenants[localGenesysOrg])
		assert.NotContains(t, out, globexGenesysOrg)
		code, out = rest(t, http.MethodGet, api+"/v1/quarantine/records?tenant="+globexGenesysOrg+"&raw_identifier="+phone, acmeInvestigatorToken, nil, nil)
		assert.Equal(t, http.StatusForbidden, code, out)
		// An auditor may not look a person up by their number.
		code, out = rest(t, http.MethodGet, api+"/v1/quarantine/records?raw_identifier="+phone, acmeAuditorToken, nil, nil)
		assert.Equal(t, http.StatusForbidden, code, out)
		assert.Contains(t, out, "investigator")

		// Consent of the subject, by number, without naming the scope.
		code, out = rest(t, http.MethodPost, api+"/v1/consents", acmeCustodianToken, map[string]any{
			"subject": map[string]string{"tenant": "genesys/" + localGenesysOrg, "raw_identifier": fixturePhone},
			"status":  "withdrawn", "purposes": []string{"analytics.reporting"}, "reason": "caller asked, ticket 9",
		}, nil)
		require.Equal(t, http.StatusOK, code, out)
		var consents struct {
			Consents []struct {
				SubjectKey string `json:"subject_key"`
				Status     string `json:"status"`
			} `json:"consents"`
		}
		code, out = rest(t, http.MethodGet, api+"/v1/consents?raw_identifier="+phone, acmeInvestigatorToken, nil, &consents)
		require.Equal(t, http.StatusOK, code, out)
		require.Len(t, consents.Consents, 1, out)
		assert.Equal(t, key, consents.Consents[0].SubjectKey)

		// The number is in no access-log entry; the calls are, redacted.
		var log struct {
			Entries []struct {
				Method string `json:"method"`
				Target string `json:"target"`
				Result string `json:"result"`
			} `json:"entries"`
		}
		code, out = rest(t, http.MethodGet, api+"/v1/access-log?page_size=1000", staffToken, nil, &log)
		require.Equal(t, http.StatusOK, code, out)
		assert.NotContains(t, out, "555-0123")
		assert.NotContains(t, out, "5550123")
		redacted := 0
		for _, e := range log.Entries {
			if strings.Contains(e.Target, `"raw_identifier":"[redacted]"`) {
				redacted++
			}
		}
		assert.GreaterOrEqual(t, redacted, 6, "every lookup by number is logged, redacted: %s", out)
	})

	t.Run("UnknownParameter", func(t *testing.T) {
		code, out := rest(t, http.MethodGet, api+"/v1/quarantine/records?tenat="+localGenesysOrg, staffToken, nil, nil)
		assert.Equal(t, http.StatusBadRequest, code, out)
		assert.Contains(t, out, `unknown query parameter \"tenat\"`)
		code, out = rest(t, http.MethodGet, api+"/v1/quarantine/records?vendor=genesis", staffToken, nil, nil)
		assert.Equal(t, http.StatusBadRequest, code, out)
		assert.Contains(t, out, `vendor: \"genesis\"`)
		code, out = rest(t, http.MethodGet, api+"/v1/quarantine/stats?released=maybe", staffToken, nil, nil)
		assert.Equal(t, http.StatusBadRequest, code, out)
		code, out = rest(t, http.MethodPost, api+"/v1/ledger:verify?checkpoint=true", staffToken, map[string]any{}, nil)
		assert.Equal(t, http.StatusBadRequest, code, out)
		code, _ = rest(t, http.MethodGet, api+"/v1/quarantine/records?tenat=x", "", nil, nil)
		assert.Equal(t, http.StatusUnauthorized, code, "credentials are checked first")
	})

	t.Run("CSV", func(t *testing.T) {
		var all list
		code, out := rest(t, http.MethodGet, api+"/v1/quarantine/records?page_size=1000", staffToken, nil, &all)
		require.Equal(t, http.StatusOK, code, out)
		// Pages of 3, as one CSV file.
		code, out = rest(t, http.MethodGet, api+"/v1/quarantine/records?format=csv&page_size=3", staffToken, nil, nil)
		require.Equal(t, http.StatusOK, code, out)
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		require.NoError(t, err, out)
		require.Len(t, rows, len(all.Records)+1, out)
		assert.Equal(t, "id", rows[0][0])
		var ids []string
		for _, r := range rows[1:] {
			ids = append(ids, r[0])
		}
		for _, r := range all.Records {
			assert.Contains(t, ids, r.ID)
		}
		req, err := http.NewRequest(http.MethodGet, api+"/v1/access-log", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+staffToken)
		req.Header.Set("Accept", "text/csv")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
		rows, err = csv.NewReader(resp.Body).ReadAll()
		require.NoError(t, err)
		assert.Greater(t, len(rows), 1)
		assert.Equal(t, []string{"id", "time", "identity", "method", "target", "reason", "result", "writer_id", "seq"}, rows[0])
	})

	t.Run("StreamedVerify", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, api+"/v1/ledger:verify", strings.NewReader(`{"checkpoint":true}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+staffToken)
		req.Header.Set("Accept", "application/x-ndjson")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var lines []string
		for sc := bufio.NewScanner(resp.Body); sc.Scan(); {
			lines = append(lines, sc.Text())
		}
		require.NotEmpty(t, lines)
		var last struct {
			Result struct {
				OK bool `json:"ok"`
			} `json:"result"`
		}
		require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &last), lines)
		assert.True(t, last.Result.OK, lines)
	})

	t.Run("StatsByDay", func(t *testing.T) {
		var st struct {
			ByDay []struct {
				Key string `json:"key"`
			} `json:"by_day"`
		}
		code, out := rest(t, http.MethodGet, api+"/v1/quarantine/stats", staffToken, nil, &st)
		require.Equal(t, http.StatusOK, code, out)
		require.NotEmpty(t, st.ByDay)
		for _, d := range st.ByDay {
			assert.NotEqual(t, "1970-01-01", d.Key, out)
		}
	})

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("Reflection", func(t *testing.T) {
		services, methods := grpcurlList(ctx, t, conn, "consentry.v1.AuditService")
		assert.Subset(t, services, []string{"consentry.v1.AuditService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"})
		var want []string
		for _, m := range consentryv1.AuditService_ServiceDesc.Methods {
			want = append(want, "consentry.v1.AuditService."+m.MethodName)
		}
		for _, m := range consentryv1.AuditService_ServiceDesc.Streams {
			want = append(want, "consentry.v1.AuditService."+m.StreamName)
		}
		slices.Sort(want)
		assert.Equal(t, want, methods)
	})

	t.Run("Health", func(t *testing.T) {
		hc := healthpb.NewHealthClient(conn)
		for _, svc := range []string{"", "consentry.v1.AuditService"} {
			r, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
			require.NoError(t, err, "health of %q", svc)
			assert.Equal(t, healthpb.HealthCheckResponse_SERVING, r.GetStatus(), "health of %q", svc)
		}
	})

	t.Run("OpenAPI3Lint", func(t *testing.T) {
		code, doc := rest(t, http.MethodGet, api+"/openapi.v3.json", "", nil, nil)
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, doc, `"openapi": "3.0.3"`)
		file := filepath.Join(t.TempDir(), "openapi.v3.json")
		require.NoError(t, os.WriteFile(file, []byte(doc), 0o600))
		cfg, err := filepath.Abs("../api/redocly.yaml")
		require.NoError(t, err)
		out, err := exec.Command(redocly(t), "lint", "--config", cfg, file).CombinedOutput()
		require.NoError(t, err, "redocly lint:\n%s", out)
		assert.Contains(t, string(out), "Your API description is valid")
	})
}

// grpcurlList does what `grpcurl -plaintext ADDR list` and `grpcurl ...
// list SERVICE` do, through server reflection only: the services, and the
// methods of one (from its file descriptor).
func grpcurlList(ctx context.Context, t *testing.T, conn *grpc.ClientConn, service string) (services, methods []string) {
	t.Helper()
	st, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	require.NoError(t, err)
	defer func() { _ = st.CloseSend() }()
	require.NoError(t, st.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}))
	resp, err := st.Recv()
	require.NoError(t, err)
	for _, s := range resp.GetListServicesResponse().GetService() {
		services = append(services, s.GetName())
	}
	slices.Sort(services)
	require.NoError(t, st.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: service}}))
	resp, err = st.Recv()
	require.NoError(t, err)
	for _, raw := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
		var fd descriptorpb.FileDescriptorProto
		require.NoError(t, proto.Unmarshal(raw, &fd))
		for _, s := range fd.GetService() {
			if fd.GetPackage()+"."+s.GetName() != service {
				continue
			}
			for _, m := range s.GetMethod() {
				methods = append(methods, service+"."+m.GetName())
			}
		}
	}
	slices.Sort(methods)
	return services, methods
}

// redoclyVersion is the Redocly CLI the OpenAPI lint test runs.
const redoclyVersion = "2.77.0"

// redocly returns the Redocly CLI, installed with npm once into the user's
// cache directory (CONSENTRY_REDOCLY_DIR overrides it). Without npm, or
// when the registry cannot be reached, the test is skipped, loudly.
func redocly(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CONSENTRY_REDOCLY_DIR")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir = filepath.Join(cache, "consentry-e2e", "redocly-cli-"+redoclyVersion)
	}
	bin := filepath.Join(dir, "node_modules", ".bin", "redocly")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("SKIPPED: npm is not installed, so the OpenAPI 3 document was NOT linted (CI installs npm: .ci/run)")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error", "@redocly/cli@"+redoclyVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("SKIPPED: npm could not install @redocly/cli@%s (registry unreachable?), so the OpenAPI 3 document was NOT linted: %v\n%s", redoclyVersion, err, out)
	}
	return bin
}
