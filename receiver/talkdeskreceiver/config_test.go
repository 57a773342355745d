package talkdeskreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/internal/configtest"
	"github.com/consentry/consentry/receiver/talkdeskreceiver/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	return configtest.Load[*Config](t, NewFactory(), name)
}

func TestConfigStruct(t *testing.T) {
	require.NoError(t, componenttest.CheckConfigStruct(NewFactory().CreateDefaultConfig()))
}

func TestDefaultConfigAuthenticatesNothing(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	assert.Equal(t, "localhost:7404", cfg.NetAddr.Endpoint)
	assert.Equal(t, int64(1<<20), cfg.MaxRequestBodySize)
	assert.Equal(t, "X-Consentry-Token", cfg.TokenHeader)
	err := confmap.Validate(cfg)
	require.Error(t, err, "the default config has no secrets and must not validate")
	assert.Contains(t, err.Error(), "nothing can be authenticated")
}

func TestLoadFull(t *testing.T) {
	cfg := loadConfig(t, "full")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, "0.0.0.0:7404", cfg.NetAddr.Endpoint)
	assert.Equal(t, int64(262144), cfg.MaxRequestBodySize)
	assert.Equal(t, 10*time.Second, cfg.RetryAfter)
	assert.Equal(t, 24*time.Hour, cfg.Dedup.TTL)
	assert.Equal(t, 50000, cfg.Dedup.MaxEntries)
	assert.Equal(t, "Authorization", cfg.TokenHeader)
	assert.Equal(t, map[string]string{"RecordingConsent": "recording"}, cfg.ConsentFields)
	assert.Equal(t, map[string]string{"call-done": "inboundCallEnds"}, cfg.TriggerAliases)
	assert.Equal(t, []string{"caller.number", "contact_phone_number"}, cfg.Fields.CustomerPhone, "a list replaces its default")
	assert.Empty(t, cfg.Fields.RecordingURL, "an empty list turns the field off")
	assert.Equal(t, defaultFields().CustomerEmail, cfg.Fields.CustomerEmail, "unset lists keep their default")
	require.Len(t, cfg.Tenants, 2)
	assert.Equal(t, "starship", cfg.Tenants[0].AccountName)
	assert.Equal(t, []configopaque.String{"header-token-current-0123", "header-token-previous-012"}, cfg.Tenants[0].HeaderTokens)
	assert.Equal(t, []configopaque.String{"url-token-0123456789abcdef"}, cfg.Tenants[0].URLTokens)
	assert.Equal(t, configopaque.String("tenant-specific-salt-abcdef"), cfg.Tenants[1].SubjectSalt)
	require.Len(t, cfg.EventsAPI.SignatureKeys, 2)
	assert.Equal(t, "2b4f6e8a0c1d3e5f", cfg.EventsAPI.SignatureKeys[0].ID)

	// The loaded configuration builds a receiver (keys parse, tokens load).
	_, err := NewFactory().CreateLogs(t.Context(), receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
}

func TestLoadValid(t *testing.T) {
	for _, name := range []string{"minimal", "events_only", "insecure"} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, confmap.Validate(loadConfig(t, name)))
		})
	}
}

func TestLoadInvalid(t *testing.T) {
	for name, want := range map[string]string{
		"nothing":             "nothing can be authenticated",
		"empty_token":         "header_tokens[0] is empty",
		"short_token":         "url_tokens[0] is shorter than 16",
		"no_credentials":      "no credentials",
		"shared_token":        "a token must identify one tenant",
		"header_token_in_url": "a token must identify one tenant and one place",
		"duplicate_account":   "configured twice",
		"no_account_id":       "account_id must be set",
		"short_salt":          "subject_salt must be at least 16 bytes",
		"short_tenant_salt":   "tenants[0].subject_salt must be at least 16 bytes",
		"bad_key":             "signature_keys[0]: key \"k1\"",
		"duplicate_key_id":    "configured twice",
		"empty_key_id":        "empty key id",
		"bad_header":          "not a valid header name",
		"bad_alias":           "not a known Talkdesk trigger",
		"bad_consent_field":   "must not contain spaces or dots",
		"bad_dedup":           "dedup.ttl must be positive",
		"bad_field":           "fields.customer_email[0]",
	} {
		t.Run(name, func(t *testing.T) {
			err := confmap.Validate(loadConfig(t, name))
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
		})
	}
}

func TestValidationErrorsNeverEchoSecrets(t *testing.T) {
	for _, name := range []string{"shared_token", "header_token_in_url", "short_token"} {
		err := confmap.Validate(loadConfig(t, name))
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "same-token")
		assert.NotContains(t, err.Error(), "short]")
	}
}

func TestSecretsAreMaskedWhenPrinted(t *testing.T) {
	cfg := loadConfig(t, "full")
	for _, s := range []configopaque.String{cfg.Tenants[0].HeaderTokens[0], cfg.Tenants[0].URLTokens[0], cfg.SubjectSalt} {
		out, err := s.MarshalText()
		require.NoError(t, err)
		assert.NotContains(t, string(out), string(s))
	}
}
