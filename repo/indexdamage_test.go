package repo_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/faulty"
	"strata/repo/repotest"
)

// TestLoadIndexForReading: with one of two index files damaged, LoadIndex
// fails naming it, while LoadIndexForReading skips it, reads the headers of
// the packs no other file names, and every blob loads; a pack whose header
// is damaged too is reported, and a storage error that is not damage
// stops it.
func TestLoadIndexForReading(t *testing.T) {
	r, mem := repotest.New(t)
	repotest.SkipCheck(t)
	be := faulty.New(mem)
	var ids []pack.ID
	var datas [][]byte
	var indexFiles []string
	for i := range 2 {
		data := randomBytes(int64(10+i), 200<<10)
		res, err := r.SaveBlob(ctx, pack.DataBlob, data, pack.ID{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		ids, datas = append(ids, res.ID), append(datas, data)
		if i == 0 {
			indexFiles = listNames(t, mem, backend.IndexFile)
		}
	}
	damaged := indexFiles[0]
	flipAt(t, mem, backend.Handle{Type: backend.IndexFile, Name: damaged}, 40)

	strict, err := repo.Open(ctx, be, repotest.Password, repotest.Options(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := strict.LoadIndex(ctx); err == nil || !strings.Contains(err.Error(), damaged) {
		t.Errorf("LoadIndex with a damaged file: %v, want an error naming %s", err, damaged)
	}
	dmg, err := strict.LoadIndexForReading(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(dmg.Files) != 1 || dmg.Files[0].File.String() != damaged || dmg.PacksRead != 1 || len(dmg.Unreadable) != 0 {
		t.Errorf("damage worked around: %+v", dmg)
	}
	for i, id := range ids {
		got, err := strict.LoadBlob(ctx, id)
		if err != nil || !bytes.Equal(got, datas[i]) {
			t.Errorf("blob %d: %v", i, err)
		}
	}

	// A storage error while reading a header is no damage: it stops.
	boom := errors.New("storage unreachable")
	be.FailLoad(func(h backend.Handle) bool { return h.Type == backend.PackFile }, boom)
	if _, err := strict.LoadIndexForReading(ctx); !errors.Is(err, boom) {
		t.Errorf("LoadIndexForReading with a failing storage: %v, want %v", err, boom)
	}
	be.Clear()

	// The pack's header damaged as well: reported, its blob unavailable.
	kept, _ := strict.Index().Lookup(ids[1])
	for _, p := range listNames(t, mem, backend.PackFile) {
		if p != kept.Pack.String() {
			flipAt(t, mem, backend.Handle{Type: backend.PackFile, Name: p}, -10)
		}
	}
	dmg, err = strict.LoadIndexForReading(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(dmg.Unreadable) != 1 || dmg.PacksRead != 0 {
		t.Errorf("with the pack's header damaged too: %+v", dmg)
	}
	if _, err := strict.LoadBlob(ctx, ids[0]); err == nil {
		t.Error("a blob only a damaged header lists loaded")
	}
	if got, err := strict.LoadBlob(ctx, ids[1]); err != nil || !bytes.Equal(got, datas[1]) {
		t.Errorf("the blob the intact index file lists: %v", err)
	}
}

func listNames(t *testing.T, be backend.Storage, ft backend.FileType) []string {
	t.Helper()
	var names []string
	if err := be.List(ctx, ft, func(fi backend.FileInfo) error { names = append(names, fi.Handle.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	return names
}

// flipAt flips one bit of the byte at off of a file (negative: from the
// end).
func flipAt(t *testing.T, be backend.Storage, h backend.Handle, off int) {
	t.Helper()
	b, err := be.Load(ctx, h, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 {
		off += len(b)
	}
	b[off] ^= 1
	if err := be.Remove(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := be.Save(ctx, h, backend.NewByteReader(b)); err != nil {
		t.Fatal(err)
	}
}
