// Command consentry is the privacy engineer's and auditor's tool for
// Consentry's consent policies and evidence:
//
//	consentry policy check   --config FILE [--config FILE...] [--strict]
//	consentry policy explain --config FILE [--processor consent/NAME]
//	                         [--vendor VENDOR --route ROUTE --tenant ID] [--output text|json] EVENT.json
//	consentry bundle verify  [--public-key HEX]... [--allow-unanchored] FILE|DIR...
//	consentry token hash     < token.txt
//	consentry version
//
// `policy check` validates every consent processor (consent, consent/<name>)
// of a collector configuration, suitable for CI. `policy explain` decides
// one event, a vendor webhook body or an OTLP JSON logs document, the way
// the collector would, without running it.
//
// Exit codes: 0 success; 1 the policy is invalid (check) or the event could
// not be decided (explain); 2 usage or configuration errors.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

const usage = `Usage:
  consentry policy check   --config FILE [--config FILE...] [--strict]
  consentry policy explain --config FILE [--processor consent/NAME]
                           [--vendor VENDOR [--route ROUTE] [--tenant ID] [--salt SALT]]
                           [--output text|json] EVENT.json
  consentry bundle verify  [--public-key HEX]... [--allow-unanchored] FILE|DIR...
  consentry token hash     < token.txt
  consentry version

policy check    validates the consent processors' policies of a collector
                configuration (${env:...} and ${file:...} are expanded).
policy explain  decides one event (a vendor webhook body, or an OTLP JSON
                logs document) and prints the decision with its reasons.
bundle verify   checks an evidence bundle exported by the auditor API offline:
                manifest hashes, record digests, chain links and the signed
                checkpoint (docs/audit-api.md).
token hash      prints the SHA-256 of a bearer token read from stdin, the form
                in which the consent_ledger extension's config stores tokens.
version         prints the version (stamped from git by make dist).

Run "consentry policy check -h" or "consentry policy explain -h" for flags.
`

// Exit codes.
const (
	exitOK      = 0
	exitInvalid = 1
	exitUsage   = 2
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command, testable in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	switch args[0] {
	case "version", "--version":
		return runVersion(stdout)
	case "bundle":
		return runBundle(args[1:], stdout, stderr)
	case "token":
		return runToken(args[1:], os.Stdin, stdout, stderr)
	}
	if args[0] != "policy" || len(args) < 2 {
		fmt.Fprintf(stderr, "consentry: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	switch args[1] {
	case "check":
		return runCheck(ctx, args[2:], stdout, stderr)
	case "explain":
		return runExplain(ctx, args[2:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "consentry: unknown command \"policy %s\"\n\n%s", args[1], usage)
		return exitUsage
	}
}
