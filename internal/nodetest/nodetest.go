// Package nodetest lets tests run Node.js programs committed with their
// package-lock.json (Segment's SDK client in e2e, the IAB test vector
// generator): it finds node and npm, and installs the dependencies with
// npm ci when they are missing.
package nodetest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Require returns the path of node after making sure node and npm are
// installed and dir's dependencies are there (probe, a path relative to
// dir such as node_modules/@scope/pkg/package.json, exists; otherwise npm
// ci runs in dir). Without node or npm the test fails under CI (CI set)
// and is skipped elsewhere, loudly; why says what needs them.
func Require(t testing.TB, dir, probe, why string) string {
	t.Helper()
	node, nodeErr := exec.LookPath("node")
	_, npmErr := exec.LookPath("npm")
	if nodeErr != nil || npmErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node and npm are required to %s (node: %v, npm: %v)", why, nodeErr, npmErr)
		}
		t.Skipf("SKIPPED: node or npm not installed, cannot %s (set CI to make this a failure): node: %v, npm: %v", why, nodeErr, npmErr)
	}
	if _, err := os.Stat(filepath.Join(dir, probe)); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	return node
}
