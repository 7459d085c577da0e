package repair_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/faulty"
	"strata/repo/backend/mem"
	"strata/repo/prune"
	"strata/repo/repair"
	"strata/repo/repotest"
)

// repairPacks runs repair packs on a handle whose index is loaded.
func repairPacks(t *testing.T, f *fixture, opts repair.PacksOptions) (*repair.PacksReport, error) {
	t.Helper()
	return repair.Packs(context.Background(), repotest.Reopen(t, f.be), opts)
}

// TestPacksSalvage damages pack pA (a1 a2 t1 t2) in three ways: in each,
// repair packs replaces it, names exactly the blobs that did not verify,
// and every other blob still loads; check at cleanup finds the
// repository clean once repair snapshots cut the lost blobs out.
func TestPacksSalvage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, f *fixture)
		lost   func(f *fixture) []pack.ID
	}{
		{"header", func(t *testing.T, f *fixture) { f.flip(t, backend.PackFile, f.pA, -10) },
			func(*fixture) []pack.ID { return nil }},
		{"one blob", func(t *testing.T, f *fixture) { f.flip(t, backend.PackFile, f.pA, 100) },
			func(f *fixture) []pack.ID { return []pack.ID{f.a1} }},
		{"truncated", func(t *testing.T, f *fixture) {
			b := f.load(t, backend.PackFile, f.pA)
			f.replace(t, backend.PackFile, f.pA, b[:len(b)/2])
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, mem.New())
			tt.damage(t, f)
			dry, err := repairPacks(t, f, repair.PacksOptions{DryRun: true, ReadData: true})
			if err != nil || len(dry.Repaired) != 1 || dry.Repaired[0].Pack != f.pA {
				t.Fatalf("dry run: %+v, %v", dry, err)
			}
			if got := f.files(t, backend.PackFile); len(got) != 11 {
				t.Fatalf("the dry run left %d packs, want 11", len(got))
			}
			rep, err := repairPacks(t, f, repair.PacksOptions{ReadData: true})
			if err != nil {
				t.Fatal(err)
			}
			var lost []pack.ID
			for _, l := range rep.LostBlobs() {
				lost = append(lost, l.ID)
			}
			if tt.lost != nil && fmt.Sprint(lost) != fmt.Sprint(tt.lost(f)) {
				t.Errorf("lost %v, want %v", lost, tt.lost(f))
			}
			pr := rep.Repaired[0]
			if pr.Salvaged+len(pr.Lost) != 4 {
				t.Errorf("%d salvaged and %d lost, want the pack's 4 blobs", pr.Salvaged, len(pr.Lost))
			}
			r := repotest.Reopen(t, f.be)
			gone := map[pack.ID]bool{}
			for _, id := range lost {
				gone[id] = true
			}
			for _, id := range []pack.ID{f.a1, f.a2, f.t1, f.t2} {
				_, err := r.LoadBlob(context.Background(), id)
				if gone[id] != (err != nil) {
					t.Errorf("blob %s: reported lost %v, loads with %v", id.Short(), gone[id], err)
				}
			}
			for _, p := range f.files(t, backend.PackFile) {
				if p == f.pA {
					t.Error("the damaged pack is still stored")
				}
			}
			if len(lost) > 0 {
				if _, err := repair.Snapshots(context.Background(), f.open(t), repair.SnapshotsOptions{Forget: true}); err != nil {
					t.Fatal(err)
				}
			}
			f.restores(t, f.s3ID) // the only snapshot without a1
		})
	}
}

