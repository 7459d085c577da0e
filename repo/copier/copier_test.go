package copier_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/copier"
	"strata/repo/repotest"
)

var ctx = context.Background()

// rows returns a CSV chunk of n rows from id on, with a changed row when
// edit is set: the kind of chunk a table's new hour stores as a delta.
func rows(from, n int, edit string) []byte {
	var b bytes.Buffer
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "%d\tcustomer %d\tsome address line %d\n", i, i, i*7)
		if i == from+n/2 {
			b.WriteString(edit)
		}
	}
	return b.Bytes()
}

// fixture stores in r a snapshot whose root holds a file of two blobs, a
// dir with a stream, and a table whose chunk list is pages over a chain of
// delta blobs (each chunk stored against the one before), and returns it.
func fixture(t *testing.T, r *repo.Repository, chain int) *repo.Snapshot {
	t.Helper()
	save := func(plain []byte, base pack.ID) pack.ID {
		res, err := r.SaveBlob(ctx, pack.DataBlob, plain, base)
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	a, b := save(rows(0, 300, ""), pack.ID{}), save([]byte("tail\n"), pack.ID{})
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// A chain: each link a delta against the one before (SaveBlob wants
	// its base indexed, so flush between links).
	var links []pack.ID
	base := a
	for i := range chain {
		id := save(rows(0, 300, fmt.Sprintf("edit %d\n", i)), base)
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		links = append(links, id)
		base = id
	}
	pw := repo.NewPageWriter(r.SaveTreeBlob)
	for i, id := range append([]pack.ID{a}, links...) {
		if err := pw.Add(ctx, id, repo.ChunkInfo{FirstKey: fmt.Sprint(i), Rows: 300, Bytes: 1}); err != nil {
			t.Fatal(err)
		}
	}
	pages, err := pw.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := r.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{{Name: "s", Kind: repo.NodeStream, Content: []pack.ID{b}}}})
	if err != nil {
		t.Fatal(err)
	}
	root, err := r.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{
		{Name: "d", Kind: repo.NodeDir, Subtree: &sub},
		{Name: "f", Kind: repo.NodeFile, Content: []pack.ID{a, b}},
		{Name: "t", Kind: repo.NodeTable, Pages: pages},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sn := &repo.Snapshot{Time: time.Now().Add(-time.Minute), Host: "h", Source: "test", Paths: []string{"/"}, Tree: root}
	if err := r.SaveSnapshot(ctx, sn); err != nil {
		t.Fatal(err)
	}
	return sn
}

// contents returns every node's chunks by path, as plaintexts, and the
// delta depth of each chunk in r.
func contents(t *testing.T, r *repo.Repository, root pack.ID) (map[string][]string, []int) {
	t.Helper()
	out := map[string][]string{}
	var depths []int
	w := repo.Walker{Loader: r, Chunk: func(p string, _ *repo.Node, c repo.ChunkRef) error {
		plain, err := r.LoadBlob(ctx, c.ID)
		if err != nil {
			return err
		}
		out[p] = append(out[p], string(plain))
		depths = append(depths, r.DeltaDepth(c.ID))
		return nil
	}}
	if err := w.Walk(ctx, root, "/"); err != nil {
		t.Fatal(err)
	}
	return out, depths
}

