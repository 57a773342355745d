package genesysreceiver

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
	assert.Equal(t, "localhost:7401", cfg.NetAddr.Endpoint)
	assert.Equal(t, int64(1<<20), cfg.MaxRequestBodySize)
	err := confmap.Validate(cfg)
	require.Error(t, err, "the default config has no secrets and must not validate")
	assert.Contains(t, err.Error(), "no tenants configured")
}

func TestLoadFull(t *testing.T) {
	cfg := loadConfig(t, "full")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, "0.0.0.0:7401", cfg.NetAddr.Endpoint)
	assert.Equal(t, int64(524288), cfg.MaxRequestBodySize)
	assert.Equal(t, 10*time.Second, cfg.RetryAfter)
	assert.Equal(t, 24*time.Hour, cfg.Dedup.TTL)
	assert.Equal(t, 50000, cfg.Dedup.MaxEntries)
	assert.Equal(t, "Authorization", cfg.APIKeyHeader)
	assert.Equal(t, map[string]string{"RecordingConsent": "recording"}, cfg.ConsentAttributes)
	require.Len(t, cfg.Tenants, 2)
	assert.Equal(t, []configopaque.String{"key-current-0123456789", "key-previous-0123456789"}, cfg.Tenants[0].APIKeys)
	assert.Equal(t, "eventbridge", cfg.Tenants[0].BasicAuth[0].Username)
	assert.Equal(t, configopaque.String("om-secret-0123456789"), cfg.Tenants[0].OpenMessagingSecrets[0])
	assert.Equal(t, configopaque.String("tenant-specific-salt-abcdef"), cfg.Tenants[1].SubjectSalt)
	acw := cfg.DataActions["acw"]
	assert.Equal(t, "ccaas.interaction.wrapup", acw.EventName)
	assert.Equal(t, []string{"ani", "addressFrom"}, acw.Subject)
	assert.Equal(t, "$.mediaType", acw.Channel)
	assert.Equal(t, map[string]string{"attributes.RecordingConsent": "recording"}, acw.ConsentAttributes)
}

func TestLoadValid(t *testing.T) {
	for _, name := range []string{"minimal", "insecure"} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, confmap.Validate(loadConfig(t, name)))
		})
	}
}

func TestLoadInvalid(t *testing.T) {
	for name, want := range map[string]string{
		"short_secrets":         "tenants[0].api_keys[0] is shorter than 16 bytes",
		"insecure_with_tenants": "insecure_allow_unauthenticated is set while 1 tenant(s) are configured",
		"no_tenants":            "no tenants configured",
		"empty_secret":          "api_keys[0] is empty",
		"no_credentials":        "no credentials",
		"shared_key":            "keys must identify one tenant",
		"short_salt":            "subject_salt",
		"duplicate_org":         "configured twice",
		"bad_dedup":             "dedup.ttl must be positive",
		"bad_data_action":       "data_actions.bad/name: the name must be usable as a URL path segment",
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
	out, err := cfg.Tenants[0].APIKeys[0].MarshalText()
	require.NoError(t, err)
	assert.NotContains(t, string(out), "key-current-0123456789")
}
