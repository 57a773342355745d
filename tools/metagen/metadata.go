package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Metadata is the subset of mdatagen's metadata.yaml schema that Consentry
// uses. Unknown keys are errors, so that a key mdatagen would read and
// metagen would ignore cannot slip in.
type Metadata struct {
	Type        string               `yaml:"type"`
	DisplayName string               `yaml:"display_name"`
	Description string               `yaml:"description"`
	ScopeName   string               `yaml:"scope_name"`
	Status      Status               `yaml:"status"`
	Attributes  map[string]Attribute `yaml:"attributes"`
	Telemetry   Telemetry            `yaml:"telemetry"`
	Tests       Tests                `yaml:"tests"`

	// Set by read.
	Package    string   `yaml:"-"` // Go package name of the component
	ImportPath string   `yaml:"-"`
	Metrics    []Metric `yaml:"-"` // Telemetry.Metrics, sorted by name
}

// Status is the component's class, stability and distributions.
type Status struct {
	Class         string              `yaml:"class"`
	Stability     map[string][]string `yaml:"stability"`
	Distributions []string            `yaml:"distributions"`
	Warnings      []string            `yaml:"warnings"`
}

// Attribute is a metric attribute.
type Attribute struct {
	// NameOverride is the attribute's name when the key cannot be (two
	// attributes of one name with different values).
	NameOverride string   `yaml:"name_override"`
	Description  string   `yaml:"description"`
	Type         string   `yaml:"type"`
	Enum         []string `yaml:"enum"`
}

// Telemetry is the component's internal telemetry.
type Telemetry struct {
	Metrics map[string]*Metric `yaml:"metrics"`
}

// Metric is one internal metric.
type Metric struct {
	Name                  string     `yaml:"-"`
	Enabled               bool       `yaml:"enabled"`
	Description           string     `yaml:"description"`
	ExtendedDocumentation string     `yaml:"extended_documentation"`
	Unit                  string     `yaml:"unit"`
	Stability             string     `yaml:"stability"`
	Sum                   *Aggregate `yaml:"sum"`
	Gauge                 *Aggregate `yaml:"gauge"`
	Histogram             *Aggregate `yaml:"histogram"`
	Attributes            []string   `yaml:"attributes"`
}

// Aggregate is a metric's type settings.
type Aggregate struct {
	ValueType string `yaml:"value_type"`
	Monotonic bool   `yaml:"monotonic"`
	Async     bool   `yaml:"async"`
}

// Tests configures the generated tests.
type Tests struct {
	// Config is the component configuration the lifecycle test uses (on
	// top of the factory's defaults); the test reads it from metadata.yaml.
	Config        any    `yaml:"config"`
	SkipLifecycle bool   `yaml:"skip_lifecycle"`
	SkipShutdown  bool   `yaml:"skip_shutdown"`
	Host          string `yaml:"host"` // a Go expression of the package's tests; default componenttest.NewNopHost()
	GoLeak        GoLeak `yaml:"goleak"`
}

// GoLeak configures the goleak check of TestMain.
type GoLeak struct {
	Skip   bool `yaml:"skip"`
	Ignore struct {
		Top []string `yaml:"top"`
		Any []string `yaml:"any"`
	} `yaml:"ignore"`
}

var (
	classes    = []string{"receiver", "processor", "exporter", "connector", "extension"}
	levels     = []string{"development", "alpha", "beta", "stable", "deprecated", "unmaintained"}
	signals    = []string{"logs", "metrics", "traces", "logs_to_logs", "extension"}
	valueTypes = []string{"int", "double"}
)

// read loads and checks a metadata.yaml.
func read(path string) (*Metadata, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	md := &Metadata{}
	if err := dec.Decode(md); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	md.Package = filepath.Base(dir)
	if md.ImportPath, err = importPath(dir); err != nil {
		return nil, err
	}
	if md.ScopeName == "" {
		md.ScopeName = md.ImportPath
	}
	if md.Tests.Host == "" {
		md.Tests.Host = "componenttest.NewNopHost()"
	}
	for name, m := range md.Telemetry.Metrics {
		m.Name = name
		md.Metrics = append(md.Metrics, *m)
	}
	sort.Slice(md.Metrics, func(i, j int) bool { return md.Metrics[i].Name < md.Metrics[j].Name })
	return md, md.check()
}