func TestCopyKeepsContentAndDeltas(t *testing.T) {
	src, _ := repotest.New(t)
	dst, _ := repotest.New(t)
	sn := fixture(t, src, 3)
	rep, err := copier.Copy(ctx, src, dst, copier.Options{Snapshots: []*repo.Snapshot{sn}, All: []*repo.Snapshot{sn}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Copied() != 1 || rep.Counts.DataBlobs != 5 || rep.Counts.DeltaBlobs != 3 || !rep.SameChunker {
		t.Fatalf("report %+v", rep.Counts)
	}
	cp := rep.Snapshots[0].Copy
	if cp.Original == nil || *cp.Original != sn.ID || cp.Tree == sn.Tree || cp.Host != "h" {
		t.Errorf("copy %+v", cp)
	}
	want, wantDepths := contents(t, src, sn.Tree)
	got, gotDepths := contents(t, dst, cp.Tree)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("copied content differs:\n%v\n%v", got, want)
	}
	if fmt.Sprint(gotDepths) != fmt.Sprint(wantDepths) {
		t.Errorf("delta depths in the copy %v, in the source %v", gotDepths, wantDepths)
	}

	// Again: nothing to do.
	rep, err = copier.Copy(ctx, src, dst, copier.Options{Snapshots: []*repo.Snapshot{sn}})
	if err != nil || rep.Copied() != 0 || !rep.Snapshots[0].Skipped || rep.Snapshots[0].Copy.ID != cp.ID {
		t.Errorf("second copy: %+v, %v", rep, err)
	}
	// Copied back: the source holds the origin, so nothing either.
	rep, err = copier.Copy(ctx, dst, src, copier.Options{Snapshots: []*repo.Snapshot{cp}})
	if err != nil || rep.Copied() != 0 {
		t.Errorf("copy back: %+v, %v", rep, err)
	}
	if _, err := copier.Copy(ctx, src, src, copier.Options{}); err == nil {
		t.Error("a copy into the same repository was not refused")
	}
}

// TestCopyShorterChains: a destination allowing shorter chains than the
// source's restarts them with blobs stored whole.
func TestCopyShorterChains(t *testing.T) {
	src, _ := repotest.New(t)
	dst, _ := repotest.New(t, func(c *repo.Config, _ *repo.Options) { c.MaxDeltaDepth = 2 })
	sn := fixture(t, src, 5)
	rep, err := copier.Copy(ctx, src, dst, copier.Options{Snapshots: []*repo.Snapshot{sn}})
	if err != nil {
		t.Fatal(err)
	}
	_, depths := contents(t, dst, rep.Snapshots[0].Copy.Tree)
	for _, d := range depths {
		if d > 2 {
			t.Errorf("delta depths in the destination %v, want at most 2", depths)
			break
		}
	}
	if rep.Counts.DeltaBlobs < 3 {
		t.Errorf("%d delta blobs copied, want the chain kept in links of at most 2", rep.Counts.DeltaBlobs)
	}
}

// TestCopyReadsOnlyWhatIsNew: the copy of a snapshot whose parent was
// copied before (by another run) reads from the source only the blobs the
// parent did not have: the rest is paired through the parent's copy.
func TestCopyReadsOnlyWhatIsNew(t *testing.T) {
	src, _ := repotest.New(t)
	dst, _ := repotest.New(t)
	first := fixture(t, src, 2)
	if _, err := copier.Copy(ctx, src, dst, copier.Options{Snapshots: []*repo.Snapshot{first}}); err != nil {
		t.Fatal(err)
	}
	root, err := src.LoadTree(ctx, first.Tree)
	if err != nil {
		t.Fatal(err)
	}
	fresh := rows(1000, 50, "")
	res, err := src.SaveBlob(ctx, pack.DataBlob, fresh, pack.ID{})
	if err != nil {
		t.Fatal(err)
	}
	root.Nodes = append(root.Nodes, repo.Node{Name: "g", Kind: repo.NodeFile, Content: []pack.ID{res.ID}})
	id, err := src.SaveTree(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	parent := first.ID
	second := &repo.Snapshot{Time: time.Now(), Host: "h", Source: "test", Paths: []string{"/"}, Tree: id, Parent: &parent}
	if err := src.SaveSnapshot(ctx, second); err != nil {
		t.Fatal(err)
	}
	all := []*repo.Snapshot{first, second}
	rep, err := copier.Copy(ctx, src, dst, copier.Options{Snapshots: all, All: all})
	if err != nil {
		t.Fatal(err)
	}
	n := rep.Snapshots[1].Counts
	if rep.Copied() != 1 || n.BytesRead != uint64(len(fresh)) || n.DataBlobs != 1 || n.TreeBlobs != 1 {
		t.Errorf("second copy: %+v, want only the new blob (%d bytes) read and stored, and the new root", n, len(fresh))
	}
	cp := rep.Snapshots[1].Copy
	if cp.Parent == nil || *cp.Parent != rep.Snapshots[0].Copy.ID {
		t.Errorf("the copy's parent is %v, want the parent's copy %s", cp.Parent, rep.Snapshots[0].Copy.ID)
	}
	want, _ := contents(t, src, second.Tree)
	got, _ := contents(t, dst, cp.Tree)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("copied content differs:\n%v\n%v", got, want)
	}
}
