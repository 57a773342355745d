package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scaleTenants is how many tenants TestTenantsAtScale configures.
const scaleTenants = 1000

func scaleOrg(i int) string { return fmt.Sprintf("5ca1e000-0000-4000-8000-%012d", i) }
func scaleKey(i int) string { return fmt.Sprintf("e2e-scale-api-key-%06d", i) }
func scaleToken(i int) string {
	return fmt.Sprintf("e2e-scale-auditor-token-%06d-0123456789", i)
}

// scaleConfig writes a collector configuration with n Genesys
// organizations (receiver credentials, policy tenants, one auditor each)
// and returns the template and the policy file.
func scaleConfig(t *testing.T, n int) (tmpl, policyFile string) {
	t.Helper()
	var tenants, policyTenants, tokens strings.Builder
	for i := range n {
		fmt.Fprintf(&tenants, "      - organization_id: %s\n        api_keys: [%q]\n", scaleOrg(i), scaleKey(i))
		fmt.Fprintf(&policyTenants, `  - vendor: genesys
    id: %s
    name: Contact center %d
    contract_purposes: [essential.service, essential.legal_obligation]
    notice: {id: notice-%d, version: "1", date: "2026-01-01", processors: [genesys]}
`, scaleOrg(i), i, i)
		fmt.Fprintf(&tokens, "          - {identity: auditor-%d, role: auditor, tenants: [%q], sha256: %s}\n", i, scaleOrg(i), hashToken(scaleToken(i)))
	}
	pol := `processors:
  - id: genesys
    name: Genesys Cloud CX
    role: processor
    touches: {vendors: [genesys]}
purposes:
  ccaas.interaction.*: [essential.service]
  "*": [analytics.reporting]
tenants:
` + policyTenants.String()
	policyFile = filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(policyFile, []byte(pol), 0o600))
	tmpl = `
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
      auth:
        tokens:
          - {identity: staff, role: admin, tenants: ["*"], sha256: ` + hashToken(staffToken) + `}
` + tokens.String() + `receivers:
  genesys:
    endpoint: 127.0.0.1:{{.Ports.genesys}}
    subject_salt: ${env:E2E_SUBJECT_SALT}
    tenants:
` + tenants.String() + genesysLedgerPipelines
	return tmpl, policyFile
}

// TestTenantsAtScale: a configuration with 1,000 tenants (each with its
// receiver credentials, its policy entry and its auditor) validates and
// starts in seconds and serves every tenant: the last one's events are
// accepted and decided, and its auditor sees them and nothing else.
func TestTenantsAtScale(t *testing.T) {
	fwd := newSink(t)
	tmpl, policyFile := scaleConfig(t, scaleTenants)
	dir := t.TempDir()

	// validate: the rendered configuration, as an operator would run it.
	ports := map[string]int{}
	for _, name := range []string{"genesys", "twilio", "segment", "talkdesk", "otlp", "health", "metrics"} {
		ports[name] = freePort(t)
	}
	vars := map[string]any{"Forward": fwd.url, "Policy": policyFile, "Dir": dir, "Ports": ports}
	rendered := renderConfig(t, tmpl, vars)
	start := time.Now()
	cmd := exec.Command(binary, "validate", "--config", rendered)
	cmd.Env = append(os.Environ(), ledgerEnv...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "validate:\n%s", out)
	validated := time.Since(start)

	start = time.Now()
	c := startCollector(t, tmpl, vars, ledgerEnv...)
	started := time.Since(start)
	t.Logf("%d tenants: validate %v, start to healthy %v", scaleTenants, validated, started)
	assert.Less(t, validated, 10*time.Second, "a 1,000-tenant configuration validates in seconds")
	assert.Less(t, started, 20*time.Second, "a 1,000-tenant configuration starts in seconds")

	// The last tenant is served like the first.
	for _, i := range []int{0, scaleTenants - 1} {
		body := withOrg(fixture(t, "genesys", "eventbridge_batch.json"), scaleOrg(i))
		code, _, resp := post(t, c.url("genesys", "/genesys/eventbridge"), body, map[string]string{"X-API-Key": scaleKey(i)})
		require.Equal(t, http.StatusOK, code, resp)
	}
	code, _, resp := post(t, c.url("genesys", "/genesys/eventbridge"), withOrg(fixture(t, "genesys", "eventbridge_batch.json"), scaleOrg(7)), map[string]string{"X-API-Key": scaleKey(8)})
	require.Equal(t, http.StatusForbidden, code, "another tenant's credential: %s", resp)

	var list struct {
		Records []auditRecord `json:"records"`
	}
	last := scaleTenants - 1
	code, resp = rest(t, http.MethodGet, c.url("otlp", "/v1/quarantine/records?page_size=1000"), scaleToken(last), nil, &list)
	require.Equal(t, http.StatusOK, code, resp)
	for _, r := range list.Records {
		assert.Equal(t, scaleOrg(last), r.Tenant)
	}
	var all struct {
		Records []auditRecord `json:"records"`
	}
	code, resp = rest(t, http.MethodGet, c.url("otlp", "/v1/quarantine/records?page_size=1000"), staffToken, nil, &all)
	require.Equal(t, http.StatusOK, code, resp)
	seen := map[string]bool{}
	for _, r := range all.Records {
		seen[r.Tenant] = true
	}
	forwarded := map[string]bool{}
	for _, r := range fwd.records() {
		forwarded[fmt.Sprint(r.Resource["ccaas.tenant.id"])] = true
	}
	for _, i := range []int{0, last} {
		assert.True(t, seen[scaleOrg(i)] || forwarded[scaleOrg(i)], "tenant %d's events were decided", i)
	}
	code, _ = rest(t, http.MethodGet, c.url("otlp", "/v1/quarantine/records?tenant="+scaleOrg(0)), scaleToken(last), nil, nil)
	assert.Equal(t, http.StatusForbidden, code, "the last tenant's auditor cannot list the first tenant's records")
}
