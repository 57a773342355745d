//go:build unix

package private

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestModesWhateverTheUmask: files 0600, directories 0700, with a umask
// that would leave them open (0) and one that would lock the owner out
// (0277); an existing open file is restricted.
func TestModesWhateverTheUmask(t *testing.T) {
	for _, umask := range []int{0, 0o277} {
		old := syscall.Umask(umask)
		dir := filepath.Join(t.TempDir(), "a", "b")
		if err := MkdirAll(dir); err != nil {
			syscall.Umask(old)
			t.Fatal(err)
		}
		f := filepath.Join(dir, "f")
		err1, err2 := Touch(f), WriteFile(filepath.Join(dir, "g"), []byte("x"))
		syscall.Umask(old)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		for p, want := range map[string]os.FileMode{dir: DirMode | os.ModeDir, filepath.Dir(dir): DirMode | os.ModeDir, f: FileMode, filepath.Join(dir, "g"): FileMode} {
			if fi, err := os.Stat(p); err != nil || fi.Mode() != want {
				t.Errorf("umask %o: %s is %v, want %v (%v)", umask, p, fi.Mode(), want, err)
			}
		}
	}
	open := filepath.Join(t.TempDir(), "open")
	if err := os.WriteFile(open, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o664); err != nil {
		t.Fatal(err)
	}
	if err := Touch(open); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(open); fi.Mode() != 0o600 {
		t.Errorf("an existing 0664 file became %v", fi.Mode())
	}
}
