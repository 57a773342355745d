package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestComponentsListsOurs(t *testing.T) {
	out, err := exec.Command(binary, "components").CombinedOutput()
	require.NoError(t, err, string(out))
	for _, name := range []string{"genesys", "twilio", "segment", "talkdesk", "otlp", "otlp_http", "otlp_grpc", "debug", "batch", "memory_limiter", "healthcheckv2", "file_storage", "pprof", "consent", "consent_router", "quarantine", "consent_ledger"} {
		assert.Contains(t, string(out), "name: "+name+"\n", "components must list %s", name)
	}
}

func TestValidateLocalConfig(t *testing.T) {
	// Paths in config/local.yaml (the policy file) are relative to the
	// repository root, where make run starts the collector.
	cmd := exec.Command(binary, "validate", "--config", "config/local.yaml")
	cmd.Dir = ".."
	cmd.Env = append(cmd.Environ(),
		"CONSENTRY_SUBJECT_SALT=0123456789abcdef0123456789abcdef",
		"CONSENTRY_GENESYS_ORG_ID=7c5e9a1e-3b2f-4d8a-9f61-2a0c4e6b8d10",
		"CONSENTRY_GENESYS_SECRET=local-genesys-secret-0123",
		"CONSENTRY_TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef", "CONSENTRY_SEGMENT_SHARED_SECRET=local-segment-secret-0123", "CONSENTRY_SEGMENT_WRITE_KEY=x",
		"CONSENTRY_TALKDESK_TOKEN=local-talkdesk-token-0123", "CONSENTRY_TALKDESK_ACCOUNT_ID=acct-1", "CONSENTRY_TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000", "CONSENTRY_LEDGER_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"CONSENTRY_AUDIT_TOKEN_SHA256=2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
	)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
}

// An unset secret is a configuration error, not an open door.
func TestValidateRefusesUnsetSecrets(t *testing.T) {
	cmd := exec.Command(binary, "validate", "--config", "../config/local.yaml")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.True(t, strings.Contains(string(out), "api_keys[0] is empty"), string(out))
	assert.Contains(t, string(out), "organization_id must be set")
	assert.Contains(t, string(out), "keys[0]: key or key_file is required", "an unset ledger key is refused")
}

// TestConfigBreakingPromisesRefusedAtStart: the built collector refuses to
// start with a batch processor on the way to the quarantine exporter (it
// would acknowledge webhooks before the ledger has their events), naming
// the pipeline and the processor.
func TestConfigBreakingPromisesRefusedAtStart(t *testing.T) {
	policy, err := filepath.Abs("../config/policy.yaml")
	require.NoError(t, err)
	cfg := strings.Replace(ledgerConfig, "      processors: [consent]\n", "      processors: [consent, batch]\n", 1)
	cfg = strings.Replace(cfg, "processors:\n  consent:\n", "processors:\n  batch: {}\n  consent:\n", 1)
	require.NotEqual(t, ledgerConfig, cfg)
	ports := map[string]int{}
	for _, name := range []string{"genesys", "twilio", "segment", "talkdesk", "otlp", "health", "metrics"} {
		ports[name] = freePort(t)
	}
	var rendered bytes.Buffer
	require.NoError(t, template.Must(template.New("cfg").Option("missingkey=error").Parse(cfg)).Execute(&rendered, map[string]any{
		"Ports": ports, "Forward": "http://127.0.0.1:1", "Policy": policy, "Ledger": sqliteBackend(t).block}))
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, rendered.Bytes(), 0o600))
	cmd := exec.Command(binary, "--config", path)
	cmd.Env = append(os.Environ(), ledgerEnv...)
	done := make(chan []byte, 1)
	go func() { out, _ := cmd.CombinedOutput(); done <- out }()
	select {
	case out := <-done:
		require.False(t, cmd.ProcessState.Success(), "the collector started:\n%s", out)
		assert.Contains(t, string(out), "service::pipelines::logs/in: the batch processor is on the way to the quarantine exporter")
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the collector did not refuse the configuration within 60s")
	}
}
