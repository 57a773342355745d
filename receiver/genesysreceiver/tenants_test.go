package genesysreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/internal/tenant/tenanttest"
	"github.com/consentry/consentry/receiver/genesysreceiver/internal/metadata"
)

// TestTenantsFile: the genesys tenant of config/tenants.yaml is served beside
// the listed tenants, with its credentials and its own subject keyer; a
// file whose credentials this receiver refuses stops it from starting,
// and the error quotes no secret.
func TestTenantsFile(t *testing.T) {
	tenanttest.SetExampleEnv(t)
	id := tenanttest.ExampleIDs["genesys"]
	cfg := testConfig()
	cfg.TenantsFile = tenanttest.ExampleFile
	// The merged configuration is validated whole: testConfig's basic
	// password is too short for that.
	cfg.Tenants[0].BasicAuth[0].Password = "basic-password-0123456789"
	require.NoError(t, cfg.Validate())
	r, err := newReceiver(cfg, receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
	require.NoError(t, err)
	h := r.live.Load()
	assert.Equal(t, id, h.cfg.Tenants[len(h.cfg.Tenants)-1].OrganizationID)
	assert.Len(t, cfg.Tenants, len(h.cfg.Tenants)-1, "the configuration itself is not modified")
	assert.NotNil(t, h.norm.keyers.Resolve(id, false), "the file tenant's subjects are keyed")
	owner, ok := h.tokens.Lookup("example-utility-genesys-key-0123")
	assert.True(t, ok, "the file tenant's credential")
	assert.Equal(t, id, owner)
	_, ok = h.tokens.Lookup(testAPIKey)
	assert.True(t, ok, "the listed tenants' credentials stay")

	bad, secret := tenanttest.Misspelt(t, "genesys", "api_keys")
	cfg.TenantsFile = bad
	_, err = newReceiver(cfg, receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
	require.ErrorContains(t, err, "api_keys_typo")
	assert.NotContains(t, err.Error(), secret)
}
