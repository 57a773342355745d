package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/consentry/consentry/internal/ledger/postgres"
)

// defaultPostgresDSN is the -postgres default: CONSENTRY_BENCH_POSTGRES_DSN,
// else the tests' CONSENTRY_TEST_POSTGRES_DSN.
func defaultPostgresDSN(getenv func(string) string) string {
	if v := getenv("CONSENTRY_BENCH_POSTGRES_DSN"); v != "" {
		return v
	}
	return getenv("CONSENTRY_TEST_POSTGRES_DSN")
}

// pgLedger is a PostgreSQL scenario's ledger: a fresh schema of the
// -postgres database and the key-encryption key its collectors share.
type pgLedger struct {
	dsn    string
	schema string
	key    string // hex KEK
}

// newPGLedger checks that the database answers and names a new schema
// (the collectors create it).
func newPGLedger(ctx context.Context, dsn string) (*pgLedger, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &pgLedger{dsn: dsn, schema: "consentry_bench_" + randomHex(6), key: randomHex(32)}, nil
}

// rows counts the quarantined records (see storeRows).
func (p *pgLedger) rows(ctx context.Context) (int64, error) {
	st, err := postgres.Open(ctx, postgres.Config{DSN: p.dsn, Schema: p.schema})
	if err != nil {
		return 0, err
	}
	return storeRows(ctx, st, p.key)
}

// drop removes the schema and everything in it.
func (p *pgLedger) drop(ctx context.Context) {
	db, err := sql.Open("pgx", p.dsn)
	if err != nil {
		return
	}
	defer db.Close()
	_, _ = db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{p.schema}.Sanitize()+" CASCADE")
}

// postgresServerCPU is the utime+stime, in seconds, of the processes
// named postgres on this machine (the server and its backends; a backend
// that exits within a window is missed, so it is a lower bound). 0 where
// /proc cannot be read.
func postgresServerCPU() float64 {
	paths, _ := filepath.Glob("/proc/[0-9]*/comm")
	var total float64
	for _, p := range paths {
		comm, err := os.ReadFile(p)
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil {
			continue
		}
		if s, err := readProc(pid); err == nil {
			total += s.cpu
		}
	}
	return total
}
