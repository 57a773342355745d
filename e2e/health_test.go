package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// healthConfig: a collector whose policy file is reloaded every 200 ms and
// whose health check counts a recoverable error as unhealthy after 1 s.
var healthConfig = `
extensions:
  healthcheckv2:
    use_v2: true
    component_health:
      include_recoverable_errors: true
      recovery_duration: 1s
    http:
      endpoint: 127.0.0.1:{{.Ports.health}}
  consent_ledger:
    sqlite:
      path: {{.Dir}}/ledger.db
    keys:
      - id: e2e
        key: ${env:E2E_LEDGER_KEY}
receivers:
  genesys:
    endpoint: 127.0.0.1:{{.Ports.genesys}}
    subject_salt: ${env:E2E_SUBJECT_SALT}
    tenants:
      - organization_id: ` + localGenesysOrg + `
        api_keys: ["` + genesysKey + `"]
` + strings.Replace(genesysLedgerPipelines, "    policy_file: {{.Policy}}\n", "    policy_file: {{.Policy}}\n    reload_interval: 200ms\n", 1)

// TestHealthFollowsComponents: healthcheckv2's /status follows the
// components' status. A policy file that stops compiling (the previous
// policy stays in force) makes the collector unhealthy once the error has
// lasted recovery_duration; fixing the file makes it healthy again.
func TestHealthFollowsComponents(t *testing.T) {
	fwd := newSink(t)
	good, err := os.ReadFile("../config/policy.yaml")
	require.NoError(t, err)
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(policy, good, 0o600))
	c := startCollector(t, healthConfig, map[string]any{"Forward": fwd.url, "Policy": policy, "Dir": t.TempDir()}, ledgerEnv...)
	status := func() int {
		resp, err := http.Get(c.health)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, status())

	require.NoError(t, os.WriteFile(policy, []byte("processors: [{id: x, role: nobody}]\n"), 0o600))
	waitForStatus(t, status, false, "a broken policy makes the collector unhealthy")
	code, _, out := post(t, c.url("genesys", "/genesys/eventbridge"), withOrg(fixture(t, "genesys", "eventbridge_batch.json"), localGenesysOrg), map[string]string{"X-API-Key": genesysKey})
	require.Equal(t, http.StatusOK, code, "the previous policy stays in force: %s", out)

	require.NoError(t, os.WriteFile(policy, good, 0o600))
	waitForStatus(t, status, true, "a fixed policy makes it healthy again")
}

// waitForStatus waits until /status says healthy (200) or not (any other
// answer: 500 for a component's error, 503 while starting or stopping).
func waitForStatus(t *testing.T, status func() int, healthy bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for (status() == http.StatusOK) != healthy {
		if time.Now().After(deadline) {
			t.Fatalf("%s: /status still answers %d after 20s", what, status())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
