package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// Markers of the section of docs/benchmarks.md the bench owns.
const (
	beginMarker = "<!-- bench:begin -->"
	endMarker   = "<!-- bench:end -->"
)

// replaceSection puts section (without markers) between the markers of
// doc, or appends the markers and the section if doc has none. Everything
// outside the markers is kept byte for byte.
func replaceSection(doc []byte, section string) ([]byte, error) {
	block := beginMarker + "\n" + strings.TrimRight(section, "\n") + "\n" + endMarker
	b := bytes.Index(doc, []byte(beginMarker))
	e := bytes.Index(doc, []byte(endMarker))
	switch {
	case b < 0 && e < 0:
		out := bytes.TrimRight(doc, "\n")
		if len(out) > 0 {
			out = append(out, "\n\n"...)
		}
		return append(append(out, block...), '\n'), nil
	case b < 0 || e < 0 || e < b:
		return nil, errors.New("the bench markers are unbalanced: fix them by hand")
	case bytes.Count(doc, []byte(beginMarker)) > 1 || bytes.Count(doc, []byte(endMarker)) > 1:
		return nil, errors.New("the bench markers appear more than once: fix them by hand")
	}
	var out []byte
	out = append(out, doc[:b]...)
	out = append(out, block...)
	out = append(out, doc[e+len(endMarker):]...)
	return out, nil
}

// machine describes where the bench ran.
func machine() string {
	model, cores := "unknown CPU", runtime.NumCPU()
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				var kb int64
				fmt.Sscan(f[1], &kb)
				mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
			}
		}
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s, %d cores%s%s, %s, %s", model, cores, mem, kernel, runtime.Version(),
		time.Now().UTC().Format("2006-01-02 15:04 UTC"))
}

