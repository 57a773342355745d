package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/consentry/consentry/internal/evidence"
	"github.com/consentry/consentry/internal/ledger"
)

const bundleUsage = `Usage:
  consentry bundle verify [--public-key HEX]... [--allow-unanchored] FILE|DIR...
  consentry token hash < token.txt

bundle verify  checks evidence bundles exported by the auditor API
               (ExportEvidence) offline: every record digest and payload hash,
               the hash chains up to the signed checkpoints, the checkpoint and
               tombstone signatures, and the manifest. A directory means every
               *.ndjson file in it. --public-key pins the ledger's signing key
               (VerifyLedger's public_key); without it the bundle's own key is
               used and its id printed, to compare with the published one.
               Exit 0: every bundle verifies; 1: a problem; 2: usage or I/O.
token hash     prints the SHA-256 (hex) of the bearer token read from standard
               input (one line; a trailing newline is ignored): what
               api.auth.tokens[].sha256 holds.
`

// runBundle is `consentry bundle ...`.
func runBundle(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprint(stderr, bundleUsage)
		return exitUsage
	}
	fs := flag.NewFlagSet("bundle verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var keys multiFlag
	fs.Var(&keys, "public-key", "trusted ed25519 public key, hex or base64 (repeatable)")
	allowUnanchored := fs.Bool("allow-unanchored", false, "accept records no signed checkpoint covers yet")
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, bundleUsage)
		return exitUsage
	}
	opts := evidence.Options{AllowUnanchored: *allowUnanchored}
	for _, k := range keys {
		b, err := ledger.ParseKey(k)
		if err != nil {
			fmt.Fprintf(stderr, "consentry: --public-key %q is not an ed25519 public key (64 hex digits or base64): %v\n", k, err)
			return exitUsage
		}
		opts.PublicKeys = append(opts.PublicKeys, ed25519.PublicKey(b))
	}
	var files []string
	for _, a := range fs.Args() {
		st, err := os.Stat(a)
		if err != nil {
			fmt.Fprintf(stderr, "consentry: %v\n", err)
			return exitUsage
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		m, _ := filepath.Glob(filepath.Join(a, "*.ndjson"))
		if len(m) == 0 {
			fmt.Fprintf(stderr, "consentry: no *.ndjson bundle in %s\n", a)
			return exitUsage
		}
		sort.Strings(m)
		files = append(files, m...)
	}
	code := exitOK
	for _, f := range files {
		if c := verifyBundleFile(f, opts, stdout, stderr); c > code {
			code = c
		}
	}
	return code
}

func verifyBundleFile(path string, opts evidence.Options, stdout, stderr io.Writer) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "consentry: %v\n", err)
		return exitUsage
	}
	defer f.Close()
	rep, err := evidence.Verify(f, opts)
	if err != nil {
		fmt.Fprintf(stdout, "%s: NOT VERIFIED: %v\n", path, err)
		return exitInvalid
	}
	verdict := "VERIFIED"
	if !rep.OK {
		verdict = "NOT VERIFIED"
	}
	fmt.Fprintf(stdout, "%s: %s\n", path, verdict)
	fmt.Fprintf(stdout, "  exported %s by %s (reason: %q), ledger key %s\n",
		rep.Header.CreatedAt.Format("2006-01-02T15:04:05Z07:00"), rep.Header.CreatedBy, rep.Header.Reason, rep.Header.KeyID)
	fmt.Fprintf(stdout, "  %d records (%d anchored by signed checkpoints, %d unanchored), %d with payload, unreadable: %v\n",
		rep.Records, rep.Anchored, rep.Unanchored, rep.WithPayload, rep.Unreadable)
	fmt.Fprintf(stdout, "  %d chain entries of %d writers, %d checkpoints signed by %s, manifest sha256 %s\n",
		rep.ChainEntries, len(rep.Writers), rep.Checkpoints, strings.Join(rep.KeyIDs, ", "), rep.Manifest.SHA256)
	if len(opts.PublicKeys) == 0 {
		fmt.Fprintf(stdout, "  key not pinned: compare %s with the ledger's published key (or pass --public-key)\n", rep.Header.KeyID)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "  problem: %s\n", p)
	}
	if rep.Truncated {
		fmt.Fprintln(stdout, "  (more problems not listed)")
	}
	if !rep.OK {
		return exitInvalid
	}
	return exitOK
}

// runToken is `consentry token hash`.
func runToken(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] != "hash" {
		fmt.Fprint(stderr, bundleUsage)
		return exitUsage
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 8192)).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintf(stderr, "consentry: %v\n", err)
		return exitUsage
	}
	tok := strings.TrimRight(line, "\r\n")
	if tok == "" {
		fmt.Fprintln(stderr, "consentry: no token on standard input")
		return exitUsage
	}
	sum := sha256.Sum256([]byte(tok)) // the same as auditapi.HashToken
	fmt.Fprintln(stdout, hex.EncodeToString(sum[:]))
	return exitOK
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }
