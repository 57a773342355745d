// Package ledgertest gives tests outside internal/ledger a PostgreSQL
// schema of their own (and a loud skip when PostgreSQL is not configured)
// and test keys.
package ledgertest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// PostgresEnv names the variable holding the test database's DSN.
const PostgresEnv = "CONSENTRY_TEST_POSTGRES_DSN"

var seq atomic.Int64

// Postgres returns the test DSN and a fresh schema name, dropped when the
// test ends. Without CONSENTRY_TEST_POSTGRES_DSN the test is skipped with a
// message that says how to run it.
func Postgres(t testing.TB) (dsn, schema string) {
	t.Helper()
	dsn = os.Getenv(PostgresEnv)
	if dsn == "" {
		t.Skipf("SKIPPING POSTGRESQL TEST: %s is not set (e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable; .ci/run sets it)", PostgresEnv, PostgresEnv)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.ToLower(strings.NewReplacer("/", "_", " ", "_", "-", "_").Replace(t.Name()))
	if len(name) > 24 {
		name = name[:24]
	}
	schema = fmt.Sprintf("t_%s_%d_%d_%s", name, os.Getpid(), seq.Add(1), hex.EncodeToString(b[:]))
	t.Cleanup(func() { DropSchema(t, dsn, schema) })
	return dsn, schema
}

// DropSchema drops a schema and everything in it.
func DropSchema(t testing.TB, dsn, schema string) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
		return
	}
	defer db.Close()
	if _, err := db.Exec(`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`); err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
	}
}

// Key returns a random key-encryption key in hex.
func Key(t testing.TB) string {
	t.Helper()
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}