// TestPacksKillSafety stops repair packs at each of its writes and
// removals, as a kill would: every blob must still load (from the damaged
// pack through the old index, or from its salvaged copy), and a second
// run must complete.
func TestPacksKillSafety(t *testing.T) {
	setup := func(t *testing.T) (*fixture, *faulty.Backend) {
		fb := faulty.New(mem.New())
		f := newFixture(t, fb)
		f.flip(t, backend.PackFile, f.pA, -10)
		return f, fb
	}
	opts := repair.PacksOptions{MaxFileBlobs: 1, Workers: 1, ReadData: true}
	f, fb := setup(t)
	saves := fb.Saves()
	rep, err := repairPacks(t, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	saves = fb.Saves() - saves
	removes := len(rep.Removed)
	if saves < 3 || removes < 2 {
		t.Fatalf("a run wrote %d files and removed %d, want several of each", saves, removes)
	}

	stop := func(t *testing.T, fault func(fb *faulty.Backend)) {
		f, fb := setup(t)
		r := repotest.Reopen(t, f.be)
		fault(fb)
		if _, err := repair.Packs(context.Background(), r, opts); err == nil {
			t.Fatal("repair packs did not fail")
		}
		fb.Clear()
		r, err := repo.Open(context.Background(), f.be, repotest.Password, repotest.Options(t))
		if err == nil {
			err = r.LoadIndex(context.Background())
		}
		if err != nil {
			t.Fatalf("the index does not load after the kill: %v", err)
		}
		for id, want := range f.data {
			got, err := r.LoadBlob(context.Background(), id)
			if err != nil || string(got) != string(want) {
				t.Errorf("blob %s does not load after the kill: %v", id.Short(), err)
			}
		}
		if _, err := repairPacks(t, f, opts); err != nil {
			t.Fatalf("the next run: %v", err)
		}
		// What the kill left unreferenced (new packs, or the damaged pack
		// once no index names it) goes at the next prune.
		if _, err := prune.Run(context.Background(), repotest.Reopen(t, f.be), prune.Options{MaxUnused: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for n := 1; n <= saves; n++ {
		t.Run(fmt.Sprintf("write %d of %d", n, saves), func(t *testing.T) {
			stop(t, func(fb *faulty.Backend) { fb.FailSaveAfter(n, faulty.ErrDiskFull) })
		})
	}
	for n := 1; n <= removes; n++ {
		t.Run(fmt.Sprintf("removal %d of %d", n, removes), func(t *testing.T) {
			stop(t, func(fb *faulty.Backend) { fb.FailRemoveAfter(n, errors.New("injected: killed")) })
		})
	}
}

// TestPacksTreeCopies loses one copy of the roots of S1 and S2 (their
// pack is deleted): repair packs drops the missing pack and writes the
// copies again, from the twin; or, once repair index has dropped the pack
// (which leaves the trees with one copy, as an older strata stored them),
// writes them all the same.
func TestPacksTreeCopies(t *testing.T) {
	for _, indexFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("repair index first %v", indexFirst), func(t *testing.T) {
			f := newFixture(t, mem.New())
			f.remove(t, backend.PackFile, f.pRoots)
			if indexFirst {
				repairIndex(t, f, repair.IndexOptions{})
			}
			rep, err := repairPacks(t, f, repair.PacksOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wantRepaired := 1
			if indexFirst {
				wantRepaired = 0
			}
			if len(rep.Repaired) != wantRepaired || rep.TreeCopies != 2 || len(rep.LostBlobs()) != 0 {
				t.Errorf("repaired %d packs, wrote %d tree copies, lost %v; want %d, 2 (the roots of S1 and S2), none",
					len(rep.Repaired), rep.TreeCopies, rep.LostBlobs(), wantRepaired)
			}
			r := repotest.Reopen(t, f.be)
			for _, sn := range []pack.ID{f.s1ID, f.s2ID} {
				s, err := r.LoadSnapshot(context.Background(), sn)
				if err != nil {
					t.Fatal(err)
				}
				locs := r.Index().LookupAll(s.Tree)
				if len(locs) != repo.TreeCopies || locs[0].Pack == locs[1].Pack {
					t.Errorf("root of %s: %+v, want %d copies in different packs", sn.Short(), locs, repo.TreeCopies)
				}
			}
			// Nothing is left to do.
			again, err := repairPacks(t, f, repair.PacksOptions{})
			if err != nil || len(again.Repaired) != 0 || again.TreeCopies != 0 {
				t.Errorf("second run: %+v, %v", again, err)
			}
			f.restores(t, f.s1ID)
			f.restores(t, f.s2ID)
		})
	}
}

// TestPacksBrokenDelta damages a3 in pack pB: d1, a delta blob on a3 in
// pack pC, cannot be decoded any more, so repair packs drops its entry
// too, and after repair snapshots check (at cleanup) finds nothing, with
// no repair index in between.
func TestPacksBrokenDelta(t *testing.T) {
	f := newFixture(t, mem.New())
	r := repotest.Reopen(t, f.be)
	loc, _ := r.Index().Lookup(f.a3)
	f.flip(t, backend.PackFile, f.pB, int(loc.Offset)+30)
	rep, err := repairPacks(t, f, repair.PacksOptions{Packs: []pack.ID{f.pB}})
	if err != nil {
		t.Fatal(err)
	}
	if lost := rep.LostBlobs(); len(lost) != 1 || lost[0].ID != f.a3 {
		t.Errorf("lost %+v, want a3 %s", lost, f.a3.Short())
	}
	if fmt.Sprint(rep.BrokenDeltas) != fmt.Sprint([]pack.ID{f.d1}) {
		t.Errorf("broken deltas %v, want d1 %s", rep.BrokenDeltas, f.d1.Short())
	}
	if got := f.indexedBlobs(t); got[f.d1] || !got[f.x1] || !got[f.t3] {
		t.Errorf("after repair d1 indexed %v (want false), x1 %v and t3 %v (want true)", got[f.d1], got[f.x1], got[f.t3])
	}
	if _, err := repair.Snapshots(context.Background(), f.open(t), repair.SnapshotsOptions{Forget: true}); err != nil {
		t.Fatal(err)
	}
	f.restores(t, f.s3ID)
}
