package consentledgerextension

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"

	"github.com/consentry/consentry/internal/configtest"
)

func TestConfigStruct(t *testing.T) {
	require.NoError(t, componenttest.CheckConfigStruct(NewFactory().CreateDefaultConfig()))
}

func TestDefaultConfigNeedsAKey(t *testing.T) {
	err := confmap.Validate(NewFactory().CreateDefaultConfig())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "at least one key-encryption key is required")
}

func TestConfigs(t *testing.T) {
	cfg := configtest.Load[*Config](t, NewFactory(), "")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, BackendSQLite, cfg.Backend)
	assert.Equal(t, "/var/lib/consentry/ledger.db", cfg.SQLite.Path)
	assert.Equal(t, "FULL", cfg.SQLite.Synchronous)
	assert.Equal(t, 1000, cfg.Batch.MaxRows)
	assert.Equal(t, 2*time.Millisecond, cfg.Batch.Linger)
	assert.Equal(t, 24*time.Hour, cfg.DedupWindow)

	pg := configtest.Load[*Config](t, NewFactory(), "postgres")
	require.NoError(t, confmap.Validate(pg))
	assert.Equal(t, BackendPostgres, pg.Backend)
	assert.Equal(t, "ledger", pg.Postgres.Schema)
	assert.Equal(t, 20, pg.Postgres.MaxConns)
	assert.Equal(t, "2026-06", pg.ActiveKey)
	assert.Equal(t, "/run/secrets/ledger-kek", pg.Keys[0].KeyFile)
	assert.Equal(t, 500, pg.Batch.MaxRows)
	assert.Equal(t, 5*time.Millisecond, pg.Batch.Linger)
	assert.Equal(t, 90*24*time.Hour, pg.Retention)
	// The DSN holds a password: it is opaque, so printing the config masks it.
	assert.Equal(t, "[REDACTED]", pg.Postgres.DSN.String())

	api := configtest.Load[*Config](t, NewFactory(), "api")
	require.NoError(t, confmap.Validate(api))
	require.True(t, api.API.HTTP.HasValue())
	assert.Equal(t, "127.0.0.1:7480", api.API.HTTP.Get().NetAddr.Endpoint)
	require.True(t, api.API.GRPC.HasValue())
	assert.Equal(t, "127.0.0.1:7481", api.API.GRPC.Get().NetAddr.Endpoint)
	assert.Len(t, api.API.Auth.Tokens, 1)
	assert.True(t, api.API.Console)
	assert.False(t, cfg.API.HTTP.HasValue() || cfg.API.GRPC.HasValue(), "the API is off unless configured")
	assert.False(t, cfg.API.Console, "the console is off unless configured")

	for name, want := range map[string]string{
		"api_no_auth":        "nobody could call the audit API",
		"api_short_salt":     "subject_salt: must be at least 16 bytes",
		"api_no_endpoint":    "http.endpoint: required",
		"no_keys":            "at least one key-encryption key is required",
		"empty_key":          "keys[0]: key or key_file is required",
		"short_key":          "keys[0].key:",
		"key_and_file":       "keys[0]: set key or key_file, not both",
		"bad_backend":        `backend: "mysql" is not sqlite or postgres`,
		"postgres_no_dsn":    "postgres.dsn: required",
		"sync_off":           `sqlite.synchronous: "OFF"`,
		"short_dedup_window": "dedup_window: must be at least 1h",
		"no_key_cache":       "key_cache_mib: must be at least 1",
		"unknown_active":     `active_key: no key has id "b"`,
		// Settings that would silently break a promise.
		"zero_key":             "not a random key",
		"api_certs_without_ca": "auth.client_certs: no API server verifies client certificates",
		"api_empty_token_hash": "SHA-256 of the empty string",
		// The console lives on the REST listener only.
		"api_console_without_http": "console: needs api.http",
		"console_without_api":      "console: needs api.http",
	} {
		t.Run(name, func(t *testing.T) {
			err := confmap.Validate(configtest.Load[*Config](t, NewFactory(), name))
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
		})
	}
}

func TestKeyNeverInErrors(t *testing.T) {
	secret := "this-is-not-a-valid-key-but-is-secret-0123456789"
	cfg := createDefaultConfig()
	cfg.Keys = []KeyConfig{{Key: configopaque.String("x" + secret)}}
	err := cfg.Validate()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
}

func TestTrustedPublicKeys(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	cfg := createDefaultConfig()
	cfg.Keys = []KeyConfig{{Key: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}}
	cfg.TrustedPublicKeys = []string{hex.EncodeToString(pub), base64.StdEncoding.EncodeToString(pub)}
	opts, err := cfg.ledgerOptions()
	require.NoError(t, err)
	assert.Equal(t, []ed25519.PublicKey{pub, pub}, opts.TrustedKeys)
	cfg.TrustedPublicKeys = []string{"not a key"}
	_, err = cfg.ledgerOptions()
	require.ErrorContains(t, err, "trusted_public_keys[0]")
}
