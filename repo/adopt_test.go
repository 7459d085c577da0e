package repo_test

import (
	"bytes"
	"testing"

	"strata/pack"
	"strata/repo/backend"
	"strata/repo/repotest"
)

// TestAdoptDataPacks: the data packs a killed writer stored but never
// indexed are indexed by AdoptDataPacks, a delta blob's pack only with
// its base's: with the base's pack gone, the delta's is left for prune.
func TestAdoptDataPacks(t *testing.T) {
	for _, baseGone := range []bool{false, true} {
		t.Run(map[bool]string{false: "whole", true: "base gone"}[baseGone], func(t *testing.T) {
			r, be := repotest.New(t)
			base := randomBlob(61, 3<<19) // fills a 1 MiB pack on its own
			baseRes, err := r.SaveDataBlobOn(ctx, base, pack.ID{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			changed := append(bytes.Clone(base[:len(base)-100]), randomBlob(62, 3<<19)...)
			deltaRes, err := r.SaveDataBlobOn(ctx, changed, baseRes.ID, base)
			if err != nil || deltaRes.Compression != pack.Delta {
				t.Fatalf("delta: %v, %v", deltaRes.Compression, err)
			}
			// Stored, never indexed: the writer is killed here.
			if err := r.WaitUploads(ctx); err != nil {
				t.Fatal(err)
			}
			r2 := repotest.Reopen(t, be)
			if r2.HasBlob(deltaRes.ID) {
				t.Fatal("the delta is indexed before adoption")
			}
			if baseGone {
				loc, _ := r.Index().Lookup(baseRes.ID)
				if err := be.Remove(ctx, backend.Handle{Type: backend.PackFile, Name: loc.Pack.String()}); err != nil {
					t.Fatal(err)
				}
			}
			n, err := r2.AdoptDataPacks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if baseGone {
				if n != 0 || r2.HasBlob(deltaRes.ID) {
					t.Errorf("adopted %d packs, delta indexed %v: a delta without its base was adopted", n, r2.HasBlob(deltaRes.ID))
				}
				repotest.SkipCheck(t) // the delta's pack is left for prune
				return
			}
			if n != 2 {
				t.Errorf("adopted %d packs, want 2", n)
			}
			r3 := repotest.Reopen(t, be)
			if got, err := r3.LoadBlob(ctx, deltaRes.ID); err != nil || !bytes.Equal(got, changed) {
				t.Errorf("the adopted delta does not load: %v", err)
			}
		})
	}
}
