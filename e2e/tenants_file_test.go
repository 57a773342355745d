package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/ccaas"
)

// Two Twilio accounts declared in a tenants file only: A from the start, B
// added while the collector runs. A's auth token is an ${env:..}
// reference, B's a ${file:..} one.
const (
	fileTenantA      = "ACa0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"
	fileTenantB      = "ACb1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"
	fileTenantAToken = "e2e-tenants-file-token-of-a-0123456789"
	fileTenantBToken = "e2e-tenants-file-token-of-b-0123456789"
)

// tenantsFileConfig: the twilio receiver and the consent processor read the
// same tenants file every 200 ms; the health check counts a recoverable
// error as unhealthy after 1 s.
var tenantsFileConfig = `
extensions:
  healthcheckv2:
    use_v2: true
    component_health:
      include_recoverable_errors: true
      recovery_duration: 1s
    http:
      endpoint: 127.0.0.1:{{.Ports.health}}
receivers:
  twilio:
    endpoint: 127.0.0.1:{{.Ports.twilio}}
    public_url: http://127.0.0.1:{{.Ports.twilio}}
    subject_salt: ${env:E2E_SUBJECT_SALT}
    tenants_file: {{.Tenants}}
    tenants_reload_interval: 200ms
` + strings.Replace(routedPipelines("twilio"), "    policy_file: {{.Policy}}\n",
	"    policy_file: {{.Policy}}\n    tenants_file: {{.Tenants}}\n    reload_interval: 200ms\n", 1)

// fileTenant is a tenants file entry of a Twilio account: the receiver's
// credentials and the policy's tenant keys.
func fileTenant(sid, token string) string {
	return fmt.Sprintf(`  - vendor: twilio
    id: %s
    name: Tenants file account %s
    credentials:
      auth_tokens: ["%s"]
    contract_purposes: [essential.service, essential.legal_obligation]
    notice: {id: %s-privacy, version: "1", date: "2025-01-01", processors: [twilio]}
`, sid, sid, token, sid)
}

// TestTenantsFileReload: tenants declared once, in a file the receiver and
// the policy both read. Tenant A is served from the start; tenant B, added
// to the file, is accepted (and known to the policy) after a reload,
// without a restart. A broken file keeps A and B served, and is reported:
// /status turns unhealthy and a log line says so, without a secret.
func TestTenantsFileReload(t *testing.T) {
	dir := t.TempDir()
	tokenB := filepath.Join(dir, "tenant-b.token")
	require.NoError(t, os.WriteFile(tokenB, []byte(fileTenantBToken+"\n"), 0o600))
	tenants := filepath.Join(dir, "tenants.yaml")
	withA := "tenants:\n" + fileTenant(fileTenantA, "${env:E2E_TENANT_A_TOKEN}")
	withAB := withA + fileTenant(fileTenantB, "${file:"+tokenB+"}")
	require.NoError(t, os.WriteFile(tenants, []byte(withA), 0o600))

	fwd, q := newSink(t), newSink(t)
	policy, err := filepath.Abs("../config/policy.yaml")
	require.NoError(t, err)
	c := startCollector(t, tenantsFileConfig, map[string]any{"Forward": fwd.url, "Quarantine": q.url, "Policy": policy, "Tenants": tenants},
		"E2E_SUBJECT_SALT=e2e-subject-salt-0123456789abcdef", "E2E_TENANT_A_TOKEN="+fileTenantAToken)

	status := func() int {
		resp, err := http.Get(c.health)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	callSid := regexp.MustCompile(`CallSid=CA[0-9a-f]+`)
	voice := fixture(t, "twilio", "voice_status_inbound_completed.form")
	n := 0
	send := func(sid, token string) (int, string) {
		t.Helper()
		n++
		body := strings.Replace(string(voice), "AccountSid="+twilioAccount, "AccountSid="+sid, 1)
		body = callSid.ReplaceAllString(body, fmt.Sprintf("CallSid=CA%032x", n))
		code, _, _ := postTwilioForm(t, c, "/twilio/voice/status", []byte(body), token)
		return code, fmt.Sprintf("CA%032x", n)
	}
	// decided waits for the record of call, forwarded or quarantined, and
	// says whether the policy knew its tenant.
	decided := func(call string) (known bool) {
		t.Helper()
		waitFor(t, "the decision on "+call, func() bool {
			for _, s := range []*sink{fwd, q} {
				for _, r := range s.records() {
					if strings.Contains(attrStr(r.Record, ccaas.AttrInteractionID), call) {
						known = !strings.Contains(attrStr(r.Record, ccaas.AttrConsentReasons), "tenant_unknown")
						return true
					}
				}
			}
			return false
		})
		return known
	}

	code, call := send(fileTenantA, fileTenantAToken)
	require.Equal(t, http.StatusOK, code, "tenant A, from the file")
	require.True(t, decided(call), "the policy knows tenant A from the file")
	code, _ = send(fileTenantB, fileTenantBToken)
	require.Equal(t, http.StatusUnauthorized, code, "tenant B is not in the file yet")

	// B is added: its signed events are accepted once the file is
	// reloaded, and decided under its policy, without a restart.
	require.NoError(t, os.WriteFile(tenants, []byte(withAB), 0o600))
	added := time.Now()
	for {
		code, call = send(fileTenantB, fileTenantBToken)
		if code == http.StatusOK && decided(call) {
			break
		}
		require.Contains(t, []int{http.StatusOK, http.StatusUnauthorized}, code)
		require.Less(t, time.Since(added), 10*time.Second, "tenant B still refused or unknown 10 s after it was added (reload interval 200 ms)")
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("tenant B served %v after it was added to the file", time.Since(added))
	require.Equal(t, http.StatusOK, status())

	// The file breaks: A and B stay served, the status is reported.
	require.NoError(t, os.WriteFile(tenants, []byte(withAB+"  - vendor: twilio\n    id: ACc\n    credentials: {auth_tokens: [\"${env:E2E_UNSET_TOKEN}\"]}\n"), 0o600))
	waitForStatus(t, status, false, "a broken tenants file makes the collector unhealthy")
	for _, tc := range []struct{ sid, token string }{{fileTenantA, fileTenantAToken}, {fileTenantB, fileTenantBToken}} {
		code, call := send(tc.sid, tc.token)
		require.Equal(t, http.StatusOK, code, "%s is still served", tc.sid)
		assert.True(t, decided(call), "the policy still knows %s", tc.sid)
	}
	logs := c.logs.String()
	assert.Contains(t, logs, "Tenants file is invalid; the tenants in force stay in force")
	assert.Contains(t, logs, "Consent policy file or tenants file is invalid; the previous policy stays in force")
	assert.Contains(t, logs, "${env:E2E_UNSET_TOKEN}: the environment variable is not set or empty")
	if testing.Verbose() {
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, "invalid") {
				t.Log(l)
			}
		}
	}
	for _, secret := range []string{fileTenantAToken, fileTenantBToken} {
		assert.NotContains(t, logs, secret, "no secret in the logs")
	}

	// Fixed: healthy again.
	require.NoError(t, os.WriteFile(tenants, []byte(withAB), 0o600))
	waitForStatus(t, status, true, "a fixed tenants file makes the collector healthy again")
}
