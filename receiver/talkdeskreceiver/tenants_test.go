package talkdeskreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/internal/tenant/tenanttest"
	"github.com/consentry/consentry/receiver/talkdeskreceiver/internal/metadata"
)

// TestTenantsFile: the talkdesk tenant of config/tenants.yaml is served beside
// the listed tenants, with its credentials and its own subject keyer; a
// file whose credentials this receiver refuses stops it from starting,
// and the error quotes no secret.
func TestTenantsFile(t *testing.T) {
	tenanttest.SetExampleEnv(t)
	id := tenanttest.ExampleIDs["talkdesk"]
	cfg := testConfig(t)
	cfg.TenantsFile = tenanttest.ExampleFile
	require.NoError(t, cfg.Validate())
	r, err := newReceiver(cfg, receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
	require.NoError(t, err)
	h := r.live.Load()
	assert.Equal(t, id, h.cfg.Tenants[len(h.cfg.Tenants)-1].AccountID)
	assert.Len(t, cfg.Tenants, len(h.cfg.Tenants)-1, "the configuration itself is not modified")
	assert.NotNil(t, h.norm.keyers.Resolve(id, false), "the file tenant's subjects are keyed")
	owner, ok := h.headerTokens.Lookup("example-outfitter-talkdesk-0123")
	assert.True(t, ok, "the file tenant's credential")
	assert.Equal(t, id, owner)
	_, ok = h.headerTokens.Lookup(string(testToken))
	assert.True(t, ok, "the listed tenants' credentials stay")

	bad, secret := tenanttest.Misspelt(t, "talkdesk", "header_tokens")
	cfg.TenantsFile = bad
	_, err = newReceiver(cfg, receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
	require.ErrorContains(t, err, "header_tokens_typo")
	assert.NotContains(t, err.Error(), secret)
}
