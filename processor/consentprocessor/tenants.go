package consentprocessor

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/confmap"

	"github.com/consentry/consentry/internal/policy"
	"github.com/consentry/consentry/internal/tenant"
)

// withFileTenants returns base with the tenants of the tenants file f added
// after its own (base itself is not modified). Each file tenant's policy
// keys decode like a policy's tenants entry: an unknown key is an error.
func withFileTenants(base *policy.Config, f *tenant.File) (*policy.Config, error) {
	if f == nil {
		return base, nil
	}
	cfg := *base
	cfg.Tenants = make([]policy.TenantConfig, 0, len(base.Tenants)+len(f.Tenants))
	cfg.Tenants = append(cfg.Tenants, base.Tenants...)
	var errs []error
	for _, ft := range f.Tenants {
		var tc policy.TenantConfig
		if err := confmap.NewFromStringMap(ft.Policy).Unmarshal(&tc); err != nil {
			errs = append(errs, fmt.Errorf("tenants file %s: %s/%s: %w", f.Path, ft.Vendor, ft.ID, err))
			continue
		}
		cfg.Tenants = append(cfg.Tenants, tc)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &cfg, nil
}
