package backendtest

import (
	"context"
	"errors"
	"testing"

	"strata/repo/backend"
)

func testList(t *testing.T, s backend.Storage) {
	want := make(map[backend.Handle]int64)
	// Enough packs to spread over many pack folders, an empty file of each
	// type, and sizes that differ from file to file.
	for i := range 300 {
		data := content(uint64(i), i%37)
		h := handleFor(backend.PackFile, data)
		if i%37 == 0 {
			h.Name = fileID([]byte{byte(i)}) // several empty packs
		}
		save(t, s, h, data)
		want[h] = int64(len(data))
	}
	for i, ft := range backend.FileTypes {
		for j := range 5 {
			if ft == backend.PackFile || ft == backend.ConfigFile && j > 0 {
				continue
			}
			data := content(uint64(1000+10*i+j), j*100)
			h := handleFor(ft, data)
			if j == 0 && ft != backend.ConfigFile {
				h.Name = fileID([]byte(ft))
			}
			save(t, s, h, data)
			want[h] = int64(len(data))
		}
	}
	wantFiles(t, s, want)
}

func testListStops(t *testing.T, s backend.Storage) {
	for i := range 10 {
		data := content(uint64(i), 10)
		save(t, s, handleFor(backend.SnapshotFile, data), data)
	}
	stop := errors.New("stop")
	calls := 0
	err := s.List(context.Background(), backend.SnapshotFile, func(backend.FileInfo) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) {
		t.Errorf("List returned %v, want the callback's error", err)
	}
	if calls != 1 {
		t.Errorf("List called the callback %d times after it failed, want 1", calls)
	}
}

// testListAndRemove removes each file from within the listing, as prune
// does; the storage must neither deadlock nor skip or repeat files.
func testListAndRemove(t *testing.T, s backend.Storage) {
	ctx := context.Background()
	want := make(map[backend.Handle]int64)
	for i := range 50 {
		data := content(uint64(i), 10+i)
		h := handleFor(backend.PackFile, data)
		save(t, s, h, data)
		want[h] = int64(len(data))
	}
	seen := make(map[backend.Handle]bool)
	err := s.List(ctx, backend.PackFile, func(fi backend.FileInfo) error {
		if seen[fi.Handle] {
			t.Errorf("List reported %v twice", fi.Handle)
		}
		seen[fi.Handle] = true
		if fi.Size != want[fi.Handle] {
			t.Errorf("List: %v has size %d, want %d", fi.Handle, fi.Size, want[fi.Handle])
		}
		return s.Remove(ctx, fi.Handle)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(want) {
		t.Errorf("List reported %d files, want %d", len(seen), len(want))
	}
	wantFiles(t, s, nil)
}
