package consentryv1_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
)

// generated reports whether name is a file scripts/generate.sh writes.
func generated(name string) bool {
	return strings.HasSuffix(name, ".pb.go") || strings.HasSuffix(name, ".pb.gw.go") || name == "openapi.swagger.json" || name == "openapi.v3.json"
}

func listGenerated(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && generated(e.Name()) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// TestGeneratedCodeIsCurrent regenerates the code from the .proto files with
// the pinned generators into a temporary directory and fails, naming the
// stale files, if the committed code differs. The first run builds the
// generators (about a minute on a cold cache).
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "generate.sh"), tmp)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/generate.sh failed: %v\n%s", err, out)
	}
	fresh := listGenerated(t, filepath.Join(tmp, "consentry", "v1"))
	committed := listGenerated(t, ".")
	var stale []string
	seen := map[string]bool{}
	for _, name := range fresh {
		seen[name] = true
		want, err := os.ReadFile(filepath.Join(tmp, "consentry", "v1", name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		switch {
		case os.IsNotExist(err):
			stale = append(stale, name+" (missing)")
		case err != nil:
			t.Fatal(err)
		case !bytes.Equal(got, want):
			stale = append(stale, name+" (differs)")
		}
	}
	for _, name := range committed {
		if !seen[name] {
			stale = append(stale, name+" (no longer generated)")
		}
	}
	if len(stale) > 0 {
		t.Fatalf("generated code in api/consentry/v1 is stale: %s\nrun `make generate` (scripts/generate.sh) and commit the result", strings.Join(stale, ", "))
	}
}

func TestOpenAPIEmbedded(t *testing.T) {
	var doc struct {
		Swagger string                    `json:"swagger"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(consentryv1.OpenAPI, &doc); err != nil {
		t.Fatalf("embedded OpenAPI document: %v", err)
	}
	if doc.Swagger != "2.0" {
		t.Fatalf("swagger %q", doc.Swagger)
	}
	for path, method := range map[string]string{
		"/v1/quarantine/records":      "get",
		"/v1/quarantine/records/{id}": "get",
		"/v1/evidence:export":         "post",
		"/v1/subjects:erase":          "post",
	} {
		if _, ok := doc.Paths[path][method]; !ok {
			t.Errorf("OpenAPI document lacks %s %s", strings.ToUpper(method), path)
		}
	}
}
