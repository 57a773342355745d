package webhook

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
)

// DefaultMaxRequestBodySize is 1 MiB: EventBridge entries are below 256 KB and
// Segment events below 32 KB, so anything larger is refused with 413.
const DefaultMaxRequestBodySize = 1 << 20

// Config is the part of every Consentry receiver's configuration that is about
// HTTP: the collector's standard server settings (endpoint, TLS, auth
// extensions, body limit, timeouts) plus de-duplication and back-off advice.
type Config struct {
	confighttp.ServerConfig `mapstructure:",squash"`

	// Dedup remembers accepted event ids so that vendor retries of an event
	// already acknowledged produce no second record.
	Dedup DedupConfig `mapstructure:"dedup"`

	// RetryAfter is sent in the Retry-After header of 503 answers, when the
	// pipeline refuses an event with a retryable error.
	RetryAfter time.Duration `mapstructure:"retry_after"`
}

// DedupConfig bounds the in-memory de-duplication cache.
type DedupConfig struct {
	Enabled    bool          `mapstructure:"enabled"`
	TTL        time.Duration `mapstructure:"ttl"`
	MaxEntries int           `mapstructure:"max_entries"`
}

// NewDefaultConfig returns defaults for a receiver listening on endpoint.
func NewDefaultConfig(endpoint string) Config {
	srv := confighttp.NewDefaultServerConfig()
	srv.NetAddr.Endpoint = endpoint
	srv.MaxRequestBodySize = DefaultMaxRequestBodySize
	srv.ReadTimeout = 30 * time.Second
	return Config{
		ServerConfig: srv,
		Dedup:        DedupConfig{Enabled: true, TTL: 96 * time.Hour, MaxEntries: 200_000},
		RetryAfter:   5 * time.Second,
	}
}

// Validate checks the webhook settings. The embedded server settings are
// validated by the collector on their own.
func (c *Config) Validate() error {
	var errs []error
	if c.NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("endpoint must be set (host:port)"))
	}
	if c.MaxRequestBodySize < 0 {
		errs = append(errs, errors.New("max_request_body_size must not be negative"))
	}
	if c.Dedup.Enabled {
		if c.Dedup.TTL <= 0 {
			errs = append(errs, fmt.Errorf("dedup.ttl must be positive, got %s", c.Dedup.TTL))
		}
		if c.Dedup.MaxEntries <= 0 {
			errs = append(errs, fmt.Errorf("dedup.max_entries must be positive, got %d", c.Dedup.MaxEntries))
		}
	}
	if c.RetryAfter < time.Second {
		errs = append(errs, fmt.Errorf("retry_after must be at least 1s, got %s", c.RetryAfter))
	}
	return errors.Join(errs...)
}
