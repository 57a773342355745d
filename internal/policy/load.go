package policy

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.uber.org/zap"
)

// FromConf decodes a policy from a confmap (the processor's `policy` key
// or a parsed policy file). Unknown keys are errors.
func FromConf(conf *confmap.Conf) (*Config, error) {
	cfg := &Config{}
	if err := conf.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// LoadFile reads a policy file (YAML, the same keys as the processor's
// `policy`). ${env:NAME}, ${env:NAME:-default} and ${file:path} references
// are expanded the way the collector expands its configuration.
func LoadFile(ctx context.Context, path string) (*Config, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	resolver, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              []string{"file:" + path},
		ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
		DefaultScheme:     "env",
		ProviderSettings:  confmap.ProviderSettings{Logger: zap.NewNop()},
	})
	if err != nil {
		return nil, err
	}
	defer func() { _ = resolver.Shutdown(ctx) }()
	conf, err := resolver.Resolve(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	cfg, err := FromConf(conf)
	if err != nil {
		return nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	return cfg, nil
}

// CompileFile loads and compiles a policy file.
func CompileFile(ctx context.Context, path string) (*Policy, error) {
	cfg, err := LoadFile(ctx, path)
	if err != nil {
		return nil, err
	}
	p, err := Compile(cfg)
	if err != nil {
		return nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	return p, nil
}
