package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.uber.org/zap"

	"github.com/consentry/consentry/processor/consentprocessor"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// loadCollectorConfig resolves a collector configuration the way the
// collector does: files merged in order, ${env:NAME}, ${env:NAME:-default},
// ${NAME} and ${file:path} expanded. Unset variables expand to nothing, as
// in the collector; only the consent processors' sections are validated
// here, so the receivers' secrets need not be set.
func loadCollectorConfig(ctx context.Context, paths []string) (*confmap.Conf, error) {
	uris := make([]string, len(paths))
	for i, p := range paths {
		uris[i] = p
		if !strings.HasPrefix(p, "file:") && !strings.HasPrefix(p, "env:") {
			uris[i] = "file:" + p
		}
	}
	resolver, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              uris,
		ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
		DefaultScheme:     "env",
		ProviderSettings:  confmap.ProviderSettings{Logger: zap.NewNop()},
	})
	if err != nil {
		return nil, err
	}
	defer func() { _ = resolver.Shutdown(ctx) }()
	return resolver.Resolve(ctx)
}

// consentProcessor is one consent processor of a collector configuration.
type consentProcessor struct {
	id  component.ID
	cfg *consentprocessor.Config
	err error // the section could not be decoded
}

// consentProcessors finds every consent and consent/<name> processor.
func consentProcessors(conf *confmap.Conf) ([]consentProcessor, error) {
	procs, err := conf.Sub("processors")
	if err != nil {
		return nil, fmt.Errorf("processors: %w", err)
	}
	factory := consentprocessor.NewFactory()
	var out []consentProcessor
	keys := procs.ToStringMap()
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		var id component.ID
		if err := id.UnmarshalText([]byte(name)); err != nil || id.Type() != factory.Type() {
			continue
		}
		cfg := factory.CreateDefaultConfig().(*consentprocessor.Config)
		p := consentProcessor{id: id, cfg: cfg}
		section, err := procs.Sub(name)
		if err == nil {
			err = section.Unmarshal(cfg)
		}
		p.err = err
		out = append(out, p)
	}
	return out, nil
}

// subSection returns the section of a component kind ("receivers") whose
// type is typ: "typ" itself, else the first "typ/<name>"; nil if none.
func subSection(conf *confmap.Conf, kind, typ string) *confmap.Conf {
	all, err := conf.Sub(kind)
	if err != nil {
		return nil
	}
	keys := all.ToStringMap()
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == typ || strings.HasPrefix(name, typ+"/") {
			sub, err := all.Sub(name)
			if err == nil {
				return sub
			}
		}
	}
	return nil
}
