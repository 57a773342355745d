// Package configtest loads a component's testdata/config.yaml in tests, the
// way the collector would: the factory's defaults, then the named section
// unmarshalled on top.
package configtest

import (
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

// Factory is the part of every component factory the loader needs.
type Factory interface {
	Type() component.Type
	CreateDefaultConfig() component.Config
}

// Load returns the section "<type>/<name>" (or "<type>" when name is empty)
// of testdata/config.yaml over the factory's default config. It also checks
// the config struct's tags once per call.
func Load[C component.Config](t testing.TB, f Factory, name string) C {
	t.Helper()
	def := f.CreateDefaultConfig()
	if err := componenttest.CheckConfigStruct(def); err != nil {
		t.Fatalf("config struct: %v", err)
	}
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	id := component.NewID(f.Type())
	if name != "" {
		id = component.NewIDWithName(f.Type(), name)
	}
	sub, err := cm.Sub(id.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Unmarshal(def); err != nil {
		t.Fatalf("unmarshal %s: %v", id, err)
	}
	return def.(C)
}
