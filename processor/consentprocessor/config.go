package consentprocessor

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/policy"
	"github.com/consentry/consentry/internal/tenant"
)

// Config is the consent processor's configuration.
type Config struct {
	// Policy is the consent policy, inline. Exactly one of policy and
	// policy_file must be set.
	Policy *policy.Config `mapstructure:"policy"`
	// PolicyFile is a YAML file holding the policy (the keys of `policy`).
	// It is watched and reloaded when its content changes; a broken new
	// version is logged and the previous policy stays in force.
	PolicyFile string `mapstructure:"policy_file"`
	// ReloadInterval is how often policy_file and tenants_file are checked
	// for changes; 0 disables reloading.
	ReloadInterval time.Duration `mapstructure:"reload_interval"`

	// TenantsFile is a tenants file or directory (docs/operations.md), the
	// one the receivers read: its tenants join the policy's, each with the
	// policy's tenant keys (consent_scope, notice, ...). It is read at
	// Start and reloaded like policy_file; a broken version is logged,
	// reported as the processor's status, and the previous tenants stay in
	// force.
	TenantsFile string `mapstructure:"tenants_file"`

	// Ledger is the consent_ledger extension that keeps consent records
	// (the processor's consent store) and to which the processor lends its
	// evaluator, so that quarantined records can be released. Unset: an
	// in-memory store, lost on restart, and no release.
	Ledger consentledger.ID `mapstructure:"ledger"`

	// Store is the earlier name of ledger, still read so that configs
	// written for v0.1 keep their consent records in the ledger; Start
	// logs a deprecation warning. Set ledger instead.
	Store consentledger.ID `mapstructure:"store"`

	// Cache keeps hot consent lookups off the store.
	Cache CacheConfig `mapstructure:"cache"`

	// Interactions remembers the subject and location of recent
	// interactions, for records that carry only an interaction id (Genesys
	// transcription and attribute events).
	Interactions InteractionsConfig `mapstructure:"interactions"`

	// ForwardedAttributes is full (default: every consent.* attribute on
	// every record) or minimal: records decided forward get only
	// consent.status, consent.decision, consent.reasons, consent.notice.id
	// and consent.policy.hash, which roughly halves the processor's cost per
	// record. Quarantined records always get every attribute: they are the
	// auditors' evidence.
	ForwardedAttributes string `mapstructure:"forwarded_attributes"`

	// Unrouted is what the processor does with a record it decided to
	// quarantine when no consent_router follows it in the collector:
	// drop_body (default), drop or pass (unrouted.go).
	Unrouted string `mapstructure:"unrouted"`

	// Metrics configures the processor's own metrics.
	Metrics MetricsConfig `mapstructure:"metrics"`
}

// Values of forwarded_attributes.
const (
	AttributesFull    = "full"
	AttributesMinimal = "minimal"
)

// CacheConfig configures the consent lookup cache.
type CacheConfig struct {
	// TTL of a cached subject that has consent records.
	TTL time.Duration `mapstructure:"ttl"`
	// NegativeTTL of a cached subject that has none.
	NegativeTTL time.Duration `mapstructure:"negative_ttl"`
	// MaxEntries bounds the cached subjects.
	MaxEntries int `mapstructure:"max_entries"`
}

// InteractionsConfig configures the interaction memory.
type InteractionsConfig struct {
	// MaxEntries bounds the remembered interactions (oldest first out); 0
	// disables the memory.
	MaxEntries int `mapstructure:"max_entries"`
	// TTL is how long an interaction is remembered after its last record.
	TTL time.Duration `mapstructure:"ttl"`
	// Shared shares the memory with the other replicas of a PostgreSQL
	// ledger (through the ledger's database), so that a record is joined to
	// its interaction whichever replica saw the interaction start. It has
	// no effect on a ledger of one collector (SQLite) or without a ledger.
	Shared bool `mapstructure:"shared"`
	// SharedMissTTL is how long an interaction that the shared memory did
	// not know is not asked about again: the bound of the delay after
	// which a record that raced ahead of its interaction's first record on
	// another replica is joined.
	SharedMissTTL time.Duration `mapstructure:"shared_miss_ttl"`
}

// MetricsConfig configures the processor's metrics.
type MetricsConfig struct {
	// TenantAttribute adds the tenant id to the records and reasons metrics
	// (tenants outside the policy count as "_unknown"). Turn it off when
	// the policy has many tenants.
	TenantAttribute bool `mapstructure:"tenant_attribute"`
}

func createDefaultConfig() component.Config {
	return &Config{
		ReloadInterval: 5 * time.Second,
		Cache:          CacheConfig{TTL: 30 * time.Second, NegativeTTL: 10 * time.Second, MaxEntries: 100_000},
		Interactions:   InteractionsConfig{MaxEntries: 100_000, TTL: 4 * time.Hour, Shared: true, SharedMissTTL: time.Second},
		Metrics:        MetricsConfig{TenantAttribute: true},

		ForwardedAttributes: AttributesFull,
		Unrouted:            UnroutedDropBody,
	}
}

