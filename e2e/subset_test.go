package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/ccaas"
)

// subsetBinary is the distribution of deploy/ocb/builder-subset.yaml:
// CONSENTRY_SUBSET_BINARY (make e2e sets it), else built with make.
func subsetBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("CONSENTRY_SUBSET_BINARY"); b != "" {
		return b
	}
	cmd := exec.Command("make", "-C", "..", "build-subset")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make build-subset:\n%s", out)
	abs, err := filepath.Abs("../_build/subset/otelcol-consentry-subset")
	require.NoError(t, err)
	return abs
}

// TestSubsetDistribution: a collector of one's own with only the genesys
// receiver, the consent processor, consent_router and otlp_http
// (docs/use-in-your-collector.md) validates the documented configuration
// and decides and routes a Genesys webhook.
func TestSubsetDistribution(t *testing.T) {
	bin := subsetBinary(t)
	out, err := exec.Command(bin, "components").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, want := range []string{"genesys", "consent", "consent_router", "otlp_http"} {
		assert.Contains(t, string(out), "name: "+want+"\n", "the subset has %s", want)
	}
	for _, not := range []string{"twilio", "segment", "talkdesk", "quarantine", "consent_ledger", "healthcheckv2"} {
		assert.NotContains(t, string(out), "name: "+not+"\n", "the subset is only what it lists")
	}

	fwd, q := newSink(t), newSink(t)
	policy, err := filepath.Abs("../config/policy.yaml")
	require.NoError(t, err)
	port := freePort(t)
	env := append(os.Environ(),
		fmt.Sprintf("GENESYS_ENDPOINT=127.0.0.1:%d", port),
		"CONSENTRY_SUBJECT_SALT=e2e-subject-salt-0123456789abcdef",
		"CONSENTRY_GENESYS_ORG_ID="+localGenesysOrg,
		"CONSENTRY_GENESYS_SECRET="+genesysKey,
		"CONSENTRY_POLICY_FILE="+policy,
		"FORWARD_OTLP_ENDPOINT="+fwd.url,
		"QUARANTINE_OTLP_ENDPOINT="+q.url,
	)
	dir := t.TempDir()
	// No metrics on the shared port 8888; the test's sinks read
	// uncompressed OTLP.
	quiet := filepath.Join(dir, "test-overrides.yaml")
	require.NoError(t, os.WriteFile(quiet, []byte(`exporters:
  otlp_http/forward: {compression: none}
  otlp_http/quarantine: {compression: none}
service:
  telemetry:
    metrics:
      level: none
`), 0o600))
	args := []string{"--config", "../deploy/ocb/subset-config.yaml", "--config", quiet}

	validate := exec.Command(bin, append([]string{"validate"}, args...)...)
	validate.Env = env
	out, err = validate.CombinedOutput()
	require.NoError(t, err, "validate:\n%s", out)

	lb := &lockedBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, lb, lb
	require.NoError(t, cmd.Start())
	c := &collector{cmd: cmd, logs: &lb.Buffer, ports: map[string]int{"genesys": port}, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() {
		c.stop(t)
		if t.Failed() {
			lb.mu.Lock()
			t.Logf("collector output:\n%s", lb.String())
			lb.mu.Unlock()
		}
	})
	// No health extension in the subset: ready once the receiver listens.
	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case err := <-c.done:
			c.done <- err
			t.Fatalf("collector exited during start: %v", err)
		default:
		}
		require.True(t, time.Now().Before(deadline), "the genesys receiver did not listen within 60s")
		time.Sleep(100 * time.Millisecond)
	}

	body := withOrg(fixture(t, "genesys", "eventbridge_batch.json"), localGenesysOrg)
	code, _, resp := post(t, c.url("genesys", "/genesys/eventbridge"), body, map[string]string{"X-API-Key": genesysKey})
	require.Equal(t, http.StatusOK, code, resp)
	require.Equal(t, 8, fwd.count()+q.count(), "every event reaches exactly one route")
	require.NotZero(t, fwd.count())
	require.NotZero(t, q.count())
	for route, s := range map[string]*sink{"forward": fwd, "quarantine": q} {
		for _, r := range s.records() {
			assert.Equal(t, route, attrStr(r.Record, ccaas.AttrConsentDecision))
			assert.Empty(t, attrStr(r.Record, ccaas.AttrConsentUnrouted), "a router follows: records pass whole")
		}
	}
	assert.False(t, strings.Contains(lb.String(), "No consent_router follows"), "the processor found the router")
}
