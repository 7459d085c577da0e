package repair_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"strata/index"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/faulty"
	"strata/repo/backend/mem"
	"strata/repo/repair"
	"strata/repo/repotest"
	"strata/verify"
)

func repairIndex(t *testing.T, f *fixture, opts repair.IndexOptions) *repair.IndexReport {
	t.Helper()
	rep, err := repair.Index(context.Background(), f.open(t), opts)
	if err != nil {
		t.Fatalf("repair index: %v", err)
	}
	return rep
}

// TestIndexRestoresLostEntries damages the index file of one pack at a
// time: repair index reads that pack's header, reuses the other files'
// entries, and leaves an index that check finds clean (at cleanup) and
// under which every snapshot restores.
func TestIndexRestoresLostEntries(t *testing.T) {
	damages := []struct {
		name string
		do   func(t *testing.T, f *fixture, file pack.ID)
	}{
		{"deleted", func(t *testing.T, f *fixture, file pack.ID) { f.remove(t, backend.IndexFile, file) }},
		{"flipped byte", func(t *testing.T, f *fixture, file pack.ID) { f.flip(t, backend.IndexFile, file, 60) }},
		{"truncated", func(t *testing.T, f *fixture, file pack.ID) {
			b := f.load(t, backend.IndexFile, file)
			f.replace(t, backend.IndexFile, file, b[:len(b)/2])
		}},
	}
	for _, dm := range damages {
		t.Run(dm.name, func(t *testing.T) {
			f := newFixture(t, mem.New())
			file := f.indexFileOf(t, f.pB)
			before := f.files(t, backend.IndexFile)
			dm.do(t, f, file)
			if len(f.check(t)) == 0 {
				t.Fatal("check finds nothing wrong after the damage")
			}

			rep := repairIndex(t, f, repair.IndexOptions{})
			if rep.PacksRead != 1 || rep.PacksReused != 10 || rep.PacksStored != 11 {
				t.Errorf("read %d packs, reused %d of %d, want 1 and 10 of 11", rep.PacksRead, rep.PacksReused, rep.PacksStored)
			}
			wantDamaged := 0
			if dm.name != "deleted" {
				wantDamaged = 1
				if len(rep.DamagedFiles) != 1 || rep.DamagedFiles[0].File != file {
					t.Errorf("damaged files %v, want %s", rep.DamagedFiles, file.Short())
				}
			}
			if len(rep.DamagedFiles) != wantDamaged {
				t.Errorf("%d damaged files reported, want %d", len(rep.DamagedFiles), wantDamaged)
			}
			wantRemoved := before
			if dm.name == "deleted" {
				wantRemoved = slices.DeleteFunc(slices.Clone(before), func(id pack.ID) bool { return id == file })
			}
			if !slices.Equal(sorted(rep.FilesRemoved), wantRemoved) {
				t.Errorf("removed index files %v, want %v", rep.FilesRemoved, wantRemoved)
			}
			if got := f.files(t, backend.IndexFile); !slices.Equal(got, sorted(rep.FilesWritten)) || len(got) != 1 {
				t.Errorf("index files after repair %v, want the one written %v", got, rep.FilesWritten)
			}
			if len(rep.Unreadable) > 0 || len(rep.MissingPacks) > 0 || rep.Blobs != 9+2*5 {
				t.Errorf("report %+v, want no unreadable or missing packs and 19 entries (5 trees twice)", rep)
			}
			for _, sn := range []pack.ID{f.s1ID, f.s2ID, f.s3ID} {
				f.restores(t, sn)
			}
		})
	}
}

// TestIndexSmallFiles bounds the entries per file: several files are
// written, and only the last one supersedes the old files.
func TestIndexSmallFiles(t *testing.T) {
	f := newFixture(t, mem.New())
	old := f.files(t, backend.IndexFile)
	rep := repairIndex(t, f, repair.IndexOptions{MaxFileBlobs: 3, ReadAllPacks: true, Workers: 3})
	if rep.PacksRead != 11 || rep.PacksReused != 0 {
		t.Errorf("read %d packs and reused %d, want 11 and 0 with ReadAllPacks", rep.PacksRead, rep.PacksReused)
	}
	if len(rep.FilesWritten) < 3 {
		t.Fatalf("wrote %d index files for 19 entries at 3 per file, want several", len(rep.FilesWritten))
	}
	r := f.open(t)
	for i, id := range rep.FilesWritten {
		file := decodeIndexFile(t, r, id)
		last := i == len(rep.FilesWritten)-1
		switch {
		case last && !slices.Equal(sorted(file.Supersedes), old):
			t.Errorf("the last file supersedes %v, want every old file %v", file.Supersedes, old)
		case !last && len(file.Supersedes) > 0:
			t.Errorf("file %d of %d supersedes %v, want nothing before the last", i+1, len(rep.FilesWritten), file.Supersedes)
		}
	}
	if got := f.files(t, backend.IndexFile); !slices.Equal(got, sorted(rep.FilesWritten)) {
		t.Errorf("index files after repair %v, want %v", got, rep.FilesWritten)
	}
}

