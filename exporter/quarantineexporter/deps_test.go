package quarantineexporter

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependsOnTheContractOnly: the exporter reaches the ledger through
// internal/consentledger alone, never through the consent_ledger extension
// or its storage engine (and so never links a database driver).
func TestDependsOnTheContractOnly(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the exporter's dependencies: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ./...: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	contract := false
	for _, p := range deps {
		for _, forbidden := range []string{
			"github.com/consentry/consentry/extension/",
			"github.com/consentry/consentry/internal/ledger",
			"github.com/consentry/consentry/internal/release",
			"modernc.org/sqlite",
			"github.com/jackc/pgx",
		} {
			if strings.HasPrefix(p, forbidden) {
				t.Errorf("the quarantine exporter depends on %s", p)
			}
		}
		contract = contract || p == "github.com/consentry/consentry/internal/consentledger"
	}
	if !contract {
		t.Errorf("the quarantine exporter does not use internal/consentledger; go list printed:\n%s", out)
	}
}
