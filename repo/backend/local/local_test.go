package local_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"strata/repo/backend"
	"strata/repo/backend/backendtest"
	"strata/repo/backend/local"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Storage {
		b, err := local.Create(filepath.Join(t.TempDir(), "repo"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

// newRepo creates a repository with a config, as init leaves it.
func newRepo(t *testing.T) (*local.Backend, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	b, err := local.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	save(t, b, backend.Handle{Type: backend.ConfigFile}, []byte("config"))
	return b, dir
}

func save(t *testing.T, b *local.Backend, h backend.Handle, data []byte) {
	t.Helper()
	if err := b.Save(context.Background(), h, backend.NewByteReader(data)); err != nil {
		t.Fatalf("Save(%v): %v", h, err)
	}
}

func packHandle(name string) backend.Handle {
	return backend.Handle{Type: backend.PackFile, Name: name}
}

func TestLayout(t *testing.T) {
	b, dir := newRepo(t)
	save(t, b, packHandle("ab12"), []byte("pack"))
	save(t, b, backend.Handle{Type: backend.SnapshotFile, Name: "cd34"}, []byte("snapshot"))
	for _, name := range []string{"config", "data/ab/ab12", "snapshots/cd34", "keys", "index", "locks", "policy", "protect", "data/00", "data/ff"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := b.Location(); got != dir {
		t.Errorf("Location() = %q, want %q", got, dir)
	}
}

func TestModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes on Windows")
	}
	b, dir := newRepo(t)
	save(t, b, packHandle("ab12"), []byte("pack"))
	save(t, b, backend.Handle{Type: backend.KeyFile, Name: "k1"}, []byte("key"))
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = fs.ModeDir | 0o700
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestListSkipsStrayFiles(t *testing.T) {
	b, dir := newRepo(t)
	save(t, b, packHandle("ab12"), []byte("pack"))
	save(t, b, backend.Handle{Type: backend.IndexFile, Name: "ef56"}, []byte("index"))
	stray := map[string]string{
		"data/ab/.tmp-12345": "a crash during a pack Save",
		"index/.tmp-999":     "a crash during an index Save",
		".tmp-777":           "a crash during the config Save",
		"data/ab/cd99":       "a pack in the wrong pack folder",
		"data/ab/ab":         "a name too short for a pack",
		"data/zz.txt":        "a file among the pack folders",
		"index/has space":    "an invalid name",
	}
	for name := range stray {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "index", "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	got := make(map[backend.Handle]int64)
	for _, ft := range backend.FileTypes {
		err := b.List(context.Background(), ft, func(fi backend.FileInfo) error {
			got[fi.Handle] = fi.Size
			return nil
		})
		if err != nil {
			t.Fatalf("List(%s): %v", ft, err)
		}
	}
	want := map[backend.Handle]int64{
		{Type: backend.ConfigFile}:              6,
		packHandle("ab12"):                      4,
		{Type: backend.IndexFile, Name: "ef56"}: 5,
	}
	if len(got) != len(want) {
		t.Errorf("List reported %v, want %v", got, want)
	}
	for h, size := range want {
		if got[h] != size {
			t.Errorf("List: %v has size %d, want %d", h, got[h], size)
		}
	}
	// The leftover temporary files do not stop new Saves.
	save(t, b, packHandle("ab13"), []byte("pack"))
}

func TestOpen(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := local.Open(missing); !errors.Is(err, backend.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Open(missing folder): got %v, want ErrNotExist naming %s", err, missing)
	}
	dir := filepath.Join(t.TempDir(), "repo")
	b, err := local.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := local.Open(dir); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Open(folder without config): got %v, want ErrNotExist", err)
	}
	save(t, b, backend.Handle{Type: backend.ConfigFile}, []byte("config"))
	if _, err := local.Open(dir); err != nil {
		t.Errorf("Open: %v", err)
	}
	if _, err := local.Create(dir); !errors.Is(err, backend.ErrExists) {
		t.Errorf("Create over a repository: got %v, want ErrExists", err)
	}
}

// TestMissingFolders: copy tools may drop empty folders, and a repository
// created before policy/ and protect/ existed lacks those; inside a
// repository they come back on Save and list as empty. Without a config
// (an unmounted drive) nothing is created and listing fails.
func TestMissingFolders(t *testing.T) {
	b, dir := newRepo(t)
	for _, name := range []string{"data", "locks", "policy", "protect"} {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, ft := range []backend.FileType{backend.PackFile, backend.LockFile, backend.PolicyFile, backend.ProtectFile} {
		err := b.List(context.Background(), ft, func(fi backend.FileInfo) error {
			t.Errorf("List(%s) reported %v", ft, fi.Handle)
			return nil
		})
		if err != nil {
			t.Errorf("List(%s) of a missing folder: %v", ft, err)
		}
	}
	save(t, b, packHandle("ab12"), []byte("pack"))
	save(t, b, backend.Handle{Type: backend.LockFile, Name: "l1"}, []byte("lock"))
	save(t, b, backend.Handle{Type: backend.PolicyFile, Name: "p1"}, []byte("policy"))
	save(t, b, backend.Handle{Type: backend.ProtectFile, Name: "p2"}, []byte("protect"))

	gone := filepath.Join(t.TempDir(), "mountpoint")
	bg, err := local.Create(gone)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(gone); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(gone, 0o700); err != nil { // an empty mount point
		t.Fatal(err)
	}
	err = bg.Save(context.Background(), packHandle("ab12"), backend.NewByteReader([]byte("pack")))
	if !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Save into an empty mount point: got %v, want ErrNotExist", err)
	}
	if err := bg.List(context.Background(), backend.SnapshotFile, func(backend.FileInfo) error { return nil }); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("List of an empty mount point: got %v, want ErrNotExist", err)
	}
	if entries, _ := os.ReadDir(gone); len(entries) != 0 {
		t.Errorf("the empty mount point got %d entries", len(entries))
	}
}

func TestLoadShortFile(t *testing.T) {
	b, dir := newRepo(t)
	h := backend.Handle{Type: backend.IndexFile, Name: "ef56"}
	save(t, b, h, []byte("0123456789"))
	if err := os.Truncate(filepath.Join(dir, "index", "ef56"), 4); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Load(context.Background(), h, 2, 5); !errors.Is(err, backend.ErrRange) {
		t.Errorf("Load past the truncated end: got %v, want ErrRange", err)
	}
}
