//go:build unix

package consentledgerextension

import (
	"context"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/consentledger"
)

// TestLedgerFilesArePrivate: the ledger's files were created 0644 by the
// binary (readable by every local user: the records are encrypted, but the
// metadata, consent records and access log are not). Every file under the
// data directory is now 0600 and every directory the ledger creates 0700,
// whatever the process's umask. The test runs with umask 0 and walks the
// whole data directory after records, a checkpoint and a restart.
func TestLedgerFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)

	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data", "ledger")
	cfg := newConfig(t, BackendSQLite)
	cfg.SQLite.Path = filepath.Join(data, "ledger.db")
	cfg.WriterIDFile = filepath.Join(data, "writer-id")
	for range 2 { // a restart reopens what exists
		e := start(t, cfg)
		q, err := e.Quarantine(e.set.ID)
		require.NoError(t, err)
		_, err = q.Append(ctx, []consentledger.Record{{Tenant: "t", Vendor: "genesys", EventID: "e-" + e.now().String(), SubjectKey: "s", Payload: []byte("p")}})
		require.NoError(t, err)
		l, err := e.ledgerOrErr()
		require.NoError(t, err)
		_, err = l.Checkpoint(ctx)
		require.NoError(t, err)
		// Open: the WAL and shared-memory files are there too.
		require.GreaterOrEqual(t, checkPrivate(t, filepath.Dir(data)), 5, "the database, its WAL, shared memory, lock and the writer id")
		require.NoError(t, e.Shutdown(ctx))
	}

	require.GreaterOrEqual(t, checkPrivate(t, filepath.Dir(data)), 3, "the database, its lock and the writer id at least")
}

// checkPrivate checks that every file under dir is 0600 and every
// directory 0700, and returns the number of files.
func checkPrivate(t *testing.T, dir string) int {
	t.Helper()
	files := 0
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700 | fs.ModeDir
		} else {
			files++
		}
		if info.Mode() != want {
			t.Errorf("%s is %v, want %v", p, info.Mode(), want)
		}
		return nil
	}))
	return files
}
