package prune_test

import (
	"context"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/prune"
	"strata/repo/repotest"
)

// TestPruneKeepsTreeCopies: prune keeps two copies of every used tree
// blob, in different packs, whether it keeps their packs, repacks both
// packs at once (a used tree beside an unused one), drops a third copy,
// or repacks a tree an older strata stored once, which then gets its
// second copy.
func TestPruneKeepsTreeCopies(t *testing.T) {
	ctx := context.Background()
	r, be := repotest.New(t)
	// Opened before the trees below are stored, it stores them again.
	other := repotest.Reopen(t, be)
	h := newHistory(r, 20)
	h.snapshot(t, hour(0), 0)
	h.snapshot(t, hour(1), 5)

	// A used tree beside an unused one: both tree packs are repacked.
	tree := func(name string) *repo.Tree {
		return &repo.Tree{Nodes: []repo.Node{{Name: name, Kind: repo.NodeStream, Content: h.ids[:1], Size: slotSize}}}
	}
	mixed, err := r.SaveTree(ctx, tree("mixed"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SaveTree(ctx, tree("unused")); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	saveSnapshot(t, r, mixed, hour(2))

	// Third and fourth copies, as a second handle writing the same tree
	// makes.
	if _, err := other.SaveTree(ctx, tree("mixed")); err != nil {
		t.Fatal(err)
	}
	third, err := other.SaveTree(ctx, tree("third"))
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	saveSnapshot(t, other, third, hour(3))

	// A tree stored once, beside an unused tree, as an older strata did.
	once := storeOnce(t, r, tree("once"), tree("unused once"))
	saveSnapshot(t, repotest.Reopen(t, be), once, hour(4))

	if _, err := prune.Run(ctx, repotest.Reopen(t, be), prune.Options{}); err != nil {
		t.Fatal(err)
	}
	after := repotest.Reopen(t, be)
	sns, err := after.List(ctx, backend.SnapshotFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range sns {
		sn, err := after.LoadSnapshot(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		locs := after.Index().LookupAll(sn.Tree)
		if len(locs) != repo.TreeCopies || locs[0].Pack == locs[1].Pack {
			t.Errorf("root tree %s of snapshot %s has %d copies after prune, want %d in different packs: %+v",
				sn.Tree.Short(), id.Short(), len(locs), repo.TreeCopies, locs)
		}
	}
	h.verify(t, after)
}

func saveSnapshot(t *testing.T, r *repo.Repository, root pack.ID, at time.Time) {
	t.Helper()
	sn := &repo.Snapshot{Time: at, Host: "h", Source: "stdin:customers", Paths: []string{"/customers"}, Tree: root}
	if err := r.SaveSnapshot(context.Background(), sn); err != nil {
		t.Fatal(err)
	}
}

// storeOnce stores the trees in one pack, one copy each, through a
// Repacker and an index file of its own, and returns the first tree's ID.
func storeOnce(t *testing.T, r *repo.Repository, trees ...*repo.Tree) pack.ID {
	t.Helper()
	ctx := context.Background()
	w := r.NewIndexRewriter(1 << 10)
	rp := r.NewRepacker(w)
	var first pack.ID
	for _, tr := range trees {
		plain, err := repo.EncodeTree(tr)
		if err != nil {
			t.Fatal(err)
		}
		id := r.Key().BlobID(plain)
		if first.IsNull() {
			first = id
		}
		b := pack.Blob{Type: pack.TreeBlob, Compression: pack.Raw, ID: id, RawLength: uint32(len(plain))}
		if err := rp.Add(ctx, b, r.Key().Seal(nil, plain)); err != nil {
			t.Fatal(err)
		}
	}
	if err := rp.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(repotest.Reopen(t, r.Backend()).Index().LookupAll(first)); n != 1 {
		t.Fatalf("tree stored in %d packs, want 1", n)
	}
	return first
}