func (md *Metadata) check() error {
	var errs []error
	if md.Type == "" {
		errs = append(errs, errors.New("type is required"))
	}
	if !slices.Contains(classes, md.Status.Class) {
		errs = append(errs, fmt.Errorf("status.class %q is not one of %v", md.Status.Class, classes))
	}
	if len(md.Status.Stability) == 0 {
		errs = append(errs, errors.New("status.stability is required"))
	}
	for level, sigs := range md.Status.Stability {
		if !slices.Contains(levels, level) {
			errs = append(errs, fmt.Errorf("status.stability: %q is not one of %v", level, levels))
		}
		for _, s := range sigs {
			if !slices.Contains(signals, s) {
				errs = append(errs, fmt.Errorf("status.stability.%s: %q is not one of %v", level, s, signals))
			}
		}
	}
	for _, m := range md.Metrics {
		where := "telemetry.metrics." + m.Name
		if m.Description == "" || m.Unit == "" {
			errs = append(errs, fmt.Errorf("%s: description and unit are required", where))
		}
		if !slices.Contains(levels, m.Stability) {
			errs = append(errs, fmt.Errorf("%s.stability %q is not one of %v", where, m.Stability, levels))
		}
		n := 0
		for _, a := range []*Aggregate{m.Sum, m.Gauge, m.Histogram} {
			if a == nil {
				continue
			}
			n++
			if !slices.Contains(valueTypes, a.ValueType) {
				errs = append(errs, fmt.Errorf("%s: value_type %q is not one of %v", where, a.ValueType, valueTypes))
			}
		}
		if n != 1 {
			errs = append(errs, fmt.Errorf("%s: exactly one of sum, gauge and histogram", where))
		}
		if m.Histogram != nil && m.Histogram.Async {
			errs = append(errs, fmt.Errorf("%s: a histogram cannot be asynchronous", where))
		}
		for _, a := range m.Attributes {
			if _, ok := md.Attributes[a]; !ok {
				errs = append(errs, fmt.Errorf("%s: attribute %q is not defined under attributes", where, a))
			}
		}
	}
	for name, a := range md.Attributes {
		if a.Description == "" || a.Type == "" {
			errs = append(errs, fmt.Errorf("attributes.%s: description and type are required", name))
		}
	}
	return errors.Join(errs...)
}

// importPath is the Go import path of dir, from the go.mod above it.
func importPath(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if mod, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
					rel, err := filepath.Rel(d, dir)
					if err != nil {
						return "", err
					}
					return strings.TrimSpace(mod) + "/" + filepath.ToSlash(rel), nil
				}
			}
			return "", fmt.Errorf("%s/go.mod has no module line", d)
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}

// Name is the attribute's name.
func (a Attribute) Name(key string) string {
	if a.NameOverride != "" {
		return a.NameOverride
	}
	return key
}

// camel turns "consentry.router.records" or "logs_to_logs" into
// "ConsentryRouterRecords", "LogsToLogs".
func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '_' || r == '-' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// Instrument is the Go instrument type of a metric, e.g. Int64Counter.
func (m Metric) Instrument() string {
	kind, agg := "", m.Sum
	switch {
	case m.Sum != nil && m.Sum.Monotonic:
		kind = "Counter"
	case m.Sum != nil:
		kind = "UpDownCounter"
	case m.Gauge != nil:
		kind, agg = "Gauge", m.Gauge
	default:
		kind, agg = "Histogram", m.Histogram
	}
	num := "Int64"
	if agg.ValueType == "double" {
		num = "Float64"
	}
	if agg.Async {
		return num + "Observable" + kind
	}
	return num + kind
}

// Type is the metric's type for documentation.md.
func (m Metric) Type() string {
	switch {
	case m.Sum != nil:
		return "Sum"
	case m.Gauge != nil:
		return "Gauge"
	}
	return "Histogram"
}

func (m Metric) agg() *Aggregate {
	switch {
	case m.Sum != nil:
		return m.Sum
	case m.Gauge != nil:
		return m.Gauge
	}
	return m.Histogram
}

// ValueType is "Int" or "Double".
func (m Metric) ValueType() string { return camel(m.agg().ValueType) }

// Monotonic is "true", "false", or "" for a gauge or histogram.
func (m Metric) Monotonic() string {
	if m.Sum == nil {
		return ""
	}
	return fmt.Sprint(m.Sum.Monotonic)
}

// Async reports an asynchronous (observable) instrument.
func (m Metric) Async() bool { return m.agg().Async }
