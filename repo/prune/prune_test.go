package prune_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"strata/pack"
	"strata/repo/backend"
	"strata/repo/prune"
	"strata/repo/repotest"
)

func TestPruneFreesSpaceAndKeepsEverySnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("a long test: make test-long runs it")
	}
	ctx := context.Background()
	r, be := repotest.New(t)
	h := newHistory(r, 200)
	for i := range 12 {
		h.snapshot(t, hour(i), 20)
	}
	h.forget(t, 8)

	rep, err := prune.Run(ctx, repotest.Reopen(t, be), prune.Options{MaxUnused: prune.DefaultMaxUnused})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *rep)
	if rep.Snapshots != 4 || rep.Freed() <= 0 || rep.PacksDeleted+rep.PacksRepacked == 0 {
		t.Errorf("report %+v: want 4 snapshots, some packs deleted or repacked, bytes freed", *rep)
	}
	if rep.BaseOnlyBlobs == 0 {
		t.Errorf("no blob kept only as a delta base; the history should need some")
	}
	if rep.UnusedAfter > int64(float64(rep.BytesAfter)*prune.DefaultMaxUnused) {
		t.Errorf("unused after prune %d of %d bytes, above the limit", rep.UnusedAfter, rep.BytesAfter)
	}
	h.verify(t, repotest.Reopen(t, be))

	// A second run finds nothing more to do.
	again, err := prune.Run(ctx, repotest.Reopen(t, be), prune.Options{MaxUnused: prune.DefaultMaxUnused})
	if err != nil {
		t.Fatal(err)
	}
	if again.Freed() != 0 || again.PacksRepacked != 0 || again.PacksDeleted != 0 {
		t.Errorf("second prune changed packs: %+v", *again)
	}
	h.verify(t, repotest.Reopen(t, be))
}

func TestPruneMaxUnusedZeroLeavesNoUnusedBlob(t *testing.T) {
	ctx := context.Background()
	r, be := repotest.New(t)
	h := newHistory(r, 100)
	for i := range 6 {
		h.snapshot(t, hour(i), 30)
	}
	h.forget(t, 3)
	rep, err := prune.Run(ctx, repotest.Reopen(t, be), prune.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.UnusedAfter != 0 {
		t.Errorf("unused after prune with --max-unused 0: %d bytes", rep.UnusedAfter)
	}
	again, err := prune.Run(ctx, repotest.Reopen(t, be), prune.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.UnusedBlobs != 0 {
		t.Errorf("%d unused blobs remain", again.UnusedBlobs)
	}
	h.verify(t, repotest.Reopen(t, be))
}

func TestPruneDryRunChangesNothing(t *testing.T) {
	r, be := repotest.New(t)
	h := newHistory(r, 50)
	for i := range 5 {
		h.snapshot(t, hour(i), 10)
	}
	h.forget(t, 3)
	before := files(t, be)
	rep, err := prune.Run(context.Background(), repotest.Reopen(t, be), prune.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Freed() <= 0 {
		t.Errorf("dry run predicts nothing freed: %+v", *rep)
	}
	if after := files(t, be); !maps.Equal(before, after) {
		t.Errorf("dry run changed the repository")
	}
}

func TestPruneRemovesUnindexedPacks(t *testing.T) {
	ctx := context.Background()
	r, be := repotest.New(t)
	h := newHistory(r, 20)
	h.snapshot(t, hour(0), 0)
	// A pack stored without an index file, as a killed backup leaves it:
	// its entries stay pending in a rewriter that never stores them.
	w := r.NewIndexRewriter(1 << 16)
	rp := r.NewRepacker(w)
	plain := []byte("orphan blob")
	sealed := r.Key().Seal(nil, plain)
	if err := rp.Add(ctx, pack.Blob{Type: pack.DataBlob, ID: r.Key().BlobID(plain), RawLength: uint32(len(plain))}, sealed); err != nil {
		t.Fatal(err)
	}
	if err := rp.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	orphans := w.TakePending()
	rep, err := prune.Run(ctx, repotest.Reopen(t, be), prune.Options{MaxUnused: prune.DefaultMaxUnused})
	if err != nil {
		t.Fatal(err)
	}
	if rep.PacksUnindexed != 1 {
		t.Errorf("unindexed packs = %d, want 1", rep.PacksUnindexed)
	}
	if _, err := be.Stat(ctx, backend.Handle{Type: backend.PackFile, Name: orphans[0].PackID.String()}); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("the unindexed pack is still stored: %v", err)
	}
	h.verify(t, repotest.Reopen(t, be))
}

func TestPruneRefusesWhenABlobIsMissing(t *testing.T) {
	ctx := context.Background()
	r, be := repotest.New(t)
	repotest.SkipCheck(t)
	h := newHistory(r, 20)
	h.snapshot(t, hour(0), 0)
	h.snapshot(t, hour(1), 5)
	// Lose the data packs: every snapshot now misses its content.
	for _, id := range r.Index().Packs() {
		loc, _ := r.Index().Lookup(h.ids[0])
		if id == loc.Pack {
			if err := be.Remove(ctx, backend.Handle{Type: backend.PackFile, Name: id.String()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := files(t, be)
	_, err := prune.Run(ctx, repotest.Reopen(t, be), prune.Options{})
	if err == nil {
		t.Fatal("prune ran on a repository that lost a pack holding used blobs")
	}
	t.Log(err)
	if after := files(t, be); !maps.Equal(before, after) {
		t.Errorf("prune changed the repository before failing")
	}
}

func TestPruneDropsDuplicateCopies(t *testing.T) {
	ctx := context.Background()
	r, be := repotest.New(t)
	h := newHistory(r, 40)
	// A second handle opened before the first stores anything stores the
	// same blobs again, as two backups running at once do.
	other := repotest.Reopen(t, be)
	h.snapshot(t, hour(0), 0)
	for _, s := range h.slots {
		if _, err := other.SaveBlob(ctx, pack.DataBlob, s, pack.ID{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	dups := 0
	fresh := repotest.Reopen(t, be)
	for _, id := range h.ids {
		if len(fresh.Index().LookupAll(id)) > 1 {
			dups++
		}
	}
	if dups != len(h.ids) {
		t.Fatalf("%d of %d blobs stored twice; the test needs all", dups, len(h.ids))
	}
	if _, err := prune.Run(ctx, fresh, prune.Options{}); err != nil {
		t.Fatal(err)
	}
	after := repotest.Reopen(t, be)
	for _, id := range h.ids {
		if n := len(after.Index().LookupAll(id)); n != 1 {
			t.Errorf("blob %s has %d copies after prune, want 1", id.Short(), n)
		}
	}
	h.verify(t, after)
}
