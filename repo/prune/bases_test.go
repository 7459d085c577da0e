package prune_test

import (
	"bytes"
	"context"
	"testing"

	"strata/pack"
	"strata/repo"
	"strata/repo/prune"
	"strata/repo/repotest"
)

// A pack that stays may hold an unused delta blob whose base goes: a
// forgotten hour's chunk that the next kept hour no longer references,
// in a pack whose other chunks it still does. Keeping that index entry
// would leave a blob nobody can decode, which check reports; prune must
// repack such a pack instead. (repotest's check at the end of the test
// reads every blob.)
func TestPruneKeepsNoDeltaWithoutItsBase(t *testing.T) {
	ctx := context.Background()
	r, be := repotest.New(t)
	h := newHistory(r, 40)
	save := func(plain []byte, base pack.ID) pack.ID {
		res, err := r.SaveBlob(ctx, pack.DataBlob, plain, base)
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	flush := func() {
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	snapshot := func(i int, content []pack.ID) pack.ID {
		node := repo.Node{Name: "customers", Kind: repo.NodeStream, Content: content, Size: uint64(len(content) * slotSize)}
		tree, err := r.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{node}})
		if err != nil {
			t.Fatal(err)
		}
		flush()
		sn := &repo.Snapshot{Time: hour(i), Host: "h", Source: "stdin:customers", Paths: []string{"/customers"}, Tree: tree}
		if err := r.SaveSnapshot(ctx, sn); err != nil {
			t.Fatal(err)
		}
		return sn.ID
	}

	base := h.block()
	baseID := save(base, pack.ID{})
	flush() // the base alone in its pack
	changed := bytes.Clone(base)
	changed[10] ^= 0xff
	delta := save(changed, baseID)
	var others []pack.ID
	for range 39 {
		others = append(others, save(h.block(), pack.ID{}))
	}
	flush() // the delta among 39 blobs the next snapshot keeps
	if loc, _ := r.Index().Lookup(delta); loc.Compression != pack.Delta {
		t.Fatalf("blob stored as %v, the test needs a delta", loc.Compression)
	}
	forgotten := snapshot(0, append([]pack.ID{delta}, others...))
	snapshot(1, others)
	if err := r.RemoveSnapshot(ctx, forgotten); err != nil {
		t.Fatal(err)
	}

	rep, err := prune.Run(ctx, repotest.Reopen(t, be), prune.Options{MaxUnused: prune.DefaultMaxUnused})
	if err != nil {
		t.Fatal(err)
	}
	after := repotest.Reopen(t, be).Index()
	if loc, ok := after.Lookup(delta); ok && !after.Has(loc.Base) {
		t.Errorf("the index keeps delta blob %s, whose base %s prune removed (report %+v)", delta.Short(), loc.Base.Short(), *rep)
	}
	for _, id := range others {
		if !after.Has(id) {
			t.Errorf("blob %s of the remaining snapshot is gone", id.Short())
		}
	}
}
