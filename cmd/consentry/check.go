package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"go.opentelemetry.io/collector/confmap"

	"github.com/consentry/consentry/internal/policy"
)

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("consentry policy check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var configs stringList
	fs.Var(&configs, "config", "collector configuration file (repeatable; merged in order like the collector's --config)")
	strict := fs.Bool("strict", false, "treat warnings (event names no receiver writes, unused sources...) as errors")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: consentry policy check --config FILE [--config FILE...] [--strict]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if len(configs) == 0 || fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	conf, err := loadCollectorConfig(ctx, configs)
	if err != nil {
		fmt.Fprintf(stderr, "consentry: %v\n", err)
		return exitUsage
	}
	procs, err := consentProcessors(conf)
	if err != nil {
		fmt.Fprintf(stderr, "consentry: %s: %v\n", strings.Join(configs, ", "), err)
		return exitUsage
	}
	if len(procs) == 0 {
		fmt.Fprintf(stderr, "consentry: %s: no consent processor (processors: consent or consent/<name>)\n", strings.Join(configs, ", "))
		return exitInvalid
	}
	failed := 0
	for _, p := range procs {
		err := p.err
		if err == nil {
			err = confmap.Validate(p.cfg)
		}
		var pol *policy.Policy
		if err == nil { // policy_file is read and compiled here, as at the collector's start
			pol, err = p.cfg.LoadPolicy(ctx)
		}
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "FAIL %s\n", p.id)
			for _, line := range strings.Split(err.Error(), "\n") {
				if line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- ")); line != "" {
					fmt.Fprintf(stdout, "     %s\n", line)
				}
			}
			continue
		}
		st := pol.Stats()
		source := "inline policy"
		if p.cfg.PolicyFile != "" {
			source = p.cfg.PolicyFile
		}
		status := "ok  "
		if *strict && len(pol.Warnings()) > 0 {
			status = "FAIL"
			failed++
		}
		fmt.Fprintf(stdout, "%s %s: %s, policy %s (%d processors, %d tenants, %d event purposes, %d consent sources)\n",
			status, p.id, source, pol.Hash(), st.Processors, st.Tenants, st.EventPurposes, st.ConsentSources)
		for _, w := range pol.Warnings() {
			fmt.Fprintf(stdout, "     warning: %s\n", w)
		}
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "consentry: %d of %d consent processor(s) failed the policy check\n", failed, len(procs))
		return exitInvalid
	}
	return exitOK
}
