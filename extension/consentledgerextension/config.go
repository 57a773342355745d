package consentledgerextension

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"github.com/consentry/consentry/extension/consentledgerextension/internal/auditapi"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"

	"github.com/consentry/consentry/internal/ledger"
)

// Backends.
const (
	BackendSQLite   = "sqlite"
	BackendPostgres = "postgres"
)

// Config configures the consent ledger.
type Config struct {
	// Backend is "sqlite" (default) or "postgres".
	Backend  string         `mapstructure:"backend"`
	SQLite   SQLiteConfig   `mapstructure:"sqlite"`
	Postgres PostgresConfig `mapstructure:"postgres"`

	// Keys are the key-encryption keys (32 bytes, hex or base64). The first
	// (or ActiveKey) wraps new data keys; the others only unwrap data keys
	// wrapped before a rotation.
	Keys      []KeyConfig `mapstructure:"keys"`
	ActiveKey string      `mapstructure:"active_key"`
	// SigningKey (or SigningKeyFile) is the ed25519 key that signs
	// checkpoints and tombstones; unset: derived from the active key.
	SigningKey     configopaque.String `mapstructure:"signing_key"`
	SigningKeyFile string              `mapstructure:"signing_key_file"`
	// TrustedPublicKeys are ed25519 public keys (hex or base64) whose
	// signatures verify too: signing keys used before a rotation.
	TrustedPublicKeys []string `mapstructure:"trusted_public_keys"`

	// WriterID names this collector's hash chain; WriterIDFile keeps a
	// generated one. See README.
	WriterID     string `mapstructure:"writer_id"`
	WriterIDFile string `mapstructure:"writer_id_file"`

	Batch      BatchConfig      `mapstructure:"batch"`
	Checkpoint CheckpointConfig `mapstructure:"checkpoint"`

	// KeyCacheSize is how many subjects' data keys stay unwrapped in
	// memory, KeyCacheMiB how much memory they may take.
	KeyCacheSize int `mapstructure:"key_cache_size"`
	KeyCacheMiB  int `mapstructure:"key_cache_mib"`
	// DataKeyMaxAge is how long a subject's data key encrypts new records.
	DataKeyMaxAge time.Duration `mapstructure:"data_key_max_age"`
	// CommitTimeout bounds one group commit.
	CommitTimeout time.Duration `mapstructure:"commit_timeout"`
	// DedupWindow is how long a stored event keeps its retries from being
	// stored again (SQLite; PostgreSQL de-duplicates over all time). At
	// least 24h by default: EventBridge retries for 24 hours.
	DedupWindow time.Duration `mapstructure:"dedup_window"`

	// Retention, when set, purges quarantined records stored longer ago
	// than this (signed tombstones stay), checked every RetentionInterval.
	Retention         time.Duration `mapstructure:"retention"`
	RetentionInterval time.Duration `mapstructure:"retention_interval"`

	// API serves the auditor API (off unless api.grpc or api.http is set).
	API APIConfig `mapstructure:"api"`
}

// SQLiteConfig configures the embedded SQLite database.
type SQLiteConfig struct {
	// Path of the database file (default data/ledger.db); its directory is
	// created if missing.
	Path string `mapstructure:"path"`
	// Synchronous is FULL (default) or NORMAL.
	Synchronous  string        `mapstructure:"synchronous"`
	CacheSizeMiB int           `mapstructure:"cache_size_mib"`
	ReadConns    int           `mapstructure:"read_connections"`
	BusyTimeout  time.Duration `mapstructure:"busy_timeout"`
}

// PostgresConfig configures the PostgreSQL database.
type PostgresConfig struct {
	// DSN is a libpq connection string or URL; it may hold a password.
	DSN configopaque.String `mapstructure:"dsn"`
	// Schema, when set, is created if missing and used as the search path.
	Schema         string        `mapstructure:"schema"`
	MaxConns       int           `mapstructure:"max_connections"`
	ConnectTimeout time.Duration `mapstructure:"connect_timeout"`
}

