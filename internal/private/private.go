// Package private creates files and directories that only their owner can
// read: 0600 files and 0700 directories, whatever the process's umask (it
// sets the mode explicitly after creating), for the consent ledger's
// database, journal, lock and writer id files.
package private

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const (
	// FileMode is the mode of a private file.
	FileMode fs.FileMode = 0o600
	// DirMode is the mode of a private directory.
	DirMode fs.FileMode = 0o700
)

// MkdirAll creates dir and any missing parents as private directories.
// Directories that already exist keep their mode.
func MkdirAll(dir string) error {
	dir = filepath.Clean(dir)
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s exists and is not a directory", dir)
		}
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := MkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, DirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return os.Chmod(dir, DirMode)
}

// Touch creates path as an empty private file if it does not exist; if it
// does, it takes away any access of the group and others (a file created by
// an earlier version or another tool).
func Touch(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, FileMode)
	switch {
	case err == nil:
		err = f.Chmod(FileMode)
		return errors.Join(err, f.Close())
	case errors.Is(err, fs.ErrExist):
		return Restrict(path)
	default:
		return err
	}
}

// Restrict takes away the group's and others' access to an existing file
// or directory (a missing one is not an error).
func Restrict(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return os.Chmod(path, fi.Mode().Perm()&^0o077)
}

// WriteFile writes a new private file (it fails if path exists).
func WriteFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, FileMode)
	if err != nil {
		return err
	}
	if err := f.Chmod(FileMode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
