package e2e

import (
	"os/exec"
	"strings"
	"testing"

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
		"CONSENTRY_GENESYS_SECRET=local-secret",
		"CONSENTRY_TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef", "CONSENTRY_SEGMENT_SHARED_SECRET=x", "CONSENTRY_SEGMENT_WRITE_KEY=x",
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
