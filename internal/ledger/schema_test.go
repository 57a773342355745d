package ledger_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSameSchema checks that both backends' migrations define the same
// tables, columns and indexes.
func TestSameSchema(t *testing.T) {
	sq := schemaOf(t, "sqlite/migrations/0001_init.sql")
	pg := schemaOf(t, "postgres/migrations/0001_init.sql")
	if len(sq) < 8 {
		t.Fatalf("parsed only %v", sq)
	}
	if !slices.Equal(sq, pg) {
		t.Fatalf("schemas differ:\nsqlite:   %v\npostgres: %v", sq, pg)
	}
}

var (
	createTable = regexp.MustCompile(`(?s)CREATE TABLE (\w+) \((.*?)\n\)`)
	createIndex = regexp.MustCompile(`CREATE (UNIQUE )?INDEX (\w+) ON (\w+) \(([^)]*)\)`)
	column      = regexp.MustCompile(`^\s*(\w+)\s+(TEXT|INTEGER|BIGINT|BLOB|BYTEA)`)
)

func schemaOf(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range createTable.FindAllStringSubmatch(string(b), -1) {
		var cols []string
		for _, line := range strings.Split(m[2], "\n") {
			if c := column.FindStringSubmatch(line); c != nil {
				cols = append(cols, c[1])
			}
		}
		out = append(out, "table "+m[1]+"("+strings.Join(cols, ",")+")")
	}
	for _, m := range createIndex.FindAllStringSubmatch(string(b), -1) {
		out = append(out, "index "+m[1]+m[2]+" "+m[3]+"("+strings.ReplaceAll(m[4], " ", "")+")")
	}
	slices.Sort(out)
	return out
}
