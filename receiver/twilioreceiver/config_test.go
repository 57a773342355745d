package twilioreceiver

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
	assert.Equal(t, "localhost:7402", cfg.NetAddr.Endpoint)
	assert.Equal(t, int64(1<<20), cfg.MaxRequestBodySize)
	assert.Equal(t, 24*time.Hour, cfg.Dedup.TTL)
	err := confmap.Validate(cfg)
	require.Error(t, err, "the default config has no secrets and must not validate")
	assert.Contains(t, err.Error(), "no tenants configured")
}

func TestLoadFull(t *testing.T) {
	cfg := loadConfig(t, "full")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, "0.0.0.0:7402", cfg.NetAddr.Endpoint)
	assert.Equal(t, "https://hooks.example.com/consentry", cfg.PublicURL)
	assert.Equal(t, int64(524288), cfg.MaxRequestBodySize)
	assert.Equal(t, 10*time.Second, cfg.RetryAfter)
	assert.Equal(t, 6*time.Hour, cfg.Dedup.TTL)
	assert.Equal(t, 50000, cfg.Dedup.MaxEntries)
	assert.Equal(t, map[string]string{"recording_consent": "recording", "consent.analytics": "analytics"}, cfg.ConsentAttributes)
	assert.Equal(t, []string{"crm.customer_phone", "crm.customer_id"}, cfg.SubjectAttributes)
	require.Len(t, cfg.Tenants, 2)
	assert.Equal(t, []configopaque.String{"token-current-0123456789", "token-previous-0123456789"}, cfg.Tenants[0].AuthTokens)
	assert.Equal(t, []string{"ACfedcba9876543210fedcba9876543210"}, cfg.Tenants[0].SubaccountSIDs)
	assert.Equal(t, configopaque.String("tenant-specific-salt-abcdef"), cfg.Tenants[1].SubjectSalt)
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
		"short_token":                 "tenants[0].auth_tokens[0] is shorter than 16 bytes",
		"insecure_with_tenants":       "insecure_allow_unauthenticated is set while 1 tenant(s) are configured",
		"no_tenants":                  "no tenants configured",
		"empty_token":                 "auth_tokens[0] is empty",
		"no_token":                    "auth_tokens must list",
		"bad_sid":                     "is not a Twilio account SID",
		"no_public_url":               "public_url must be set",
		"public_url_with_query":       "must not have a query",
		"public_url_with_credentials": "must not contain credentials",
		"public_url_no_scheme":        "must start with https://",
		"shared_token":                "a token must identify one tenant",
		"duplicate_account":           "configured twice",
		"short_salt":                  "subject_salt",
		"bad_signal":                  "must not contain spaces or dots",
		"bad_dedup":                   "dedup.ttl must be positive",
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
	out, err := cfg.Tenants[0].AuthTokens[0].MarshalText()
	require.NoError(t, err)
	assert.NotContains(t, string(out), "token-current-0123456789")
}
