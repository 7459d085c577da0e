package local

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"strata/repo/backend"
)

func TestRemoveTemp(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := backend.Handle{Type: backend.IndexFile, Name: "abcd"}
	if err := b.Save(ctx, h, backend.NewByteReader([]byte("kept"))); err != nil {
		t.Fatal(err)
	}
	old := []string{
		filepath.Join(dir, "index", ".tmp-1"),
		filepath.Join(dir, "data", "ab", ".tmp-2"),
		filepath.Join(dir, ".tmp-3"),
	}
	for _, p := range old {
		if err := os.WriteFile(p, []byte("12345"), 0o600); err != nil {
			t.Fatal(err)
		}
		past := time.Now().Add(-time.Hour)
		if err := os.Chtimes(p, past, past); err != nil {
			t.Fatal(err)
		}
	}
	fresh := filepath.Join(dir, "snapshots", ".tmp-4")
	if err := os.WriteFile(fresh, []byte("live"), 0o600); err != nil {
		t.Fatal(err)
	}
	files, n, err := b.RemoveTemp(ctx, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if files != 3 || n != 15 {
		t.Errorf("RemoveTemp removed %d files, %d bytes; want 3, 15", files, n)
	}
	for _, p := range old {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still exists", p)
		}
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("the recent temporary file was removed: %v", err)
	}
	if _, err := b.Stat(ctx, h); err != nil {
		t.Errorf("a stored file was touched: %v", err)
	}
}
