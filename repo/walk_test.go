package repo_test

import (
	"errors"
	"io/fs"
	"slices"
	"testing"

	"strata/pack"
	"strata/repo"
	"strata/repo/repotest"
)

// walkFixture stores root → {a (file, 2 blobs), d (dir → {b (table, 3
// chunks)}), z (symlink)} and returns the root's ID and the blobs.
func walkFixture(t *testing.T, r *repo.Repository) (root pack.ID, blobs []pack.ID) {
	t.Helper()
	for i := range 5 {
		res, err := r.SaveBlob(ctx, pack.DataBlob, csvChunk(int64(i), 3), pack.ID{})
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, res.ID)
	}
	sub, err := r.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{{Name: "b", Kind: repo.NodeTable, Content: blobs[2:5],
		Chunks: []repo.ChunkInfo{{FirstKey: "1", Rows: 3, Bytes: 10}, {FirstKey: "4", Rows: 3, Bytes: 10}, {FirstKey: "7", Rows: 3, Bytes: 10}}}}})
	if err != nil {
		t.Fatal(err)
	}
	root, err = r.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{
		{Name: "a", Kind: repo.NodeFile, Content: blobs[:2]},
		{Name: "d", Kind: repo.NodeDir, Subtree: &sub},
		{Name: "z", Kind: repo.NodeSymlink, Target: "a"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return root, blobs
}

func TestWalkerOrderAndSkips(t *testing.T) {
	r, _ := repotest.New(t)
	root, blobs := walkFixture(t, r)
	var events []string
	var chunks []pack.ID
	var keys []string
	w := repo.Walker{
		Loader:   r,
		Tree:     func(id pack.ID, dir string) error { events = append(events, "tree "+dir); return nil },
		TreeDone: func(id pack.ID, dir string) error { events = append(events, "done "+dir); return nil },
		Node:     func(p string, n *repo.Node) error { events = append(events, "node "+p); return nil },
		NodeDone: func(p string, n *repo.Node) error { events = append(events, "left "+p); return nil },
		Chunk: func(p string, n *repo.Node, c repo.ChunkRef) error {
			chunks = append(chunks, c.ID)
			if c.HasInfo != (n.Kind == repo.NodeTable) {
				t.Errorf("%s: HasInfo %v", p, c.HasInfo)
			}
			if c.HasInfo {
				keys = append(keys, c.Info.FirstKey)
			}
			return nil
		},
	}
	if err := w.Walk(ctx, root, "/"); err != nil {
		t.Fatal(err)
	}
	want := []string{"tree /", "node /a", "left /a", "node /d", "tree /d", "node /d/b", "left /d/b", "done /d", "left /d", "node /z", "left /z", "done /"}
	if !slices.Equal(events, want) {
		t.Errorf("events\n%q, want\n%q", events, want)
	}
	if !slices.Equal(chunks, blobs) || !slices.Equal(keys, []string{"1", "4", "7"}) {
		t.Errorf("chunks %v keys %q", chunks, keys)
	}

	// SkipDir from Tree skips the blob, from Node on a dir its subtree,
	// from Node on another node the rest of its folder; SkipAll ends.
	for _, tc := range []struct {
		name   string
		w      repo.Walker
		nodes  []string
		chunks int
	}{
		{"tree", repo.Walker{Tree: func(_ pack.ID, dir string) error {
			if dir == "/d" {
				return fs.SkipDir
			}
			return nil
		}}, []string{"/a", "/d", "/z"}, 2},
		{"dir", repo.Walker{Node: func(p string, _ *repo.Node) error {
			if p == "/d" {
				return fs.SkipDir
			}
			return nil
		}}, []string{"/a", "/d", "/z"}, 2},
		{"leaf", repo.Walker{Node: func(p string, _ *repo.Node) error {
			if p == "/a" {
				return fs.SkipDir
			}
			return nil
		}}, []string{"/a"}, 0},
		{"all", repo.Walker{Node: func(p string, _ *repo.Node) error {
			if p == "/d/b" {
				return fs.SkipAll
			}
			return nil
		}}, []string{"/a", "/d", "/d/b"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var nodes []string
			n := 0
			w := tc.w
			w.Loader = r
			node := w.Node
			w.Node = func(p string, nd *repo.Node) error {
				nodes = append(nodes, p)
				if node != nil {
					return node(p, nd)
				}
				return nil
			}
			w.Chunk = func(string, *repo.Node, repo.ChunkRef) error { n++; return nil }
			if err := w.Walk(ctx, root, "/"); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(nodes, tc.nodes) || n != tc.chunks {
				t.Errorf("nodes %q chunks %d, want %q %d", nodes, n, tc.nodes, tc.chunks)
			}
		})
	}
}

func TestWalkerLoadError(t *testing.T) {
	r, _ := repotest.New(t)
	root, _ := walkFixture(t, r)
	missing := pack.ID{1, 2, 3}
	top, err := r.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{
		{Name: "lost", Kind: repo.NodeDir, Subtree: &missing},
		{Name: "ok", Kind: repo.NodeDir, Subtree: &root},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Without LoadError the walk ends with the error, naming the folder.
	err = (&repo.Walker{Loader: r}).Walk(ctx, top, "/")
	if !errors.Is(err, repo.ErrBlobNotFound) {
		t.Fatalf("err %v, want ErrBlobNotFound", err)
	}
	// With it, the walk goes on.
	var failed []string
	n := 0
	w := repo.Walker{Loader: r,
		LoadError: func(id pack.ID, p string, err error) error { failed = append(failed, p); return nil },
		Chunk:     func(string, *repo.Node, repo.ChunkRef) error { n++; return nil },
	}
	if err := w.Walk(ctx, top, "/"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(failed, []string{"/lost"}) || n != 5 {
		t.Errorf("failed %q, chunks %d", failed, n)
	}
}
