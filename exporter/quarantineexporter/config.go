package quarantineexporter

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/consentry/consentry/internal/consentledger"
)

// Config configures the quarantine exporter.
type Config struct {
	// Ledger is the id of the consent_ledger extension that stores the
	// records (required; it must be listed in service.extensions).
	Ledger consentledger.ID `mapstructure:"ledger"`
	// Timeout bounds one export (waiting for the group commit included).
	// When it expires the export fails with a retryable error and the
	// vendor is asked to retry; a record committed meanwhile is then a
	// duplicate and stored once.
	Timeout time.Duration `mapstructure:"timeout"`
	// Admission refuses a batch at once (the vendor gets 503 with
	// Retry-After) when it would wait longer than MaxWait for its commit,
	// instead of queueing it behind an overloaded ledger.
	Admission AdmissionConfig `mapstructure:"admission"`
}

// AdmissionConfig configures admission control in front of the ledger.
type AdmissionConfig struct {
	// Enabled turns admission control on (the default).
	Enabled bool `mapstructure:"enabled"`
	// MaxWait bounds the estimated wait for the commit (records in flight
	// over the ledger's measured throughput) beyond which a batch is
	// refused. Positive and below timeout.
	MaxWait time.Duration `mapstructure:"max_wait"`
}

// DefaultMaxWait is admission's default bound: a fifth of the 5 s that
// Amazon EventBridge, Segment and Twilio Event Streams give a webhook, so
// that an accepted event is answered long before the vendor gives up, and
// well above the ledger's p99 when it is not overloaded (tens to a few
// hundred milliseconds), so that only overload is refused
// (docs/design/admission-control.md).
const DefaultMaxWait = time.Second

func createDefaultConfig() component.Config {
	return &Config{Timeout: 10 * time.Second, Admission: AdmissionConfig{Enabled: true, MaxWait: DefaultMaxWait}}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if err := c.Ledger.Require(); err != nil {
		errs = append(errs, err)
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("timeout: must be positive"))
	}
	if c.Admission.Enabled {
		switch {
		case c.Admission.MaxWait <= 0:
			errs = append(errs, errors.New("admission.max_wait: must be positive"))
		case c.Timeout > 0 && c.Admission.MaxWait >= c.Timeout:
			errs = append(errs, fmt.Errorf("admission.max_wait (%s) must be below timeout (%s): an admitted batch would time out first", c.Admission.MaxWait, c.Timeout))
		}
	}
	return errors.Join(errs...)
}
