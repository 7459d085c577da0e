package restore_test

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strata/repo/restore"
	"testing"

	"strata/repo"
)

func TestWalk(t *testing.T) {
	r, _ := newRepo(t)
	root := saveSnapshot(t, r, testSnapshot())

	tests := []struct {
		name string
		skip map[string]error // what fn returns at a path
		want []string
	}{
		{"all", nil, []string{"/etc", "/etc/hosts", "/tmp", "/tmp/data", "/tmp/data/a.csv", "/tmp/data/b.txt",
			"/tmp/data/big.bin", "/tmp/data/empty", "/tmp/data/link", "/tmp/data/ro.txt", "/tmp/data/sub",
			"/tmp/data/sub/c.bin", "/tmp/data/sub/empty-dir"}},
		{"skip a dir", map[string]error{"/tmp/data": fs.SkipDir}, []string{"/etc", "/etc/hosts", "/tmp", "/tmp/data"}},
		{"skip the rest of a folder", map[string]error{"/tmp/data/b.txt": fs.SkipDir},
			[]string{"/etc", "/etc/hosts", "/tmp", "/tmp/data", "/tmp/data/a.csv", "/tmp/data/b.txt"}},
		{"skip all", map[string]error{"/etc/hosts": fs.SkipAll}, []string{"/etc", "/etc/hosts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := restore.Walk(context.Background(), r, root, func(p string, n *repo.Node) error {
				got = append(got, p)
				return tt.skip[p]
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("walked %q\nwant %q", got, tt.want)
			}
		})
	}

	stop := errors.New("stop")
	if err := restore.Walk(context.Background(), r, root, func(string, *repo.Node) error { return stop }); err != stop {
		t.Errorf("restore.Walk returned %v, want fn's error unchanged", err)
	}
}

func TestFindNode(t *testing.T) {
	r, _ := newRepo(t)
	root := saveSnapshot(t, r, testSnapshot())
	tests := []struct {
		path, name, kind string
		err              error
	}{
		{"/", "", repo.NodeDir, nil},
		{"", "", repo.NodeDir, nil},
		{"/tmp/data", "data", repo.NodeDir, nil},
		{"tmp/data/sub/c.bin", "c.bin", repo.NodeFile, nil},
		{"/tmp/data/link", "link", repo.NodeSymlink, nil},
		{"/tmp/nope", "", "", restore.ErrNotFound},
		{"/tmp/data/b.txt/x", "", "", restore.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			n, err := restore.FindNode(context.Background(), r, root, tt.path)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Name != tt.name || n.Kind != tt.kind {
				t.Errorf("got %s %q, want %s %q", n.Kind, n.Name, tt.kind, tt.name)
			}
			if tt.path == "/" && *n.Subtree != root {
				t.Errorf("root node's subtree %s, want %s", n.Subtree.Short(), root.Short())
			}
		})
	}
}
