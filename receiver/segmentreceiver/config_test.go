package segmentreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
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

func TestDefaultConfigNeedsTenants(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	assert.Equal(t, "localhost:7403", cfg.NetAddr.Endpoint)
	assert.Equal(t, int64(1<<20), cfg.MaxRequestBodySize)
	assert.Equal(t, defaultTCFFields, cfg.TCFFields)
	assert.Equal(t, defaultGPPFields, cfg.GPPFields)
	assert.Empty(t, cfg.BatchAuthHeader, "batches are refused unless configured")
	err := confmap.Validate(cfg)
	require.Error(t, err, "the default config has no secrets and must not validate")
	assert.Contains(t, err.Error(), "no tenants configured")
}

func TestLoadFull(t *testing.T) {
	cfg := loadConfig(t, "full")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, "0.0.0.0:7403", cfg.NetAddr.Endpoint)
	assert.Equal(t, int64(524288), cfg.MaxRequestBodySize)
	assert.Equal(t, 10*time.Second, cfg.RetryAfter)
	assert.Equal(t, 24*time.Hour, cfg.Dedup.TTL)
	assert.Equal(t, 50000, cfg.Dedup.MaxEntries)
	require.NotNil(t, cfg.CORS.Get())
	assert.Equal(t, []string{"https://shop.example.com"}, cfg.CORS.Get().AllowedOrigins)
	assert.Equal(t, "X-Consentry-Token", cfg.BatchAuthHeader)
	assert.Equal(t, []string{"context.consent.tcString", "properties.gdpr_consent"}, cfg.TCFFields)
	assert.Equal(t, []string{"context.consent.gppString"}, cfg.GPPFields)
	require.Len(t, cfg.Tenants, 2)
	assert.Equal(t, "web-prod", cfg.Tenants[0].SourceID)
	assert.Equal(t, []configopaque.String{"shared-current-0123456789", "shared-previous-0123456789"}, cfg.Tenants[0].SharedSecrets)
	assert.Equal(t, []configopaque.String{"batch-token-0123456789"}, cfg.Tenants[0].BatchAuthSecrets)
	assert.Equal(t, []configopaque.String{"wk-browser", "wk-server"}, cfg.Tenants[0].WriteKeys)
	assert.Equal(t, configopaque.String("tenant-specific-salt-abcdef"), cfg.Tenants[1].SubjectSalt)
}

func TestLoadValid(t *testing.T) {
	for _, name := range []string{"minimal", "webhook_only", "insecure"} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, confmap.Validate(loadConfig(t, name)))
		})
	}
}

func TestLoadInvalid(t *testing.T) {
	for name, want := range map[string]string{
		"short_secrets":                "tenants[0].batch_auth_secrets[0] is shorter than 16 bytes",
		"insecure_with_tenants":        "insecure_allow_unauthenticated is set while 1 tenant(s) are configured",
		"no_tenants":                   "no tenants configured",
		"empty_secret":                 "write_keys[0] is empty",
		"no_secrets":                   "no secrets",
		"shared_write_key":             "a secret must identify one tenant",
		"shared_webhook_secret":        "shared_secrets[0] is also configured for source",
		"duplicate_source":             "configured twice",
		"short_salt":                   "subject_salt",
		"batch_secrets_without_header": "batch_auth_header is not",
		"header_without_batch_secrets": "no tenant has batch_auth_secrets",
		"signature_as_batch_header":    "must not be X-Signature",
		"bad_path":                     "tcf_fields[0]",
	} {
		t.Run(name, func(t *testing.T) {
			err := confmap.Validate(loadConfig(t, name))
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
		})
	}
}

func TestSecretsAreMaskedWhenPrinted(t *testing.T) {
	cfg := loadConfig(t, "full")
	for _, s := range []configopaque.String{cfg.Tenants[0].WriteKeys[0], cfg.Tenants[0].SharedSecrets[0], cfg.Tenants[0].BatchAuthSecrets[0]} {
		out, err := s.MarshalText()
		require.NoError(t, err)
		assert.NotContains(t, string(out), string(s))
	}
}
