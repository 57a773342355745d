package consentprocessor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"

	"github.com/consentry/consentry/internal/configtest"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	return configtest.Load[*Config](t, NewFactory(), name)
}

func TestConfigStruct(t *testing.T) {
	require.NoError(t, componenttest.CheckConfigStruct(NewFactory().CreateDefaultConfig()))
}

func TestDefaultConfig(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	assert.Equal(t, 5*time.Second, cfg.ReloadInterval)
	assert.Equal(t, CacheConfig{TTL: 30 * time.Second, NegativeTTL: 10 * time.Second, MaxEntries: 100_000}, cfg.Cache)
	assert.Equal(t, InteractionsConfig{MaxEntries: 100_000, TTL: 4 * time.Hour, Shared: true, SharedMissTTL: time.Second}, cfg.Interactions)
	assert.True(t, cfg.Metrics.TenantAttribute)
	assert.Equal(t, UnroutedDropBody, cfg.Unrouted)
	assert.False(t, cfg.Ledger.IsSet())
	err := confmap.Validate(cfg)
	require.ErrorContains(t, err, "set policy (inline) or policy_file", "no policy is a configuration error")
}

func TestLoadFull(t *testing.T) {
	// policy_file is relative to the working directory (here, the package).
	cfg := loadConfig(t, "file")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, 30*time.Second, cfg.ReloadInterval)
	require.True(t, cfg.Ledger.IsSet())
	assert.Equal(t, component.MustNewID("consent_ledger"), cfg.Ledger.ComponentID())
	assert.Equal(t, CacheConfig{TTL: time.Minute, NegativeTTL: 5 * time.Second, MaxEntries: 5000}, cfg.Cache)
	assert.Equal(t, InteractionsConfig{MaxEntries: 1000, TTL: time.Hour, Shared: false, SharedMissTTL: 500 * time.Millisecond}, cfg.Interactions)
	assert.False(t, cfg.Metrics.TenantAttribute)
	assert.Equal(t, UnroutedDrop, cfg.Unrouted)
}

func TestLoadInline(t *testing.T) {
	cfg := loadConfig(t, "inline")
	require.NoError(t, confmap.Validate(cfg))
	p, err := cfg.LoadPolicy(t.Context())
	require.NoError(t, err)
	assert.True(t, p.HasTenant("genesys", "7c5e9a1e-3b2f-4d8a-9f61-2a0c4e6b8d10"))
}

func TestLoadInvalid(t *testing.T) {
	for name, want := range map[string][]string{
		"none": {"set policy (inline) or policy_file"},
		"both": {"set policy or policy_file, not both"},
		"bad_policy": {
			`processors[0] (genesys): role "vendor" is not processor, service_provider, contractor or third_party`,
			`notice.processors[1]: unknown processor "genesys-ai"`,
			`unknown data use "essential.servce" (did you mean "essential.service"?)`,
		},
		"bad_numbers": {"reload_interval must not be negative", "cache.ttl", "cache.max_entries must be positive", "interactions.ttl must be positive"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := loadConfig(t, name)
			err := confmap.Validate(cfg)
			require.Error(t, err)
			for _, w := range want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestUnknownPolicyKeyIsAnError(t *testing.T) {
	cm := confmap.NewFromStringMap(map[string]any{"policy": map[string]any{"tennants": []any{}}})
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.ErrorContains(t, cm.Unmarshal(cfg), "tennants")
}