// Validate checks the configuration. An inline policy is compiled here to
// check it (no file is read); policy_file is read and compiled once, at
// Start, so that the version checked is the version in force. Either way an
// invalid policy stops the collector before it accepts an event
// (`consentry policy check` checks policy files in CI).
func (c *Config) Validate() error {
	var errs []error
	switch {
	case c.Policy == nil && c.PolicyFile == "":
		errs = append(errs, errors.New("set policy (inline) or policy_file: without a policy every record would be quarantined"))
	case c.Policy != nil && c.PolicyFile != "":
		errs = append(errs, errors.New("set policy or policy_file, not both"))
	case c.Policy != nil && c.TenantsFile == "":
		// With a tenants file, the policy is compiled with its tenants at
		// Start.
		if _, err := policy.Compile(c.Policy); err != nil {
			errs = append(errs, fmt.Errorf("policy: %w", err))
		}
	}
	if c.Store.IsSet() && c.Ledger.IsSet() {
		errs = append(errs, errors.New("store is the deprecated name of ledger: set only ledger"))
	}
	if c.ForwardedAttributes != AttributesFull && c.ForwardedAttributes != AttributesMinimal {
		errs = append(errs, fmt.Errorf("forwarded_attributes must be %q or %q, got %q", AttributesFull, AttributesMinimal, c.ForwardedAttributes))
	}
	if err := validateUnrouted(c.Unrouted); err != nil {
		errs = append(errs, err)
	}
	if c.ReloadInterval < 0 {
		errs = append(errs, fmt.Errorf("reload_interval must not be negative, got %s", c.ReloadInterval))
	}
	if c.Cache.TTL < 0 || c.Cache.NegativeTTL < 0 {
		errs = append(errs, errors.New("cache.ttl and cache.negative_ttl must not be negative (0 disables caching)"))
	}
	if c.Cache.MaxEntries <= 0 {
		errs = append(errs, fmt.Errorf("cache.max_entries must be positive, got %d", c.Cache.MaxEntries))
	}
	if c.Interactions.MaxEntries < 0 {
		errs = append(errs, fmt.Errorf("interactions.max_entries must not be negative, got %d", c.Interactions.MaxEntries))
	}
	if c.Interactions.MaxEntries > 0 && c.Interactions.TTL <= 0 {
		errs = append(errs, fmt.Errorf("interactions.ttl must be positive, got %s", c.Interactions.TTL))
	}
	if c.Interactions.SharedMissTTL < 0 {
		errs = append(errs, fmt.Errorf("interactions.shared_miss_ttl must not be negative, got %s", c.Interactions.SharedMissTTL))
	}
	return errors.Join(errs...)
}

// LoadPolicy compiles the configured policy (reading policy_file and
// tenants_file if set).
func (c *Config) LoadPolicy(ctx context.Context) (*policy.Policy, error) {
	base, _, err := c.readPolicy(ctx)
	if err != nil {
		return nil, err
	}
	var f *tenant.File
	if c.TenantsFile != "" {
		if f, err = tenant.LoadFile(c.TenantsFile, nil); err != nil {
			return nil, err
		}
	}
	return c.compile(base, f)
}

// readPolicy reads the configured policy, without the tenants file's
// tenants; for policy_file it also returns the SHA-256 of the bytes it read
// (they are read once: the digest is of the version in force).
func (c *Config) readPolicy(ctx context.Context) (*policy.Config, [sha256.Size]byte, error) {
	if c.PolicyFile != "" {
		b, err := os.ReadFile(c.PolicyFile)
		if err != nil {
			return nil, [sha256.Size]byte{}, fmt.Errorf("policy file: %w", err)
		}
		base, err := policy.LoadBytes(ctx, c.PolicyFile, b)
		return base, sha256.Sum256(b), err
	}
	if c.Policy == nil {
		return nil, [sha256.Size]byte{}, errors.New("no policy configured")
	}
	return c.Policy, [sha256.Size]byte{}, nil
}

// compile compiles the policy base with the tenants of the tenants file f
// (nil: none).
func (c *Config) compile(base *policy.Config, f *tenant.File) (*policy.Policy, error) {
	cfg, err := withFileTenants(base, f)
	if err != nil {
		return nil, err
	}
	p, err := policy.Compile(cfg)
	switch {
	case err == nil:
		return p, nil
	case c.PolicyFile != "":
		return nil, fmt.Errorf("policy file %s: %w", c.PolicyFile, err)
	default:
		return nil, fmt.Errorf("policy: %w", err)
	}
}

func (c *Config) cacheConfig() consentstore.CacheConfig {
	return consentstore.CacheConfig{TTL: c.Cache.TTL, NegativeTTL: c.Cache.NegativeTTL, MaxEntries: c.Cache.MaxEntries}
}

// ledgerID is the consent_ledger extension named by ledger, or by its
// deprecated name store.
func (c *Config) ledgerID() consentledger.ID {
	if c.Ledger.IsSet() {
		return c.Ledger
	}
	return c.Store
}
