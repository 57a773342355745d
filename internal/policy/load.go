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
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	return LoadBytes(ctx, path, b)
}

// LoadBytes decodes the content of a policy file, b, read from path (for
// error messages), expanding references like LoadFile.
func LoadBytes(ctx context.Context, path string, b []byte) (*Config, error) {
	resolver, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              []string{contentScheme + ":" + path},
		ProviderFactories: []confmap.ProviderFactory{contentProvider(b), fileprovider.NewFactory(), envprovider.NewFactory()},
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
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	return CompileBytes(ctx, path, b)
}

// CompileBytes compiles the content of a policy file, b, read from path:
// a caller that keeps b knows exactly which version it compiled.
func CompileBytes(ctx context.Context, path string, b []byte) (*Policy, error) {
	cfg, err := LoadBytes(ctx, path, b)
	if err != nil {
		return nil, err
	}
	p, err := Compile(cfg)
	if err != nil {
		return nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	return p, nil
}

// contentScheme names the provider that serves a policy file's content
// already read, so that it is read once.
const contentScheme = "consentry-policy"

func contentProvider(b []byte) confmap.ProviderFactory {
	return confmap.NewProviderFactory(func(confmap.ProviderSettings) confmap.Provider { return content(b) })
}

type content []byte

func (c content) Retrieve(context.Context, string, confmap.WatcherFunc) (*confmap.Retrieved, error) {
	return confmap.NewRetrievedFromYAML(c)
}

func (content) Scheme() string { return contentScheme }

func (content) Shutdown(context.Context) error { return nil }
