// Package sqlite opens the consent ledger's embedded SQLite database
// through the pure-Go modernc.org/sqlite driver (no cgo).
//
// Tuning follows the measurements in docs/performance.md: WAL journal,
// synchronous=FULL by default (NORMAL on request: a power loss may then
// lose the last commits, never corrupt the file), a 32 MiB page cache on
// the single writer connection, a busy timeout, and a separate pool of
// read-only connections so that audit queries never wait for the writer.
// A lock file next to the database keeps a second process from writing
// the same file (and the same hash chain).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"

	"github.com/consentry/consentry/internal/ledger/sqlstore"
	"github.com/consentry/consentry/internal/private"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Config configures the SQLite database.
type Config struct {
	// Path of the database file; its directory is created if missing.
	Path string
	// Synchronous is FULL (default: a commit is on disk when the ledger
	// acknowledges it) or NORMAL (faster; the last commits before a power
	// loss may be lost, the database stays consistent).
	Synchronous string
	// CacheSizeMiB is the writer's page cache (default 32).
	CacheSizeMiB int
	// ReadConns is the number of read-only connections (default 4).
	ReadConns int
	// BusyTimeout is how long a connection waits for a lock (default 5s).
	BusyTimeout time.Duration
	// WALAutocheckpoint is the WAL size, in pages, at which the
	// background checkpointer starts the WAL over (default 10000, about
	// 40 MiB; SQLite's default is 1000). A larger WAL lets the pages that
	// many commits touch be written back once: about +10 % appends
	// measured. Checkpoints run on a connection of their own (see
	// checkpointer), never in the writer's commits; the writer's own
	// automatic checkpoint is only a safety net at twice this size.
	WALAutocheckpoint int
	// CheckpointEvery is the background checkpointer's period (default
	// 100ms).
	CheckpointEvery time.Duration
}

// Open opens (creating if needed) and migrates the database.
func Open(ctx context.Context, cfg Config) (*sqlstore.Store, error) {
	if cfg.Path == "" {
		return nil, errors.New("sqlite: path is empty")
	}
	sync := strings.ToUpper(cfg.Synchronous)
	switch sync {
	case "":
		sync = "FULL"
	case "FULL", "NORMAL", "EXTRA":
	default:
		return nil, fmt.Errorf("sqlite: synchronous must be FULL or NORMAL, not %q", cfg.Synchronous)
	}
	if cfg.CacheSizeMiB <= 0 {
		cfg.CacheSizeMiB = 32
	}
	if cfg.ReadConns <= 0 {
		cfg.ReadConns = 4
	}
	if cfg.BusyTimeout <= 0 {
		cfg.BusyTimeout = 5 * time.Second
	}
	if cfg.WALAutocheckpoint <= 0 {
		cfg.WALAutocheckpoint = 10000
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = 100 * time.Millisecond
	}
	// The database and everything beside it is private (0600, in a 0700
	// directory when the ledger creates it), whatever the umask: the
	// metadata, consent records and access log are not encrypted. SQLite
	// gives its -wal and -shm files the database file's mode.
	if err := private.MkdirAll(filepath.Dir(cfg.Path)); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	for _, p := range []string{cfg.Path, cfg.Path + ".lock"} {
		if err := private.Touch(p); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	for _, p := range []string{cfg.Path + "-wal", cfg.Path + "-shm", cfg.Path + "-journal"} {
		if err := private.Restrict(p); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	unlock, err := lockFile(cfg.Path + ".lock")
	if err != nil {
		return nil, err
	}
	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.BusyTimeout.Milliseconds()))
	common.Add("_pragma", "foreign_keys(0)")
	common.Add("_pragma", "temp_store(memory)")

	wq := cloneValues(common)
	wq.Add("_pragma", "journal_mode(WAL)")
	wq.Add("_pragma", "synchronous("+sync+")")
	wq.Add("_pragma", fmt.Sprintf("cache_size(%d)", -cfg.CacheSizeMiB*1024))
	wq.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", 2*cfg.WALAutocheckpoint))
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", cfg.Path+"?"+wq.Encode())
	if err != nil {
		unlock()
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Create the file and switch it to WAL before the readers open it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		unlock()
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
	}

	rq := cloneValues(common)
	rq.Add("_pragma", "cache_size(-8192)")
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", cfg.Path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		unlock()
		return nil, err
	}
	r.SetMaxOpenConns(cfg.ReadConns)
	r.SetMaxIdleConns(cfg.ReadConns)
	r.SetConnMaxIdleTime(5 * time.Minute)
	// The checkpointer's connection, with the writer's durability (a
	// checkpoint fsyncs the database before the WAL may start over). Its
	// PASSIVE checkpoints never wait for the writer or readers; the short
	// busy timeout only keeps it from waiting on any other lock.
	cq := url.Values{}
	cq.Add("_pragma", "busy_timeout(20)")
	cq.Add("_pragma", "synchronous("+sync+")")
	cdb, err := sql.Open("sqlite", cfg.Path+"?"+cq.Encode())
	if err != nil {
		w.Close()
		r.Close()
		unlock()
		return nil, err
	}
	cdb.SetMaxOpenConns(1)
	cdb.SetMaxIdleConns(1)
	cdb.SetConnMaxLifetime(0)
	cdb.SetConnMaxIdleTime(0)
	ckpt := startCheckpointer(cdb, cfg.CheckpointEvery, int64(cfg.WALAutocheckpoint))
	// Closed after the writer and readers: the last connection to close
	// checkpoints what is left and removes the WAL.
	closers := []func() error{ckpt.close, func() error { unlock(); return nil }}
	st, err := sqlstore.New(ctx, dialect{ck: ckpt}, w, r, closers...)
	if err != nil {
		return nil, err
	}
	if err := st.Optimize(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("sqlite: optimize: %w", err)
	}
	return st, nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

type dialect struct{ ck *checkpointer }

func (dialect) Name() string { return "sqlite" }

func (dialect) Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// BetweenWrites lets the checkpointer finish a checkpoint on the
// writer's connection (see checkpointer).
func (d dialect) BetweenWrites(ctx context.Context, w *sql.DB) {
	if d.ck != nil {
		d.ck.betweenWrites(ctx, w)
	}
}

func (dialect) Shared() bool   { return false }
func (dialect) MultiRow() bool { return false }

func (dialect) BeforeMigrate(context.Context, *sql.Tx) error { return nil }

func (dialect) ReadTxOptions() *sql.TxOptions { return &sql.TxOptions{ReadOnly: true} }

// Optimize refreshes the planner's statistics where they are stale, with a
// bounded analysis (about half a second on a million records). Without
// them SQLite picks the tenant index for a subject query.
func (dialect) Optimize(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002`)
	return err
}

// SQLite result codes (the low byte of extended codes).
const (
	codeBusy     = 5
	codeLocked   = 6
	codeNoMem    = 7
	codeIOErr    = 10
	codeFull     = 13
	codeCantOpen = 14
	codeProtocol = 15
)

func (dialect) Retryable(err error) bool { return Retryable(err) }

// Retryable reports whether an error from the SQLite driver is transient:
// busy or locked database, out of memory, I/O error, disk full, cannot
// open the file (e.g. its volume is gone), or a deadline.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case codeBusy, codeLocked, codeNoMem, codeIOErr, codeFull, codeCantOpen, codeProtocol:
			return true
		}
		return false
	}
	var pe *os.PathError
	return errors.As(err, &pe)
}