// num formats an integer with thousands separators.
func num(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func mib(b int64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

func mark(ok bool) string {
	if ok {
		return " ✓"
	}
	return " ✗"
}

// table renders the results as the markdown section.
func table(rs []*scenarioResult, cfg benchConfig) string {
	var b strings.Builder
	byName := map[string]*scenarioResult{}
	for _, r := range rs {
		byName[r.Name] = r
	}
	base := byName[scBaseline]
	empty := byName[scQuarantine]
	rate := num(cfg.Rate)
	fmt.Fprintf(&b, "## End-to-end: the distribution under signed webhooks (`make bench`)\n\n")
	fmt.Fprintf(&b, "Machine: %s.\n\n", machine())
	fmt.Fprintf(&b, "Command: `%s`. Each scenario starts `_build/otelcol-consentry` afresh; "+
		"phase 1 sends flat out over %d keep-alive connections for %s (after a %s warm-up), phase 2 at a fixed %s events/s (open loop, "+
		"latency from each event's due time, so queueing counts) for as long. One event per request, all four vendors in equal shares, "+
		"%s distinct subjects. CPU is the collector's utime+stime per second of wall time (cores), RSS its VmRSS sampled every 250 ms. "+
		"The load generator and the OTLP sink run in the bench process on the same %d cores, so absolute rates are lower bounds.\n\n",
		cfg.CommandLine, cfg.Connections, cfg.Duration, cfg.Warmup, rate, num(float64(cfg.Subjects)), runtime.NumCPU())
	fmt.Fprintf(&b, "| Scenario | Events/s flat out | Target | Ratio | p50 / p99 / p99.9 at %s/s | p99 target | CPU cores flat out / at %s/s | Peak RSS at %s/s (target ≤ 300 MiB) | non-2xx / errors |\n", rate, rate, rate)
	b.WriteString("| --- | ---: | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rs {
		if r.Skipped != "" {
			fmt.Fprintf(&b, "| %s | skipped: %s | | | | | | | |\n", r.Title, r.Skipped)
			continue
		}
		if o := r.Overload; r.Name == scOverload && o != nil {
			bound := fmt.Sprintf("%s ms", num(o.BoundMs))
			fmt.Fprintf(&b, "| %s | %s accepted of %s offered | 503s, nothing lost | %.1f %% 503, %.1f %% timed out (5 s), %s lost%s | 2xx only: %.1f / %.1f / max %.1f ms; from the send: %.1f / %.1f ms | 2xx p99 ≤ %s%s (from the send%s) | %.2f (overloaded) | %s | %d / %d |\n",
				r.Title, num(o.Accepted), num(o.Offered), 100*o.Share503, 100*o.ShareTimeout, num(float64(o.Lost)), mark(o.Lost == 0 && o.Acknowledged > 0),
				o.AcceptedP50, o.AcceptedP99, o.AcceptedMax, o.AcceptedServiceP50, o.AcceptedServiceP99, bound, mark(o.AcceptedP99 <= o.BoundMs), mark(o.AcceptedServiceP99 <= o.BoundMs),
				o.Cores, mib(r.FixedRSS), r.Non2xx, r.Errors)
			continue
		}
		target, ratio, p99t := "", "", "—"
		switch r.Name {
		case scBaseline:
			target, ratio = "reference", "1.00×"
		case scForward:
			ok := r.FlatRate >= 20000
			target = "≥ 20,000" + mark(ok)
			if base != nil && base.FlatRate > 0 {
				x := r.FlatRate / base.FlatRate
				ratio = fmt.Sprintf("%.2f× baseline (target ≥ 1.0×)%s", x, mark(x >= 1.0))
			}
		case scQuarantine, scMixed:
			target = "≥ 10,000" + mark(r.FlatRate >= 10000)
			if r.Name == scMixed {
				target = "— (quarantine ≥ 10,000)"
			}
			if base != nil && base.FlatRate > 0 {
				x := r.FlatRate / base.FlatRate
				ratio = fmt.Sprintf("%.2f× baseline", x)
				if r.Name == scQuarantine {
					ratio += " (target ≥ 1.0×)" + mark(x >= 1.0)
				}
			}
			p99t = "≤ 30 ms" + mark(r.P99 <= 30 && r.FixedOK)
		case scQuarantinePG, scSharedPG:
			target = "measured (no target)"
			var parts []string
			if base != nil && base.FlatRate > 0 {
				parts = append(parts, fmt.Sprintf("%.2f× baseline", r.FlatRate/base.FlatRate))
			}
			if empty != nil && empty.Skipped == "" && empty.FlatRate > 0 {
				parts = append(parts, fmt.Sprintf("%.2f× SQLite", r.FlatRate/empty.FlatRate))
			}
			if pg1 := byName[scQuarantinePG]; r.Name == scSharedPG && pg1 != nil && pg1.Skipped == "" && pg1.FlatRate > 0 {
				parts = append(parts, fmt.Sprintf("%.2f× one collector", r.FlatRate/pg1.FlatRate))
			}
			ratio = strings.Join(parts, ", ")
			p99t = "≤ 30 ms" + mark(r.P99 <= 30 && r.FixedOK)
		case scPrefilled:
			target = "within 20 % of empty"
			if empty != nil && empty.Skipped == "" && empty.FlatRate > 0 {
				x := r.FlatRate / empty.FlatRate
				ratio = fmt.Sprintf("%.2f× empty ledger%s", x, mark(x >= 0.8))
			}
			p99t = "≤ 30 ms" + mark(r.P99 <= 30 && r.FixedOK)
		}
		fixed := fmt.Sprintf("%.1f / %.1f / %.1f ms", r.P50, r.P99, r.P999)
		if !r.FixedOK {
			fixed += fmt.Sprintf(" (only %s/s achieved)", num(r.FixedRate))
		}
		cpu := fmt.Sprintf("%.2f / %.2f", r.FlatCores, r.FixedCores)
		if isPG(r.Name) {
			cpu += fmt.Sprintf(" (+ PostgreSQL server %.2f / %.2f)", r.PGFlatCores, r.PGFixedCores)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s%s | %d / %d |\n",
			r.Title, num(r.FlatRate), target, ratio, fixed, p99t, cpu,
			mib(r.FixedRSS), mark(r.FixedRSS > 0 && r.FixedRSS <= 300<<20), r.Non2xx, r.Errors)
	}
	b.WriteString("\nConsent processor's share of the collector's CPU while flat out (a CPU profile through the pprof extension, " +
		"samples with a consent processor function on the stack; BRIEF.md target ≤ 2 % of the forward path):")
	for _, r := range rs {
		if r.Skipped == "" && r.ProfileSamples > 0 {
			t := ""
			if r.Name == scForward {
				t = mark(r.ProcessorShare <= 0.02)
			}
			fmt.Fprintf(&b, " %s %.1f %%%s (%d samples);", r.Name, 100*r.ProcessorShare, t, r.ProfileSamples)
		}
	}
	b.WriteString("\n")
	for _, r := range rs {
		if o := r.Overload; r.Name == scOverload && o != nil {
			fmt.Fprintf(&b, "\nOverload: %s events/s offered (%d× the quarantine flat-out rate of %s/s) over %s connections, each request given the vendors' 5 s; "+
				"%s answered per second, %s of them 2xx; %.1f %% answered 503 with Retry-After (admission control, `admission.max_wait` %s ms), %.1f %% timed out, %.1f %% otherwise (unanswered at the end of the run, other errors). "+
				"p99 of every answer (503s included) %.1f ms; the generator fell up to %.0f ms behind its schedule (latencies count from the due time, so a lagging generator inflates them; "+
				"from the send, the collector's own time, the 2xx took p50 %.1f / p99 %.1f ms against the %s ms bound%s). %s: %s events acknowledged (2xx, warm-up included), %s records in the ledger after the collector stopped "+
				"(counted through the ledger's statistics), %s acknowledged events missing%s.\n",
				num(o.Offered), overloadFactor, num(o.Offered/overloadFactor), num(float64(o.Connections)),
				num(o.Achieved), num(o.Accepted), 100*o.Share503, num(o.BoundMs), 100*o.ShareTimeout, 100*o.ShareOther,
				o.RefusedP99, o.MaxLagMs, o.AcceptedServiceP50, o.AcceptedServiceP99, num(o.BoundMs), mark(o.AcceptedServiceP99 <= o.BoundMs), o.verdict(), num(float64(o.Acknowledged)), num(float64(o.LedgerRows)), num(float64(o.Lost)), mark(o.Lost == 0))
		}
	}
	for _, r := range rs {
		if du := r.Durability; du != nil && r.Skipped == "" {
			who := "the collector"
			if r.Replicas > 1 {
				who = fmt.Sprintf("the %d collectors (CPU above is their sum, RSS the larger; the generator's connections spread evenly over them, latencies from both)", r.Replicas)
			}
			fmt.Fprintf(&b, "\n%s: %s: %s events acknowledged by %s (2xx, warm-ups included), %s records in the PostgreSQL ledger after they stopped (counted through the ledger's statistics), %s acknowledged events missing%s.\n",
				r.Name, du.verdict(), num(float64(du.Acknowledged)), who, num(float64(du.LedgerRows)), num(float64(du.Lost)), mark(du.Lost == 0 && du.Acknowledged > 0))
		}
	}
	b.WriteString("\nScenarios: *forward* = every event's consent evidence lets config/policy.yaml forward it; " +
		"*quarantine* = every event quarantined into the SQLite ledger (durable before the 2xx); *overload* = quarantine offered at twice its flat-out rate, one phase; *mixed* = half and half; " +
		"*prefilled* = quarantine into a ledger that already holds the stated number of records; " +
		"*quarantine-pg* = quarantine into a PostgreSQL ledger (a fresh schema; the server on the same cores, its CPU shown beside the collector's); *shared-pg* = two collectors, each its own writer id, sharing that ledger; " +
		"*baseline* = the same distribution's stock `otlp` receiver (OTLP/HTTP) fed the same events as OTLP/JSON, one per request, " +
		"straight to the same exporter. Every forward path ends in the same `otlp_http` exporter " + exporterNote(cfg) +
		" to an OTLP/HTTP sink in the bench process that answers 200 at once.\n")
	return b.String()
}

func exporterNote(cfg benchConfig) string {
	if cfg.SyncExport {
		return "(no sending queue: the 2xx waits for the sink)"
	}
	return "(in-memory sending queue with batching, blocking when full)"
}