// KeyConfig is one key-encryption key.
type KeyConfig struct {
	// ID names the key in the database (data keys record the id of the key
	// that wrapped them). Default: derived from the key.
	ID string `mapstructure:"id"`
	// Key is the key itself (e.g. ${env:CONSENTRY_LEDGER_KEY}), or KeyFile
	// a file holding it.
	Key     configopaque.String `mapstructure:"key"`
	KeyFile string              `mapstructure:"key_file"`
}

// BatchConfig bounds a group commit.
type BatchConfig struct {
	MaxRows   int           `mapstructure:"max_rows"`
	Linger    time.Duration `mapstructure:"linger"`
	QueueSize int           `mapstructure:"queue_size"`
}

// CheckpointConfig sets the signed checkpoint cadence.
type CheckpointConfig struct {
	Every    int           `mapstructure:"every"`
	Interval time.Duration `mapstructure:"interval"`
}

func createDefaultConfig() *Config {
	return &Config{
		Backend: BackendSQLite,
		SQLite: SQLiteConfig{
			Path:        "data/ledger.db",
			Synchronous: "FULL",
		},
		Batch:             BatchConfig{MaxRows: 1000, Linger: 2 * time.Millisecond, QueueSize: 4096},
		Checkpoint:        CheckpointConfig{Every: 10000, Interval: 30 * time.Second},
		KeyCacheSize:      100000,
		KeyCacheMiB:       32,
		DataKeyMaxAge:     24 * time.Hour,
		CommitTimeout:     30 * time.Second,
		DedupWindow:       24 * time.Hour,
		RetentionInterval: time.Hour,
		API: APIConfig{
			// Off unless configured; when set, on top of the collector's defaults.
			GRPC: configoptional.Default(configgrpc.NewDefaultServerConfig()),
			HTTP: configoptional.Default(confighttp.NewDefaultServerConfig()),
			VerifyLimit: RateLimitConfig{
				Burst: auditapi.DefaultVerifyLimit.Burst, Interval: auditapi.DefaultVerifyLimit.Every,
			},
			UnauthenticatedLogWindow: time.Minute,
		},
	}
}

// Validate checks the configuration without touching files or databases.
func (c *Config) Validate() error {
	var errs []error
	switch c.Backend {
	case BackendSQLite:
		if c.SQLite.Path == "" {
			errs = append(errs, errors.New("sqlite.path: required"))
		}
		switch strings.ToUpper(c.SQLite.Synchronous) {
		case "", "FULL", "NORMAL":
		default:
			errs = append(errs, fmt.Errorf("sqlite.synchronous: %q is not FULL or NORMAL (OFF would acknowledge events that a crash can lose)", c.SQLite.Synchronous))
		}
		if string(c.Postgres.DSN) != "" {
			errs = append(errs, errors.New("postgres.dsn is set but backend is sqlite; set backend: postgres"))
		}
	case BackendPostgres:
		if string(c.Postgres.DSN) == "" {
			errs = append(errs, errors.New("postgres.dsn: required with backend postgres"))
		}
	default:
		errs = append(errs, fmt.Errorf("backend: %q is not sqlite or postgres", c.Backend))
	}
	if len(c.Keys) == 0 {
		errs = append(errs, errors.New("keys: at least one key-encryption key is required (e.g. key: ${env:CONSENTRY_LEDGER_KEY}); the ledger never stores payloads unencrypted"))
	}
	ids := map[string]bool{}
	for i, k := range c.Keys {
		switch {
		case k.Key == "" && k.KeyFile == "":
			errs = append(errs, fmt.Errorf("keys[%d]: key or key_file is required (an unset key is an error, not an empty key)", i))
		case k.Key != "" && k.KeyFile != "":
			errs = append(errs, fmt.Errorf("keys[%d]: set key or key_file, not both", i))
		case k.Key != "":
			if _, err := ledger.ParseKey(string(k.Key)); err != nil {
				// The error never includes the key.
				errs = append(errs, fmt.Errorf("keys[%d].key: %w", i, err))
			}
		}
		if k.ID != "" {
			if ids[k.ID] {
				errs = append(errs, fmt.Errorf("keys[%d].id: %q is used twice", i, k.ID))
			}
			ids[k.ID] = true
		}
	}
	if c.ActiveKey != "" && !ids[c.ActiveKey] {
		errs = append(errs, fmt.Errorf("active_key: no key has id %q", c.ActiveKey))
	}
	if c.SigningKey != "" && c.SigningKeyFile != "" {
		errs = append(errs, errors.New("set signing_key or signing_key_file, not both"))
	}
	if c.WriterID != "" && c.WriterIDFile != "" {
		errs = append(errs, errors.New("set writer_id or writer_id_file, not both"))
	}
	if c.Batch.MaxRows < 1 {
		errs = append(errs, errors.New("batch.max_rows: must be at least 1"))
	}
	if c.Batch.QueueSize < 1 {
		errs = append(errs, errors.New("batch.queue_size: must be at least 1"))
	}
	if c.Checkpoint.Every < 1 || c.Checkpoint.Interval <= 0 {
		errs = append(errs, errors.New("checkpoint: every and interval must be positive"))
	}
	if c.KeyCacheSize < 1 {
		errs = append(errs, errors.New("key_cache_size: must be at least 1"))
	}
	if c.KeyCacheMiB < 1 {
		errs = append(errs, errors.New("key_cache_mib: must be at least 1"))
	}
	if c.DataKeyMaxAge <= 0 || c.CommitTimeout <= 0 {
		errs = append(errs, errors.New("data_key_max_age and commit_timeout must be positive"))
	}
	if c.DedupWindow < time.Hour {
		errs = append(errs, errors.New("dedup_window: must be at least 1h (vendors retry for hours; EventBridge for 24h)"))
	}
	if c.Retention < 0 {
		errs = append(errs, errors.New("retention: must not be negative"))
	}
	if c.Retention > 0 && c.RetentionInterval <= 0 {
		errs = append(errs, errors.New("retention_interval: must be positive when retention is set"))
	}
	return errors.Join(errs...)
}

