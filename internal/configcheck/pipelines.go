// Package configcheck finds collector configurations that would silently
// break Consentry's promises, so that the collector refuses them at start
// (the consent_ledger extension runs Pipelines on the configuration the
// collector hands it before the pipelines start):
//
//   - a vendor gets its 2xx only once its event is forwarded or durably in
//     the ledger: no batch processor (which acknowledges before it exports)
//     on the way to the quarantine exporter, and no sending queue on the
//     quarantine exporter;
//   - what may not flow is kept in the ledger: every pipeline that receives
//     the consent_router's quarantined records (and logs/quarantine) ends
//     in the quarantine exporter and nowhere else;
//   - what the consent processor tagged reaches a consent_router and
//     nothing else: the processor withholds quarantined bodies only in a
//     collector without a router (its unrouted option), and it is not told
//     its pipeline, so a pipeline that exports its records beside or
//     instead of the router would pass quarantined bodies on whole.
package configcheck

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Component types the checks know.
const (
	typeBatch      = "batch"
	typeQuarantine = "quarantine"
	typeRouter     = "consent_router"
	typeConsent    = "consent"
)

type pipeline struct {
	receivers, processors, exporters []string
}

type config struct {
	pipelines  map[string]pipeline
	connectors map[string]map[string]any
	exporters  map[string]map[string]any
	processors map[string]map[string]any
}

func typeOf(id string) string {
	t, _, _ := strings.Cut(id, "/")
	return t
}

