package benchrepo

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSize counts the files below the folder, in subfolders too, and not
// the folders themselves.
func TestSize(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data", "00"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]int{"config": 10, "data/00/pack": 1000, "data/empty": 0} {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := Size(dir); err != nil || got != 1010 {
		t.Fatalf("Size = %d, %v; want 1010", got, err)
	}
	if _, err := Size(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("Size of a missing folder succeeded")
	}
}
