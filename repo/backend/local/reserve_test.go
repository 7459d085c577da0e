package local_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestReserve: Reserve writes the reserve file, keeps a large enough one,
// ReleaseReserve empties it (the mark Reserved reports) and Reserve then
// writes it again; nothing of it shows in a listing.
func TestReserve(t *testing.T) {
	b, dir := newRepo(t)
	ctx := context.Background()
	if size, released, err := b.Reserved(ctx); err != nil || size != 0 || released {
		t.Fatalf("a new repository: reserve %d, released %v, %v", size, released, err)
	}
	if err := b.Reserve(ctx, 1<<20); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "reserve")
	before, err := os.Stat(path)
	if err != nil || before.Size() != 1<<20 || before.Mode().Perm() != 0o600 {
		t.Fatalf("reserve file: %v, %v", before, err)
	}
	if err := b.Reserve(ctx, 1<<10); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(path); !os.SameFile(before, after) {
		t.Error("a large enough reserve was written again")
	}
	if n, err := b.ReleaseReserve(ctx); err != nil || n != 1<<20 {
		t.Fatalf("ReleaseReserve: %d, %v", n, err)
	}
	if size, released, err := b.Reserved(ctx); err != nil || size != 0 || !released {
		t.Fatalf("after release: reserve %d, released %v, %v", size, released, err)
	}
	if n, err := b.ReleaseReserve(ctx); err != nil || n != 0 {
		t.Errorf("releasing again: %d, %v", n, err)
	}
	if err := b.Reserve(ctx, 2<<20); err != nil {
		t.Fatal(err)
	}
	if size, released, err := b.Reserved(ctx); err != nil || size != 2<<20 || released {
		t.Errorf("written again: reserve %d, released %v, %v", size, released, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name()[0] == '.' {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}
