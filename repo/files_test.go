package repo_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/repotest"
)

// snapshotRepo makes a repository with one blob, one tree and one snapshot.
func snapshotRepo(t *testing.T) (*repo.Repository, backend.Storage, *repo.Snapshot) {
	t.Helper()
	r, be := repotest.New(t)
	data := csvChunk(3, 500)
	res, err := r.SaveBlob(ctx, pack.DataBlob, data, pack.ID{})
	if err != nil {
		t.Fatal(err)
	}
	root, err := r.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{{Name: "t.csv", Kind: repo.NodeStream, Size: uint64(len(data)), Content: []pack.ID{res.ID}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sn := &repo.Snapshot{Time: time.Date(2025, 6, 17, 14, 0, 0, 0, time.UTC), Host: "h", Source: "stdin:t.csv", Paths: []string{"/t.csv"}, Tree: root}
	if err := r.SaveSnapshot(ctx, sn); err != nil {
		t.Fatal(err)
	}
	return r, be, sn
}

func TestSnapshots(t *testing.T) {
	r, _, sn := snapshotRepo(t)
	for _, ref := range []string{"latest", sn.ID.String(), sn.ID.String()[:6]} {
		got, err := r.FindSnapshot(ctx, ref)
		if err != nil {
			t.Fatalf("FindSnapshot(%q): %v", ref, err)
		}
		if got.ID != sn.ID || got.Tree != sn.Tree || !got.Time.Equal(sn.Time) {
			t.Errorf("FindSnapshot(%q) = %+v, want %+v", ref, got, sn)
		}
	}
	if _, err := r.FindSnapshot(ctx, "ffffffff"); !errors.Is(err, repo.ErrSnapshotNotFound) {
		t.Errorf("unknown snapshot: err = %v", err)
	}
	if err := r.SaveSnapshot(ctx, &repo.Snapshot{Tree: pack.ID{1}}); err == nil {
		t.Error("saving a snapshot whose tree is not indexed succeeded")
	}
}

// flipFile changes one byte of every file of type t.
func flipFile(t *testing.T, be backend.Storage, ft backend.FileType, at int) string {
	t.Helper()
	var handles []backend.Handle
	_ = be.List(ctx, ft, func(fi backend.FileInfo) error { handles = append(handles, fi.Handle); return nil })
	if ft == backend.ConfigFile {
		handles = []backend.Handle{{Type: backend.ConfigFile}}
	}
	for _, h := range handles {
		data, err := be.Load(ctx, h, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		data[at%len(data)] ^= 0x40
		if err := be.Remove(ctx, h); err != nil {
			t.Fatal(err)
		}
		if err := be.Save(ctx, h, backend.NewByteReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	return handles[0].String()
}

func TestDamagedFilesGiveClearErrors(t *testing.T) {
	tests := []struct {
		name string
		ft   backend.FileType
		at   int
		op   func(t *testing.T, be backend.Storage, sn *repo.Snapshot) error
		want string
	}{
		{"config", backend.ConfigFile, 30, configDamageOp, "config at mem: is damaged"},
		{"key file", backend.KeyFile, 40, openOp, "keys/"},
		{"index", backend.IndexFile, 50, loadIndexOp, "index/"},
		{"snapshot", backend.SnapshotFile, 50, loadSnapshotOp, "snapshots/"},
		{"pack", backend.PackFile, 10, loadTreeOp, "pack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, be, sn := snapshotRepo(t)
			repotest.SkipCheck(t)
			flipFile(t, be, tt.ft, tt.at)
			err := tt.op(t, be, sn)
			if err == nil {
				t.Fatal("damage went unnoticed")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name the %s", err, tt.want)
			}
		})
	}
}

func openOp(t *testing.T, be backend.Storage, _ *repo.Snapshot) error {
	_, err := repo.Open(ctx, be, repotest.Password, repotest.Options(t))
	return err
}

// configDamageOp opens a repository whose config is damaged: the key
// file's copy stands in, and the handle says what is damaged.
func configDamageOp(t *testing.T, be backend.Storage, _ *repo.Snapshot) error {
	r, err := repo.Open(ctx, be, repotest.Password, repotest.Options(t))
	if err != nil {
		t.Fatal(err)
	}
	if d := r.ConfigDamage(); d != nil {
		return d
	}
	return nil
}

func loadIndexOp(t *testing.T, be backend.Storage, _ *repo.Snapshot) error {
	r, err := repo.Open(ctx, be, repotest.Password, repotest.Options(t))
	if err != nil {
		t.Fatal(err)
	}
	return r.LoadIndex(ctx)
}

func loadSnapshotOp(t *testing.T, be backend.Storage, sn *repo.Snapshot) error {
	r := repotest.Reopen(t, be)
	_, err := r.Snapshots(ctx)
	return err
}

func loadTreeOp(t *testing.T, be backend.Storage, sn *repo.Snapshot) error {
	r := repotest.Reopen(t, be)
	var err error
	// The first pack may hold the data or the tree: load both.
	if _, err = r.LoadTree(ctx, sn.Tree); err == nil {
		tree, _ := r.LoadTree(ctx, sn.Tree)
		_, err = r.LoadBlob(ctx, tree.Nodes[0].Content[0])
	}
	return err
}

func TestTreeEncodingIsCanonical(t *testing.T) {
	id := pack.ID{7}
	a := &repo.Tree{Nodes: []repo.Node{
		{Name: "b", Kind: repo.NodeFile, Meta: map[string]string{"z": "1", "a": "2"}},
		{Name: "a", Kind: repo.NodeDir, Subtree: &id},
	}}
	b := &repo.Tree{Nodes: []repo.Node{a.Nodes[1], a.Nodes[0]}}
	ea, err := repo.EncodeTree(a)
	if err != nil {
		t.Fatal(err)
	}
	eb, _ := repo.EncodeTree(b)
	if string(ea) != string(eb) {
		t.Errorf("same nodes in another order encode differently:\n%s\n%s", ea, eb)
	}
	dec, err := repo.DecodeTree(ea)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := repo.EncodeTree(dec)
	if string(again) != string(ea) {
		t.Errorf("decode+encode changed the bytes")
	}
	if _, err := repo.EncodeTree(&repo.Tree{Nodes: []repo.Node{{Name: "x", Kind: repo.NodeFile}, {Name: "x", Kind: repo.NodeFile}}}); err == nil {
		t.Error("duplicate names encoded")
	}
}

// A snapshot another process saves after this handle loaded the index is
// not listed until the index is loaded again: its blobs are in index files
// this handle has not read, so reading it would fail with "blob not found"
// (and check would call it damaged).
func TestSnapshotsSavedAfterIndexLoad(t *testing.T) {
	writer, be, first := snapshotRepo(t)
	reader := repotest.Reopen(t, be)
	if err := reader.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	data := csvChunk(7, 400)
	res, err := writer.SaveBlob(ctx, pack.DataBlob, data, pack.ID{})
	if err != nil {
		t.Fatal(err)
	}
	root, err := writer.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{{Name: "u.csv", Kind: repo.NodeStream, Size: uint64(len(data)), Content: []pack.ID{res.ID}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := writer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	later := &repo.Snapshot{Time: first.Time.Add(time.Hour), Host: "h", Source: "stdin:u.csv", Paths: []string{"/u.csv"}, Tree: root}
	if err := writer.SaveSnapshot(ctx, later); err != nil {
		t.Fatal(err)
	}

	got, err := reader.FindSnapshot(ctx, "latest")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != first.ID {
		t.Errorf("latest = %s, want %s: the snapshot saved after the index loaded is listed", got.ID.Short(), first.ID.Short())
	}
	if _, err := reader.LoadTree(ctx, got.Tree); err != nil {
		t.Errorf("loading latest's tree: %v", err)
	}
	if err := reader.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	sns, err := reader.Snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sns) != 2 || sns[1].ID != later.ID {
		t.Errorf("after loading the index again: %d snapshots, want both", len(sns))
	}
	if _, err := reader.LoadTree(ctx, sns[len(sns)-1].Tree); err != nil {
		t.Errorf("loading the new snapshot's tree: %v", err)
	}
}
