package consentrouterconnector

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pipeline"

	"github.com/consentry/consentry/internal/consentledger"
)

// Config lists the pipelines each decision is routed to.
type Config struct {
	// Forward receives records whose consent.decision is exactly "forward".
	Forward []pipeline.ID `mapstructure:"forward"`
	// Quarantine receives every other record: consent.decision
	// "quarantine", a missing or malformed decision, anything unexpected.
	Quarantine []pipeline.ID `mapstructure:"quarantine"`
	// Ledger, when set, is the consent_ledger extension the router registers
	// its forward pipelines with, so that records the auditor API releases
	// flow to the same place as records forwarded at once. Unset: nothing
	// can be released through this router.
	Ledger consentledger.ID `mapstructure:"ledger"`
}

// Validate checks that both routes exist and are disjoint: a pipeline in
// both lists would receive quarantined records.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Forward) == 0 {
		errs = append(errs, errors.New("forward: at least one pipeline is required"))
	}
	if len(c.Quarantine) == 0 {
		errs = append(errs, errors.New("quarantine: at least one pipeline is required (there is no default: quarantined records must go somewhere durable)"))
	}
	seen := map[pipeline.ID]bool{}
	for _, id := range c.Forward {
		if id.Signal() != pipeline.SignalLogs {
			errs = append(errs, fmt.Errorf("forward: %q is not a logs pipeline", id))
		}
		seen[id] = true
	}
	for _, id := range c.Quarantine {
		if id.Signal() != pipeline.SignalLogs {
			errs = append(errs, fmt.Errorf("quarantine: %q is not a logs pipeline", id))
		}
		if seen[id] {
			errs = append(errs, fmt.Errorf("pipeline %q is in both forward and quarantine", id))
		}
	}
	return errors.Join(errs...)
}
