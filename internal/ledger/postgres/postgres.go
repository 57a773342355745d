// Package postgres opens the consent ledger on PostgreSQL through pgx v5
// (its database/sql driver), for deployments where many collector replicas
// share one ledger. Each replica writes its own hash chain; a session
// advisory lock keeps two live processes from using the same writer id.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/consentry/consentry/internal/ledger/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Config configures the PostgreSQL connection.
type Config struct {
	// DSN is a libpq connection string or URL.
	DSN string
	// Schema, when set, is created if missing and used as the search path,
	// so that several ledgers (or tests) can share a database.
	Schema string
	// MaxConns bounds the connection pool (default 10).
	MaxConns int
	// ConnectTimeout bounds each connection attempt (default 10s).
	ConnectTimeout time.Duration
}

// Open connects and migrates the schema.
func Open(ctx context.Context, cfg Config) (*sqlstore.Store, error) {
	if cfg.DSN == "" {
		return nil, errors.New("postgres: dsn is empty")
	}
	pc, err := pgx.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if pc.ConnectTimeout == 0 {
		pc.ConnectTimeout = cfg.ConnectTimeout
	}
	// Batches vary in size: plan every statement for its actual arrays
	// rather than reuse a generic plan (which can turn a probe of the
	// unique index into a scan of the table).
	if _, ok := pc.RuntimeParams["plan_cache_mode"]; !ok {
		pc.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	d := dialect{}
	if cfg.Schema != "" {
		d.schema = pgx.Identifier{cfg.Schema}.Sanitize()
		pc.RuntimeParams["search_path"] = d.schema
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 10
	}
	db := stdlib.OpenDB(*pc)
	db.SetMaxOpenConns(cfg.MaxConns)
	db.SetMaxIdleConns(cfg.MaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return sqlstore.New(ctx, d, db, db)
}

type dialect struct{ schema string }

func (dialect) Name() string { return "postgres" }

func (dialect) Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

func (dialect) Shared() bool   { return true }
func (dialect) MultiRow() bool { return true }

// migrationLock is the advisory lock key replicas take while migrating.
const migrationLock = 0x636f6e73656e7472 // "consentr"

func (d dialect) BeforeMigrate(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return err
	}
	if d.schema != "" {
		if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+d.schema); err != nil {
			return err
		}
	}
	return nil
}

func (dialect) ReadTxOptions() *sql.TxOptions {
	return &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
}

// LockWriter takes a session advisory lock on the writer id, held on a
// dedicated connection until the returned function is called. Advisory
// locks are database-wide, so the key names the ledger's schema too: two
// ledgers in separate schemas of one database may use the same writer id.
func (dialect) LockWriter(ctx context.Context, db *sql.DB, writerID string) (func(), error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtextextended('consentry-ledger-writer:' || current_schema() || ':' || $1, 0))`, writerID).Scan(&ok); err != nil {
		conn.Close()
		return nil, err
	}
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("postgres: ledger writer id %q is in use by another live process; give each replica its own writer id", writerID)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.ExecContext(ctx, `SELECT pg_advisory_unlock(hashtextextended('consentry-ledger-writer:' || current_schema() || ':' || $1, 0))`, writerID)
		conn.Close()
	}, nil
}

func (dialect) Retryable(err error) bool { return Retryable(err) }

// Retryable reports whether an error from PostgreSQL is transient: the
// connection failed or was lost, the server is shutting down or starting,
// out of disk, memory or connections, a serialization failure or deadlock,
// or a deadline.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),       // insufficient resources: disk full, out of memory, too many connections
			strings.HasPrefix(pe.Code, "57P"),      // operator intervention: shutdown, cannot connect now
			pe.Code == "40001", pe.Code == "40P01", // serialization failure, deadlock
			pe.Code == "55P03",                     // lock not available
			pe.Code == "58000", pe.Code == "58030": // system error, I/O error
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}
