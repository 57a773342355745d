package conventions

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const root = "../.."

// componentDirs are the directories of the collector components.
func componentDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, kind := range []string{"receiver", "processor", "connector", "exporter", "extension"} {
		ents, err := os.ReadDir(filepath.Join(root, kind))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if _, err := os.Stat(filepath.Join(root, kind, e.Name(), "factory.go")); e.IsDir() && err == nil {
				dirs = append(dirs, filepath.Join(kind, e.Name()))
			}
		}
	}
	if len(dirs) < 8 {
		t.Fatalf("found only %d components: %v", len(dirs), dirs)
	}
	return dirs
}

// generatedFiles are the files metagen writes for a component.
func generatedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if !d.IsDir() && (strings.HasPrefix(name, "generated_") || name == "documentation.md" || name == "README.md") {
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestEveryComponentHasMetadata: metadata.yaml, documentation.md and the
// generated tests exist for every component.
func TestEveryComponentHasMetadata(t *testing.T) {
	for _, dir := range componentDirs(t) {
		for _, f := range []string{"metadata.yaml", "documentation.md", "generated_component_test.go", "generated_package_test.go", "internal/metadata/generated_status.go"} {
			if _, err := os.Stat(filepath.Join(root, dir, f)); err != nil {
				t.Errorf("%s: %v", dir, err)
			}
		}
	}
}

// TestGeneratedMetadataIsCurrent regenerates every component's files from
// its metadata.yaml into a temporary directory and fails, naming the stale
// files, if the committed ones differ (run make generate).
func TestGeneratedMetadataIsCurrent(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("bash is needed to run scripts/generate-metadata.sh: %v", err)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	cmd := exec.Command("bash", filepath.Join(abs, "scripts", "generate-metadata.sh"), tmp)
	cmd.Dir = abs
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/generate-metadata.sh failed: %v\n%s", err, out)
	}
	var stale []string
	for _, dir := range componentDirs(t) {
		fresh := generatedFiles(t, filepath.Join(tmp, dir))
		committed := generatedFiles(t, filepath.Join(abs, dir))
		seen := map[string]bool{}
		for _, name := range fresh {
			seen[name] = true
			want, err := os.ReadFile(filepath.Join(tmp, dir, name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(abs, dir, name))
			switch {
			case os.IsNotExist(err):
				stale = append(stale, filepath.Join(dir, name)+" (missing)")
			case err != nil:
				t.Fatal(err)
			case !bytes.Equal(got, want):
				stale = append(stale, filepath.Join(dir, name)+" (differs)")
			}
		}
		for _, name := range committed {
			if !seen[name] {
				stale = append(stale, filepath.Join(dir, name)+" (no longer generated)")
			}
		}
	}
	if len(stale) > 0 {
		t.Errorf("generated files are stale; run make generate:\n  %s", strings.Join(stale, "\n  "))
	}
}

// TestEveryPackageChecksForLeaks: every package with tests has a TestMain
// that runs goleak.VerifyTestMain.
func TestEveryPackageChecksForLeaks(t *testing.T) {
	withTests := map[string]bool{}
	withLeakCheck := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "_build", "data", "node_modules", "testdata", "tools":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.Dir(path)
		withTests[dir] = true
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if ok && fn.Name.Name == "TestMain" && calls(fn, "goleak", "VerifyTestMain") {
				withLeakCheck[dir] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(withTests) < 30 {
		t.Fatalf("found only %d packages with tests", len(withTests))
	}
	for dir := range withTests {
		if !withLeakCheck[dir] {
			t.Errorf("%s: its tests have no TestMain calling goleak.VerifyTestMain", dir)
		}
	}
}

func calls(fn *ast.FuncDecl, pkg, name string) bool {
	found := false
	ast.Inspect(fn, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == name {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == pkg {
				found = true
			}
		}
		return !found
	})
	return found
}