// TestIndexMissingPack: a pack that is gone is dropped from the index and
// reported with its entries, and so is the delta blob built on one of its
// blobs (written before the drop, so its file is written again); check
// then reports the blobs as missing, not the pack or the base.
func TestIndexMissingPack(t *testing.T) {
	repotest.SkipCheck(t)
	f := newFixture(t, mem.New())
	f.remove(t, backend.PackFile, f.pB)
	rep := repairIndex(t, f, repair.IndexOptions{MaxFileBlobs: 1})
	if !slices.Equal(rep.MissingPacks, []pack.ID{f.pB}) || rep.MissingBlobs != 3 {
		t.Errorf("missing packs %v with %d entries, want %s with 3", rep.MissingPacks, rep.MissingBlobs, f.pB.Short())
	}
	if !slices.Equal(rep.BrokenDeltas, []pack.ID{f.d1}) {
		t.Errorf("broken deltas %v, want d1 %s", rep.BrokenDeltas, f.d1.Short())
	}
	if got := f.indexedBlobs(t); got[f.d1] || !got[f.x1] {
		t.Errorf("after repair d1 indexed: %v (want false), x1 of the same pack: %v (want true)", got[f.d1], got[f.x1])
	}
	// One file per pack left (pC's written again without d1), and the last.
	if got := f.files(t, backend.IndexFile); len(got) != 11 {
		t.Errorf("%d index files left, want 11: %v", len(got), got)
	}
	missing := map[pack.ID]bool{}
	for _, fd := range f.check(t) {
		switch fd := fd.(type) {
		case *verify.MissingBlob:
			missing[fd.Blob] = true
		default:
			t.Errorf("check: %v", fd)
		}
	}
	if want := []pack.ID{f.a3, f.t3, f.s1, f.d1}; len(missing) != len(want) {
		t.Errorf("check finds %d missing blobs, want %d", len(missing), len(want))
	}
}

// TestIndexUnreadableHeader: a pack whose header does not open is reported
// and left in place. With ReadAllPacks, the entries of an index file that
// lists it with its size are kept; a pack no file covers loses its blobs.
func TestIndexUnreadableHeader(t *testing.T) {
	cases := []struct {
		name     string
		opts     repair.IndexOptions
		dropFile bool // also delete the pack's index file
		kept     bool
	}{
		{"reused without reading", repair.IndexOptions{}, false, true},
		{"read all, entries kept", repair.IndexOptions{ReadAllPacks: true}, false, true},
		{"no index file", repair.IndexOptions{}, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repotest.SkipCheck(t)
			f := newFixture(t, mem.New())
			if tc.dropFile {
				f.remove(t, backend.IndexFile, f.indexFileOf(t, f.pA))
			}
			f.flip(t, backend.PackFile, f.pA, -10) // inside the sealed header
			rep := repairIndex(t, f, tc.opts)
			reads := tc.opts.ReadAllPacks || tc.dropFile
			switch {
			case !reads && len(rep.Unreadable) != 0:
				t.Errorf("unreadable %v, want none: the header was not read", rep.Unreadable)
			case reads && (len(rep.Unreadable) != 1 || rep.Unreadable[0].Pack != f.pA || (rep.Unreadable[0].KeptBlobs == 4) != tc.kept):
				t.Errorf("unreadable %+v, want pack %s with its 4 entries kept: %v", rep.Unreadable, f.pA.Short(), tc.kept)
			case reads && !errors.Is(rep.Unreadable[0].Err, pack.ErrInvalidHeader):
				t.Errorf("unreadable error %v, want ErrInvalidHeader", rep.Unreadable[0].Err)
			}
			if got := f.indexedBlobs(t)[f.a1]; got != tc.kept {
				t.Errorf("a1 indexed: %v, want %v", got, tc.kept)
			}
			if !slices.Contains(f.files(t, backend.PackFile), f.pA) {
				t.Error("the unreadable pack was removed")
			}
		})
	}
}

