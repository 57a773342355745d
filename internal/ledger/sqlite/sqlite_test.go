package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRetryable(t *testing.T) {
	if Retryable(nil) || Retryable(errors.New("x")) {
		t.Fatal("plain errors are not transient")
	}
	if !Retryable(fmt.Errorf("w: %w", context.DeadlineExceeded)) || !Retryable(&os.PathError{Op: "open", Err: os.ErrPermission}) {
		t.Fatal("deadline and file errors are transient")
	}
}

func TestOpenTwiceIsRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l.db")
	st, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, Config{Path: path}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open: %v", err)
	}
	var mode string
	if err := st.WriteDB().QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q %v", mode, err)
	}
	var sync int
	if err := st.WriteDB().QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		t.Fatalf("synchronous %d %v", sync, err)
	}
	var cache int
	if err := st.WriteDB().QueryRow(`PRAGMA cache_size`).Scan(&cache); err != nil || cache != -32*1024 {
		t.Fatalf("cache_size %d %v", cache, err)
	}
	if _, err := st.ReadDB().Exec(`INSERT INTO meta (key, value) VALUES ('a', 'b')`); err == nil {
		t.Fatal("read pool can write")
	}
	st.Close()
	st, err = Open(ctx, Config{Path: path, Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	st.WriteDB().QueryRow(`PRAGMA synchronous`).Scan(&sync)
	if sync != 1 {
		t.Fatalf("synchronous %d", sync)
	}
	st.Close()
	if _, err := Open(ctx, Config{Path: path, Synchronous: "OFF"}); err == nil {
		t.Fatal("synchronous=OFF accepted")
	}
}