// ledgerOptions resolves keys (reading key files) into ledger options.
func (c *Config) ledgerOptions() (ledger.Options, error) {
	opts := ledger.Options{
		ActiveKEK:          c.ActiveKey,
		WriterID:           c.WriterID,
		WriterIDFile:       c.WriterIDFile,
		BatchRows:          c.Batch.MaxRows,
		BatchLinger:        c.Batch.Linger,
		QueueSize:          c.Batch.QueueSize,
		CheckpointEvery:    c.Checkpoint.Every,
		CheckpointInterval: c.Checkpoint.Interval,
		KeyCacheSize:       c.KeyCacheSize,
		KeyCacheBytes:      int64(c.KeyCacheMiB) << 20,
		DataKeyMaxAge:      c.DataKeyMaxAge,
		CommitTimeout:      c.CommitTimeout,
		DedupWindow:        c.DedupWindow,
	}
	for i, k := range c.Keys {
		raw := string(k.Key)
		if k.KeyFile != "" {
			b, err := os.ReadFile(k.KeyFile)
			if err != nil {
				return opts, fmt.Errorf("keys[%d].key_file: %w", i, err)
			}
			raw = strings.TrimSpace(string(b))
		}
		key, err := ledger.ParseKey(raw)
		if err != nil {
			return opts, fmt.Errorf("keys[%d]: %w", i, err)
		}
		opts.KEKs = append(opts.KEKs, ledger.KEK{ID: k.ID, Key: key})
	}
	switch {
	case c.SigningKey != "":
		opts.SigningKey = []byte(c.SigningKey)
	case c.SigningKeyFile != "":
		b, err := os.ReadFile(c.SigningKeyFile)
		if err != nil {
			return opts, fmt.Errorf("signing_key_file: %w", err)
		}
		opts.SigningKey = []byte(strings.TrimSpace(string(b)))
		if len(opts.SigningKey) == 0 {
			// An empty file (a secret mount that failed) must not silently
			// fall back to the derived key: pinned public keys would stop
			// verifying and nothing would say why.
			return opts, fmt.Errorf("signing_key_file %s is empty", c.SigningKeyFile)
		}
	}
	for i, s := range c.TrustedPublicKeys {
		// An ed25519 public key is 32 bytes, written like a KEK.
		pk, err := ledger.ParseKey(s)
		if err != nil {
			return opts, fmt.Errorf("trusted_public_keys[%d]: %w", i, err)
		}
		opts.TrustedKeys = append(opts.TrustedKeys, ed25519.PublicKey(pk))
	}
	return opts, nil
}