// TestIndexTruncatedPack: a pack whose size no longer matches its entries
// has its header read, which fails; the old entries whose bytes are still
// stored are kept, the others dropped.
func TestIndexTruncatedPack(t *testing.T) {
	cases := []struct {
		name       string
		keep       func(size int) int
		kept, lost int
	}{
		{"header cut", func(size int) int { return size - 100 }, 2, 0},
		{"blobs cut", func(size int) int { return 10 }, 0, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repotest.SkipCheck(t)
			f := newFixture(t, mem.New())
			b := f.load(t, backend.PackFile, f.pC)
			f.replace(t, backend.PackFile, f.pC, b[:tc.keep(len(b))])
			rep := repairIndex(t, f, repair.IndexOptions{})
			if rep.PacksRead != 0 || len(rep.Unreadable) != 1 || rep.Unreadable[0].Pack != f.pC ||
				rep.Unreadable[0].KeptBlobs != tc.kept || rep.Unreadable[0].LostBlobs != tc.lost {
				t.Errorf("read %d, unreadable %+v, want pack %s unreadable with %d entries kept and %d lost",
					rep.PacksRead, rep.Unreadable, f.pC.Short(), tc.kept, tc.lost)
			}
			r := repotest.Reopen(t, f.be)
			plain, err := r.LoadBlob(context.Background(), f.x1)
			switch {
			case tc.kept > 0 && (err != nil || !bytes.Equal(plain, f.data[f.x1])):
				t.Errorf("x1 of the truncated pack does not load: %v", err)
			case tc.kept == 0 && r.HasBlob(f.x1):
				t.Error("x1 of the truncated pack is still indexed")
			}
		})
	}
}

// TestIndexKillSafety stops repair index at each of its writes and each
// of its removals, as a kill would: the index must then load, and list
// every blob the damaged index listed, and a second run must complete.
func TestIndexKillSafety(t *testing.T) {
	// One index file is damaged (its pack's header is read), one deleted.
	setup := func(t *testing.T) (f *fixture, fb *faulty.Backend, before map[pack.ID]bool, damaged pack.ID) {
		fb = faulty.New(mem.New())
		f = newFixture(t, fb)
		fileB, fileC := f.indexFileOf(t, f.pB), f.indexFileOf(t, f.pC)
		f.flip(t, backend.IndexFile, fileB, 60)
		f.remove(t, backend.IndexFile, fileC)
		r := f.open(t)
		if _, err := r.LoadIndexTolerant(context.Background()); err != nil {
			t.Fatal(err)
		}
		before = map[pack.ID]bool{}
		r.Index().Each(func(id pack.ID, _ index.Location) bool {
			before[id] = true
			return true
		})
		if len(before) < 8 {
			t.Fatalf("the damaged index lists %d blobs, want most of the fixture's", len(before))
		}
		return f, fb, before, fileB
	}
	// One pack per file makes the number of writes the same in every run.
	opts := repair.IndexOptions{MaxFileBlobs: 1, Workers: 1}

	// Count the writes and removals of an uninterrupted run.
	f, fb, _, _ := setup(t)
	saves := fb.Saves()
	rep := repairIndex(t, f, opts)
	saves = fb.Saves() - saves
	removes := len(rep.FilesRemoved)
	if saves < 3 || removes < 4 {
		t.Fatalf("a run wrote %d files and removed %d, want several of each", saves, removes)
	}

	// stop runs repair index until fault stops it. Until the superseding
	// file is written the damaged file is still in use, so the index loads
	// as check loads it, tolerating that file; after, it loads as every
	// command loads it.
	stop := func(t *testing.T, fault func(fb *faulty.Backend), superseded bool) {
		f, fb, before, damaged := setup(t)
		fault(fb)
		if _, err := repair.Index(context.Background(), f.open(t), opts); err == nil {
			t.Fatal("repair index did not fail")
		}
		fb.Clear()
		r := f.open(t)
		bad, err := r.LoadIndexTolerant(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bad {
			if b.File != damaged {
				t.Errorf("index file %s does not load after the kill: %v", b.File.Short(), b.Err)
			}
		}
		if superseded {
			if err := f.open(t).LoadIndex(context.Background()); err != nil {
				t.Errorf("the index does not load after the kill: %v", err)
			}
		}
		for id := range before {
			if !r.HasBlob(id) {
				t.Errorf("blob %s is no longer indexed", id.Short())
			}
		}
		// The next run completes; check at cleanup finds the repository clean.
		repairIndex(t, f, opts)
	}
	for n := 1; n <= saves; n++ {
		t.Run(fmt.Sprintf("write %d of %d", n, saves), func(t *testing.T) {
			stop(t, func(fb *faulty.Backend) { fb.FailSaveAfter(n, faulty.ErrDiskFull) }, false)
		})
	}
	for n := 1; n <= removes; n++ {
		t.Run(fmt.Sprintf("removal %d of %d", n, removes), func(t *testing.T) {
			stop(t, func(fb *faulty.Backend) { fb.FailRemoveAfter(n, errors.New("injected: killed")) }, true)
		})
	}
}

func sorted(ids []pack.ID) []pack.ID {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(a, b pack.ID) int { return bytes.Compare(a[:], b[:]) })
	return ids
}

func decodeIndexFile(t *testing.T, r *repo.Repository, id pack.ID) *index.File {
	t.Helper()
	plain, err := r.LoadFile(context.Background(), backend.IndexFile, id)
	if err != nil {
		t.Fatal(err)
	}
	file, err := index.Decode(plain)
	if err != nil {
		t.Fatal(err)
	}
	return file
}
