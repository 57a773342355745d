package consentprocessor

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/consentry/consentry/internal/tenant/tenanttest"
	"github.com/consentry/consentry/processor/consentprocessor/internal/metadata"
)

// tenantsFileA declares one Twilio account for the receivers and the
// policy: its credentials are the receiver's, the rest the policy's.
const tenantsFileA = `tenants:
  - vendor: twilio
    id: ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
    name: Tenant A
    credentials: {auth_tokens: ["${env:UNUSED_BY_THE_POLICY_TOKEN}"]}
    contract_purposes: [essential.service]
    notice: {id: a-privacy, version: "1", processors: [twilio]}
`

const tenantB = `  - vendor: twilio
    id: ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
    credentials: {auth_tokens: [b-token-0123456789abcdef]}
    consent_scope: shared-scope
    notice: {id: b-privacy, processors: [twilio]}
`

// TestTenantsFile: the policy's tenants are its own and the tenants
// file's; a new tenant is served after a reload, a broken file keeps the
// tenants in force, and a fixed one is taken again.
func TestTenantsFile(t *testing.T) {
	t.Setenv("UNUSED_BY_THE_POLICY_TOKEN", "a-token-0123456789abcdef")
	path := filepath.Join(t.TempDir(), "tenants.yaml")
	require.NoError(t, os.WriteFile(path, []byte(tenantsFileA), 0o600))
	cfg := exampleConfig()
	cfg.TenantsFile = path
	cfg.ReloadInterval = 0 // driven by hand below
	require.NoError(t, cfg.Validate())

	pol, err := cfg.LoadPolicy(context.Background())
	require.NoError(t, err)
	assert.True(t, pol.HasTenant("twilio", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), "the file's tenant")
	assert.True(t, pol.HasTenant("twilio", "ACf54dd7a47a8011d65b54d472a7190549"), "the policy's own")

	proc, cp, err := newLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, new(consumertest.LogsSink))
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, proc.Shutdown(context.Background())) }()
	has := func(id string) bool { return cp.eval.Policy().HasTenant("twilio", id) }
	require.True(t, has("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))

	changed, err := cp.reload(context.Background())
	require.NoError(t, err)
	assert.False(t, changed)
	// A change of the tenants file is taken when two polls in a row see it
	// (a file rewritten in place is not taken half written).
	settle := func() (bool, error) {
		t.Helper()
		changed, _ := cp.reload(context.Background())
		require.False(t, changed, "a change seen once is not taken")
		return cp.reload(context.Background())
	}

	require.NoError(t, os.WriteFile(path, []byte(tenantsFileA+tenantB), 0o600))
	changed, err = settle()
	require.NoError(t, err)
	assert.True(t, changed)
	assert.True(t, has("ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), "tenant B after the reload")
	for _, tc := range cp.eval.Policy().Config().Tenants {
		if tc.ID == "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" {
			assert.Equal(t, "shared-scope", tc.ConsentScope)
		}
	}
	inForce := cp.eval.Policy().Hash()

	// A policy key the policy does not know, then a notice naming an
	// unknown processor: refused, the tenants in force stay.
	for _, broken := range []string{
		tenantB + "    consent_scpe: typo\n",
		"  - vendor: twilio\n    id: ACcccccccccccccccccccccccccccccccc\n    credentials: {}\n    notice: {id: c, processors: [nobody]}\n",
	} {
		require.NoError(t, os.WriteFile(path, []byte(tenantsFileA+broken), 0o600))
		_, err = settle()
		require.Error(t, err)
		assert.Equal(t, inForce, cp.eval.Policy().Hash())
		_, err = cp.reload(context.Background())
		require.Error(t, err, "still broken at the next poll")
	}
	assert.NotContains(t, err.Error(), "a-token-0123456789abcdef")

	require.NoError(t, os.WriteFile(path, []byte(tenantsFileA), 0o600))
	_, err = cp.reload(context.Background())
	require.Error(t, err, "still broken while the fix settles")
	changed, err = cp.reload(context.Background())
	require.NoError(t, err)
	assert.True(t, changed)
	assert.False(t, has("ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), "B removed")

	// With a tenants file, an inline policy is compiled at Start, with
	// the file's tenants: Validate does not read files.
	inline := createDefaultConfig().(*Config)
	p, err := cfg.LoadPolicy(context.Background())
	require.NoError(t, err)
	c := p.Config()
	c.Tenants = nil
	for i := range c.Processors {
		c.Processors[i].Touches.Tenants = nil
	}
	inline.Policy = &c
	require.Error(t, inline.Validate(), "an inline policy without tenants")
	inline.TenantsFile = path
	require.NoError(t, inline.Validate())
	pol, err = inline.LoadPolicy(context.Background())
	require.NoError(t, err)
	assert.Len(t, pol.Config().Tenants, 1)
}

// TestExampleTenantsFile: config/tenants.yaml compiles with
// config/policy.yaml.
func TestExampleTenantsFile(t *testing.T) {
	tenanttest.SetExampleEnv(t)
	cfg := exampleConfig()
	cfg.TenantsFile = tenanttest.ExampleFile
	pol, err := cfg.LoadPolicy(context.Background())
	require.NoError(t, err)
	assert.Empty(t, pol.Warnings())
	for vendor, id := range tenanttest.ExampleIDs {
		assert.True(t, pol.HasTenant(vendor, id), "%s/%s", vendor, id)
	}
}

// BenchmarkTenantsFileReload: what the consent processor does when a
// tenants file of 1,000 tenants changes: read and resolve it, and compile
// the policy with them.
func BenchmarkTenantsFileReload(b *testing.B) {
	cfg := exampleConfig()
	cfg.TenantsFile = tenanttest.WriteMany(b, b.TempDir(), "genesys", "api_keys", 1000)
	b.ReportAllocs()
	for b.Loop() {
		pol, err := cfg.LoadPolicy(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if !pol.HasTenant("genesys", tenanttest.ID("genesys", 999)) {
			b.Fatal("the last tenant is not in the policy")
		}
	}
}
