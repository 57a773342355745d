package quarantineexporter

import (
	"errors"
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
}

func createDefaultConfig() component.Config {
	return &Config{Timeout: 10 * time.Second}
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
	return errors.Join(errs...)
}
