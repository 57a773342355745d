// Package sqlstore is the storage layer of the consent ledger: every SQL
// statement the ledger runs, written once for both backends (SQLite and
// PostgreSQL accept the same $n placeholders and the same statements here),
// plus the embedded migration runner. A Dialect supplies what differs: the
// DDL, how a batch of rows is inserted, error classification, and locking.
//
// The store knows nothing about encryption or hash chains: it stores the
// rows package ledger gives it and reads them back.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Dialect is what differs between the backends.
type Dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// Migrations holds NNNN_description.sql files at its root.
	Migrations() fs.FS
	// Retryable reports whether err is transient: the same operation may
	// succeed later (connection refused or lost, database busy or locked,
	// disk full, too many connections, serialization failure).
	Retryable(err error) bool
	// Shared reports whether several writers (collector replicas) may use
	// the database at once.
	Shared() bool
	// MultiRow reports whether batches are inserted with one statement
	// over arrays (PostgreSQL: unnest) instead of one prepared statement
	// executed per row (SQLite, where a statement costs no round trip).
	MultiRow() bool
	// BeforeMigrate runs first in the migration transaction: it takes a
	// lock so that replicas starting together migrate one at a time.
	BeforeMigrate(ctx context.Context, tx *sql.Tx) error
	// ReadTxOptions are the options of a consistent read-only snapshot.
	ReadTxOptions() *sql.TxOptions
}

// Store is a ledger database: a connection pool for the single writer and
// one for readers (they are the same pool on PostgreSQL).
type Store struct {
	d       Dialect
	w, r    *sql.DB
	closers []func() error

	stmtMu    sync.Mutex
	stmts     map[stmtKey]*sql.Stmt
	wprepared bool
}

type stmtKey struct {
	write bool
	query string
}

// stmt returns query prepared on the readers' pool (database/sql prepares
// it again on each connection that runs it), so that a hot query is parsed
// once per connection instead of once per call.
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	return s.prepared(ctx, s.r, stmtKey{query: query})
}

// prepareWrites prepares the writer's per-row statements (SQLite) once,
// outside any transaction: the writer's pool has one connection, which a
// transaction holds, so they cannot be prepared on the pool from inside
// one. WriteTx.stmt binds them to each transaction.
func (s *Store) prepareWrites(ctx context.Context) error {
	if s.d.MultiRow() {
		return nil
	}
	s.stmtMu.Lock()
	done := s.wprepared
	s.stmtMu.Unlock()
	if done {
		return nil
	}
	for _, q := range writeQueries() {
		if _, err := s.prepared(ctx, s.w, stmtKey{write: true, query: q}); err != nil {
			return err
		}
	}
	s.stmtMu.Lock()
	s.wprepared = true
	s.stmtMu.Unlock()
	return nil
}

// wstmt returns a statement prepared by prepareWrites, or nil.
func (s *Store) wstmt(query string) *sql.Stmt {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	return s.stmts[stmtKey{write: true, query: query}]
}

func (s *Store) prepared(ctx context.Context, db *sql.DB, k stmtKey) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st, ok := s.stmts[k]; ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, k.query)
	if err != nil {
		return nil, err
	}
	if s.stmts == nil {
		s.stmts = map[stmtKey]*sql.Stmt{}
	}
	s.stmts[k] = st
	return st, nil
}

// New wraps open database handles and applies pending migrations. w is
// used for writes, r for reads; closers run on Close after the handles are
// closed.
func New(ctx context.Context, d Dialect, w, r *sql.DB, closers ...func() error) (*Store, error) {
	s := &Store{d: d, w: w, r: r, closers: closers}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.d }

// Retryable reports whether err is transient (see Dialect.Retryable).
func (s *Store) Retryable(err error) bool { return s.d.Retryable(err) }

// WriteDB and ReadDB expose the handles, for tests and tools.
func (s *Store) WriteDB() *sql.DB { return s.w }

// ReadDB returns the readers' handle.
func (s *Store) ReadDB() *sql.DB { return s.r }

// Optimizer is implemented by dialects whose query planner needs to be
// told to refresh its statistics (SQLite: PRAGMA optimize).
type Optimizer interface {
	Optimize(ctx context.Context, db *sql.DB) error
}

// Optimize refreshes the planner's statistics if the dialect needs it. It
// uses the writer's connection: call it between write transactions.
func (s *Store) Optimize(ctx context.Context) error {
	if o, ok := s.d.(Optimizer); ok {
		return o.Optimize(ctx, s.w)
	}
	return nil
}

// BetweenWriter is implemented by dialects with work to do on the
// writer's connection between two write transactions (SQLite: the last,
// short step of a checkpoint that lets the WAL start over).
type BetweenWriter interface {
	BetweenWrites(ctx context.Context, w *sql.DB)
}

// BetweenWrites runs the dialect's work between write transactions, if it
// has any. The ledger's writer calls it after a group commit has answered
// its callers.
func (s *Store) BetweenWrites(ctx context.Context) {
	if b, ok := s.d.(BetweenWriter); ok {
		b.BetweenWrites(ctx, s.w)
	}
}

// Close closes the database handles.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	s.Optimize(ctx)
	cancel()
	var errs []error
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	s.stmts = nil
	s.stmtMu.Unlock()
	errs = append(errs, s.w.Close())
	if s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	for _, c := range s.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int]string{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".sql")
		num, desc, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must be NNNN_description.sql", n)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %q and %q have the same version", other, n)
		}
		seen[v] = n
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: desc, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.d.Migrations())
	if err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if err := s.d.BeforeMigrate(ctx, tx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied := map[int]bool{}
	maxApplied := 0
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
		maxApplied = max(maxApplied, v)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if len(ms) > 0 && maxApplied > ms[len(ms)-1].version {
		return fmt.Errorf("ledger database schema version %d is newer than this binary knows (%d): upgrade the collector", maxApplied, ms[len(ms)-1].version)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	return tx.Commit()
}

// AppliedMigrations lists the versions recorded in schema_migrations.
func (s *Store) AppliedMigrations(ctx context.Context) ([]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}

// WriterLocker is implemented by dialects of shared databases: it takes a
// lock that keeps two live processes from writing the same chain.
type WriterLocker interface {
	LockWriter(ctx context.Context, db *sql.DB, writerID string) (unlock func(), err error)
}

// LockWriter takes the writer lock if the dialect has one; otherwise it
// returns a no-op (SQLite locks the file when it opens it).
func (s *Store) LockWriter(ctx context.Context, writerID string) (func(), error) {
	if l, ok := s.d.(WriterLocker); ok {
		return l.LockWriter(ctx, s.w, writerID)
	}
	return func() {}, nil
}
