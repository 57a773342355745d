package webhook

import (
	"errors"
	"fmt"
	"runtime"
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

	// Admission bounds the requests in progress, before their bodies are
	// read (docs/design/admission-control.md, "Two gates").
	Admission AdmissionConfig `mapstructure:"admission"`
}

// AdmissionConfig is the receiver's cheap gate: at most MaxInFlight requests
// are read, authenticated, decoded and delivered at once; a request that
// finds no slot within MaxWait gets 503 with Retry-After, its body unread.
type AdmissionConfig struct {
	// MaxInFlight bounds the requests in progress; 0 means no bound.
	MaxInFlight int `mapstructure:"max_in_flight"`
	// MaxWait is how long a request may wait for a slot; 0 refuses at once.
	MaxWait time.Duration `mapstructure:"max_wait"`
}

// DefaultMaxInFlightPerCPU times GOMAXPROCS is the default bound on requests
// in progress. Throughput is in-flight / latency: 256 per core carries 10,000
// requests/s at 50 ms per request on two cores, above the flat-out rates
// measured (docs/benchmarks.md), so only a backlog is refused.
const DefaultMaxInFlightPerCPU = 256

// DefaultAdmissionMaxWait is short: a request queued behind a full set of
// slots has its answer (503) long before the vendors' 5 s timeout, and a
// burst shorter than it is absorbed.
const DefaultAdmissionMaxWait = 100 * time.Millisecond

// maxAdmissionWait is the strictest vendor timeout (EventBridge, Segment,
// Twilio Event Streams): a request held longer is abandoned before its 503.
const maxAdmissionWait = 5 * time.Second

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
		Admission: AdmissionConfig{
			MaxInFlight: DefaultMaxInFlightPerCPU * runtime.GOMAXPROCS(0),
			MaxWait:     DefaultAdmissionMaxWait,
		},
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
	if c.Admission.MaxInFlight < 0 {
		errs = append(errs, fmt.Errorf("admission.max_in_flight must not be negative (0 means no bound), got %d", c.Admission.MaxInFlight))
	}
	if c.Admission.MaxWait < 0 || c.Admission.MaxWait >= maxAdmissionWait {
		errs = append(errs, fmt.Errorf("admission.max_wait must be at least 0 and below %s (the vendors' timeout), got %s", maxAdmissionWait, c.Admission.MaxWait))
	}
	return errors.Join(errs...)
}
