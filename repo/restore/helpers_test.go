package restore_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strata/repo/restore"
	"strings"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/repotest"
)

// spec describes a node of a test snapshot; data is cut into blobs of
// blobSize bytes.
type spec struct {
	name     string
	kind     string
	mode     uint32
	mtime    time.Time
	data     []byte
	target   string // symlink
	children []spec
}

const blobSize = 4 << 10

var t0 = time.Date(2024, 3, 1, 12, 30, 45, 123456789, time.UTC)

func randBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// testSnapshot is a file backup of /tmp/data plus /etc/hosts, as restic
// lays them out: every component of the absolute paths is a dir.
func testSnapshot() []spec {
	return []spec{
		{name: "etc", kind: repo.NodeDir, mode: 0o755, mtime: t0, children: []spec{
			{name: "hosts", kind: repo.NodeFile, mode: 0o644, mtime: t0.Add(time.Hour), data: []byte("127.0.0.1 localhost\n")},
		}},
		{name: "tmp", kind: repo.NodeDir, mode: 0o1777, mtime: t0.Add(2 * time.Hour), children: []spec{
			{name: "data", kind: repo.NodeDir, mode: 0o750, mtime: t0.Add(3 * time.Hour), children: []spec{
				{name: "a.csv", kind: repo.NodeFile, mode: 0o644, mtime: t0.Add(4 * time.Hour), data: randBytes(1, 10*blobSize+123)},
				{name: "b.txt", kind: repo.NodeFile, mode: 0o600, mtime: t0.Add(5 * time.Hour), data: []byte("bee\n")},
				{name: "big.bin", kind: repo.NodeFile, mode: 0o640, mtime: t0.Add(6 * time.Hour), data: randBytes(2, 50*blobSize)},
				{name: "empty", kind: repo.NodeFile, mode: 0o644, mtime: t0.Add(7 * time.Hour)},
				{name: "link", kind: repo.NodeSymlink, mtime: t0.Add(8 * time.Hour), target: "a.csv"},
				{name: "ro.txt", kind: repo.NodeFile, mode: 0o400, mtime: t0.Add(9 * time.Hour), data: []byte("read only\n")},
				{name: "sub", kind: repo.NodeDir, mode: 0o700, mtime: t0.Add(10 * time.Hour), children: []spec{
					{name: "c.bin", kind: repo.NodeFile, mode: 0o755, mtime: t0.Add(11 * time.Hour), data: randBytes(3, 3*blobSize)},
					{name: "empty-dir", kind: repo.NodeDir, mode: 0o555, mtime: t0.Add(12 * time.Hour)},
				}},
			}},
		}},
	}
}

// newRepo creates a repository on a fresh mem backend; repotest checks it
// when the test ends.
func newRepo(t *testing.T) (*repo.Repository, backend.Storage) {
	t.Helper()
	return repotest.New(t)
}

// saveSnapshot stores the trees and blobs of specs, flushes, and returns
// the root tree ID.
func saveSnapshot(t *testing.T, r *repo.Repository, specs []spec) pack.ID {
	t.Helper()
	ctx := context.Background()
	id := saveTree(t, r, specs)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return id
}

func saveTree(t *testing.T, r *repo.Repository, specs []spec) pack.ID {
	t.Helper()
	ctx := context.Background()
	tree := &repo.Tree{}
	for _, s := range specs {
		n := repo.Node{Name: s.name, Kind: s.kind, Mode: s.mode, ModTime: s.mtime, Size: uint64(len(s.data)), Target: s.target}
		switch s.kind {
		case repo.NodeDir:
			sub := saveTree(t, r, s.children)
			n.Subtree = &sub
		case repo.NodeSymlink:
		default:
			n.Content = saveContent(t, r, s.data)
		}
		tree.Nodes = append(tree.Nodes, n)
	}
	id, err := r.SaveTree(ctx, tree)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func saveContent(t *testing.T, r *repo.Repository, data []byte) []pack.ID {
	t.Helper()
	var ids []pack.ID
	for len(data) > 0 {
		n := min(blobSize, len(data))
		res, err := r.SaveBlob(context.Background(), pack.DataBlob, data[:n], pack.ID{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
		data = data[n:]
	}
	return ids
}

// flatten maps each snapshot path of specs to its spec.
func flatten(specs []spec, dir string, out map[string]spec) map[string]spec {
	if out == nil {
		out = map[string]spec{}
	}
	for _, s := range specs {
		p := dir + "/" + s.name
		out[p] = s
		flatten(s.children, p, out)
	}
	return out
}

// listTarget returns the snapshot paths of everything under target,
// sorted; it fails on leftover temporary files.
func listTarget(t *testing.T, target string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(target, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), restore.TempPrefix) {
			t.Errorf("temporary file left behind: %s", p)
		}
		if p != target {
			rel, _ := filepath.Rel(target, p)
			paths = append(paths, "/"+filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	sort.Strings(paths)
	return paths
}

// checkRestored asserts that the node p of want is in target with its
// content, mode and modification time.
func checkRestored(t *testing.T, target, p string, want spec) {
	t.Helper()
	dst := filepath.Join(target, filepath.FromSlash(p))
	fi, err := os.Lstat(dst)
	if err != nil {
		t.Errorf("%s: %v", p, err)
		return
	}
	switch want.kind {
	case repo.NodeSymlink:
		if fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s: mode %v, want a symlink", p, fi.Mode())
			return
		}
		if got, _ := os.Readlink(dst); got != want.target {
			t.Errorf("%s: target %q, want %q", p, got, want.target)
		}
	case repo.NodeDir:
		if !fi.IsDir() {
			t.Errorf("%s: mode %v, want a dir", p, fi.Mode())
		}
	default:
		if !fi.Mode().IsRegular() {
			t.Errorf("%s: mode %v, want a regular file", p, fi.Mode())
			return
		}
		got, err := os.ReadFile(dst)
		if err != nil {
			t.Errorf("%s: %v", p, err)
		} else if string(got) != string(want.data) {
			t.Errorf("%s: content differs: %d bytes, want %d", p, len(got), len(want.data))
		}
	}
	if want.kind != repo.NodeSymlink {
		wantMode := restore.FileMode(&repo.Node{Kind: want.kind, Mode: want.mode})
		if got := fi.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky); got != wantMode {
			t.Errorf("%s: mode %v, want %v", p, got, wantMode)
		}
	}
	if !want.mtime.IsZero() && !fi.ModTime().Equal(want.mtime) {
		t.Errorf("%s: mtime %v, want %v", p, fi.ModTime(), want.mtime)
	}
}

// fakeLoader serves hand-made trees, including ones repo.DecodeTree would
// refuse.
type fakeLoader struct {
	trees map[pack.ID]*repo.Tree
	blobs map[pack.ID][]byte
}

func (f *fakeLoader) LoadTree(_ context.Context, id pack.ID) (*repo.Tree, error) {
	t, ok := f.trees[id]
	if !ok {
		return nil, os.ErrNotExist
	}
	return t, nil
}

func (f *fakeLoader) LoadBlob(_ context.Context, id pack.ID) ([]byte, error) {
	b, ok := f.blobs[id]
	if !ok {
		return nil, os.ErrNotExist
	}
	return b, nil
}
