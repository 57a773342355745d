package ccaas

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNamesAreDocumented keeps docs/semantic-conventions.md and the
// constants in names*.go in step.
func TestNamesAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/semantic-conventions.md")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("names*.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		n += checkDocumented(t, f, string(doc))
	}
	if n < 50 {
		t.Fatalf("found only %d names; did names.go move?", n)
	}
}

func checkDocumented(t *testing.T, f *ast.File, doc string) int {
	t.Helper()
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		vs, ok := node.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, v := range vs.Values {
			lit, ok := v.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				continue
			}
			s, _ := strconv.Unquote(lit.Value)
			name := vs.Names[i].Name
			if strings.HasPrefix(name, "Vendor") {
				continue // values, documented with ccaas.vendor
			}
			n++
			want := "`" + s
			if !strings.HasSuffix(s, ".") {
				want += "`"
			}
			if !strings.Contains(doc, want) {
				t.Errorf("%s = %q is not documented in docs/semantic-conventions.md", name, s)
			}
		}
		return true
	})
	return n
}