// Pipelines checks a collector configuration (confmap.Conf.ToStringMap)
// and returns every problem, joined; nil when there is none.
func Pipelines(raw map[string]any) error {
	c := parse(raw)
	var errs []error
	// The pipelines that receive quarantined records must end in the
	// quarantine exporter.
	targets := map[string]string{} // pipeline -> why it is one
	for id, cfg := range c.connectors {
		if typeOf(id) != typeRouter {
			continue
		}
		for _, p := range strs(cfg["quarantine"]) {
			targets[p] = fmt.Sprintf("the %s connector routes quarantined records to it", id)
		}
	}
	for id := range c.pipelines {
		if id == "logs/quarantine" {
			if _, ok := targets[id]; !ok {
				targets[id] = "it is named logs/quarantine"
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(targets)) {
		if _, ok := c.pipelines[id]; !ok {
			continue // the collector itself refuses a route to an unknown pipeline
		}
		if bad := c.leaks(id, map[string]bool{}); len(bad) > 0 {
			errs = append(errs, fmt.Errorf("service::pipelines::%s: %s, but it does not end in the quarantine exporter alone (%s): quarantined records would leave the ledger unencrypted; export them to a quarantine exporter only",
				id, targets[id], strings.Join(bad, "; ")))
		}
	}
	// Nothing on the way to the quarantine exporter may acknowledge a
	// record before the ledger has it.
	for _, id := range slices.Sorted(maps.Keys(c.pipelines)) {
		if !c.feedsQuarantine(id, map[string]bool{}) {
			continue
		}
		for _, p := range c.pipelines[id].processors {
			if typeOf(p) == typeBatch {
				errs = append(errs, fmt.Errorf("service::pipelines::%s: the %s processor is on the way to the quarantine exporter: it acknowledges records before they are stored, so a vendor would get its 2xx for an event that a crash loses; remove it from this pipeline (the ledger commits in groups itself)", id, p))
			}
		}
	}
	errs = append(errs, c.unrouted()...)
	for _, id := range slices.Sorted(maps.Keys(c.exporters)) {
		if typeOf(id) != typeQuarantine {
			continue
		}
		if q, ok := c.exporters[id]["sending_queue"]; ok && enabled(q) {
			errs = append(errs, fmt.Errorf("exporters::%s::sending_queue: a queue acknowledges records before the ledger has stored them (and a persistent queue writes them to disk unencrypted); remove it", id))
		}
	}
	return errors.Join(errs...)
}

// unrouted finds pipelines in which a consent processor's records reach
// something other than a consent_router: with a router elsewhere in the
// collector the processor passes quarantined records on whole, and this
// pipeline would export them. A processor whose unrouted option is set to
// pass explicitly is the operator's stated choice and is not refused.
func (c *config) unrouted() []error {
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(c.pipelines)) {
		p := c.pipelines[id]
		for _, proc := range p.processors {
			if typeOf(proc) != typeConsent || c.processors[proc]["unrouted"] == "pass" {
				continue
			}
			var other []string
			for _, e := range p.exporters {
				if typeOf(e) != typeRouter {
					other = append(other, e)
				}
			}
			if len(other) > 0 {
				errs = append(errs, fmt.Errorf("service::pipelines::%s: the %s processor's records are exported to %s beside or instead of a consent_router: records it decided to quarantine would leave whole (it withholds their bodies only in a collector without a router); export this pipeline to a consent_router alone, or set processors::%s::unrouted: pass to accept that",
					id, proc, strings.Join(other, ", "), proc))
			}
			break
		}
	}
	return errs
}

// leaks returns what a quarantine pipeline exports to other than the
// quarantine exporter (following connectors to the pipelines they feed).
func (c *config) leaks(id string, seen map[string]bool) []string {
	if seen[id] {
		return nil
	}
	seen[id] = true
	p := c.pipelines[id]
	if len(p.exporters) == 0 {
		return []string{"it has no exporter"}
	}
	var bad []string
	for _, e := range p.exporters {
		switch {
		case typeOf(e) == typeQuarantine:
		case c.isConnector(e):
			downstream := c.receiving(e)
			if len(downstream) == 0 {
				bad = append(bad, "connector "+e+" feeds no pipeline")
			}
			for _, d := range downstream {
				bad = append(bad, c.leaks(d, seen)...)
			}
		default:
			bad = append(bad, "exporter "+e+" in "+id)
		}
	}
	return bad
}

// feedsQuarantine reports whether records of pipeline id reach a
// quarantine exporter.
func (c *config) feedsQuarantine(id string, seen map[string]bool) bool {
	if seen[id] {
		return false
	}
	seen[id] = true
	for _, e := range c.pipelines[id].exporters {
		if typeOf(e) == typeQuarantine {
			return true
		}
		if c.isConnector(e) {
			for _, d := range c.receiving(e) {
				if c.feedsQuarantine(d, seen) {
					return true
				}
			}
		}
	}
	return false
}

func (c *config) isConnector(id string) bool {
	_, ok := c.connectors[id]
	return ok
}

// receiving returns the pipelines that have connector id as a receiver.
func (c *config) receiving(id string) []string {
	var out []string
	for _, pid := range slices.Sorted(maps.Keys(c.pipelines)) {
		if slices.Contains(c.pipelines[pid].receivers, id) {
			out = append(out, pid)
		}
	}
	return out
}

func parse(raw map[string]any) *config {
	c := &config{pipelines: map[string]pipeline{}, connectors: map[string]map[string]any{}, exporters: map[string]map[string]any{}, processors: map[string]map[string]any{}}
	for id, v := range asMap(raw["connectors"]) {
		c.connectors[id] = asMap(v)
	}
	for id, v := range asMap(raw["exporters"]) {
		c.exporters[id] = asMap(v)
	}
	for id, v := range asMap(raw["processors"]) {
		c.processors[id] = asMap(v)
	}
	for id, v := range asMap(asMap(raw["service"])["pipelines"]) {
		m := asMap(v)
		c.pipelines[id] = pipeline{receivers: strs(m["receivers"]), processors: strs(m["processors"]), exporters: strs(m["exporters"])}
	}
	return c
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

func strs(v any) []string {
	var out []string
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	case []string:
		out = append(out, t...)
	}
	return out
}

// enabled reads a sending_queue setting: present and not enabled: false.
func enabled(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return v != nil
	}
	e, ok := m["enabled"]
	if !ok {
		return true
	}
	b, ok := e.(bool)
	return !ok || b
}
