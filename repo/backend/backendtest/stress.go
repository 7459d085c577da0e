package backendtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"strata/repo/backend"
)

func testConcurrentSaves(t *testing.T, s backend.Storage) {
	types := []backend.FileType{backend.PackFile, backend.IndexFile, backend.SnapshotFile, backend.LockFile, backend.KeyFile}
	const n = 64
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		want = make(map[backend.Handle]int64)
	)
	for i := range n {
		wg.Go(func() {
			data := content(uint64(i), 1000+i*100)
			h := handleFor(types[i%len(types)], data)
			if err := s.Save(context.Background(), h, backend.NewByteReader(data)); err != nil {
				t.Errorf("Save(%v): %v", h, err)
				return
			}
			mu.Lock()
			want[h] = int64(len(data))
			mu.Unlock()
		})
	}
	wg.Wait()
	wantFiles(t, s, want)
}

// testConcurrentSavesOfOneFile races Saves of the config, the one file
// not named by its content, with different bytes: exactly one wins and the
// stored file is the winner's, whole.
func testConcurrentSavesOfOneFile(t *testing.T, s backend.Storage) {
	const n = 16
	h := backend.Handle{Type: backend.ConfigFile}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []int
	)
	for i := range n {
		wg.Go(func() {
			err := s.Save(context.Background(), h, backend.NewByteReader(content(uint64(i), 100_000)))
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, i)
				mu.Unlock()
			case !errors.Is(err, backend.ErrExists):
				t.Errorf("Save %d: got %v, want success or ErrExists", i, err)
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d of %d concurrent Saves of %v succeeded, want 1", len(winners), n, h)
	}
	load(t, s, h, content(uint64(winners[0]), 100_000))
	wantFiles(t, s, map[backend.Handle]int64{h: 100_000})
}

// testConcurrentSavesOfOneFileUnconditional races Saves of the config with
// different bytes on a storage without conditional writes
// (Options.NoConditionalWrites): each succeeds or fails with ErrExists,
// at least one succeeds, and the stored config is whole and the bytes of
// one that succeeded, never of one that was told ErrExists.
func testConcurrentSavesOfOneFileUnconditional(t *testing.T, s backend.Storage) {
	const n = 16
	h := backend.Handle{Type: backend.ConfigFile}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners = map[int]bool{}
	)
	for i := range n {
		wg.Go(func() {
			err := s.Save(context.Background(), h, backend.NewByteReader(content(uint64(i), 100_000)))
			switch {
			case err == nil:
				mu.Lock()
				winners[i] = true
				mu.Unlock()
			case !errors.Is(err, backend.ErrExists):
				t.Errorf("Save %d: got %v, want success or ErrExists", i, err)
			}
		})
	}
	wg.Wait()
	if len(winners) == 0 {
		t.Fatalf("none of %d concurrent Saves of %v succeeded", n, h)
	}
	got, err := s.Load(context.Background(), h, 0, 0)
	if err != nil {
		t.Fatalf("Load(%v): %v", h, err)
	}
	stored := -1
	for i := range n {
		if bytes.Equal(got, content(uint64(i), 100_000)) {
			stored = i
		}
	}
	switch {
	case stored < 0:
		t.Fatalf("the stored config (%d bytes) is none of the %d saved", len(got), n)
	case !winners[stored]:
		t.Fatalf("the stored config is Save %d's, which was told ErrExists (winners: %v)", stored, winners)
	}
	t.Logf("%d of %d concurrent Saves of the config succeeded; Save %d's is stored", len(winners), n, stored)
	wantFiles(t, s, map[backend.Handle]int64{h: 100_000})
}

// testConcurrentSavesOfSameBytes races Saves of one name with the bytes
// it is named by, as two backups that stored the same pack, or a retried
// upload racing its first attempt: each succeeds or fails with ErrExists,
// at least one succeeds, and the file is whole.
func testConcurrentSavesOfSameBytes(t *testing.T, s backend.Storage) {
	const n = 8
	data := content(1, 300_000)
	h := handleFor(backend.PackFile, data)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range n {
		wg.Go(func() {
			err := s.Save(context.Background(), h, backend.NewByteReader(data))
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case !errors.Is(err, backend.ErrExists):
				t.Errorf("Save %d: got %v, want success or ErrExists", i, err)
			}
		})
	}
	wg.Wait()
	if wins == 0 {
		t.Fatalf("none of %d concurrent Saves of %v succeeded", n, h)
	}
	load(t, s, h, data)
	wantFiles(t, s, map[backend.Handle]int64{h: int64(len(data))})
}

func testLargeFile(t *testing.T, s backend.Storage) {
	const size = 20 << 20
	data := content(1, size)
	h := handleFor(backend.PackFile, data)
	save(t, s, h, data)
	load(t, s, h, data)
	off, n := int64(10<<20-7), int64(1<<20+13)
	got, err := s.Load(context.Background(), h, off, n)
	if err != nil {
		t.Fatalf("Load(%d, %d): %v", off, n, err)
	}
	if !bytes.Equal(got, data[off:off+n]) {
		t.Errorf("Load(%d, %d): content differs", off, n)
	}
	wantFiles(t, s, map[backend.Handle]int64{h: size})
}

func testCancelledContext(t *testing.T, s backend.Storage) {
	data := content(1, 100)
	h := handleFor(backend.IndexFile, data)
	save(t, s, h, data)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	other := handleFor(backend.IndexFile, content(2, 100))
	if err := s.Save(ctx, other, backend.NewByteReader(content(2, 100))); !errors.Is(err, context.Canceled) {
		t.Errorf("Save: got %v, want context.Canceled", err)
	}
	if _, err := s.Load(ctx, h, 0, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Load: got %v, want context.Canceled", err)
	}
	if _, err := s.Stat(ctx, h); !errors.Is(err, context.Canceled) {
		t.Errorf("Stat: got %v, want context.Canceled", err)
	}
	called := false
	err := s.List(ctx, backend.IndexFile, func(backend.FileInfo) error { called = true; return nil })
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("List: got %v (callback called: %v), want context.Canceled", err, called)
	}
	if err := s.Remove(ctx, h); !errors.Is(err, context.Canceled) {
		t.Errorf("Remove: got %v, want context.Canceled", err)
	}
	wantFiles(t, s, map[backend.Handle]int64{h: 100})
}

// cancelReader cancels its context after the first read: the caller gives
// up in the middle of a Save.
type cancelReader struct {
	backend.RewindReader
	cancel context.CancelFunc
}

func (r *cancelReader) Read(p []byte) (int, error) {
	n, err := r.RewindReader.Read(p)
	r.cancel()
	return n, err
}

func testCancelDuringSave(t *testing.T, s backend.Storage) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	data := content(1, 1<<20)
	h := handleFor(backend.PackFile, data)
	err := s.Save(ctx, h, &cancelReader{RewindReader: backend.NewByteReader(data), cancel: cancel})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Save: got %v, want context.Canceled", err)
	}
	wantFiles(t, s, nil)
	save(t, s, h, data) // nothing half-saved stands in the way
	load(t, s, h, data)
}

// failReader yields the bytes of its reader, then fails: a torn write.
// Its Length is that of the whole content, so a backend cannot tell the
// failure coming from the length alone.
type failReader struct {
	backend.RewindReader
	length int64
	err    error
}

func (r *failReader) Read(p []byte) (int, error) {
	n, err := r.RewindReader.Read(p)
	if err == io.EOF {
		return n, r.err
	}
	return n, err
}

func (r *failReader) Length() int64 { return r.length }

func testReaderError(t *testing.T, s backend.Storage) {
	fail := errors.New("source failed")
	data := content(1, 100_000)
	for _, ft := range backend.FileTypes {
		h := handleFor(ft, data)
		rd := &failReader{RewindReader: backend.NewByteReader(data[:60_000]), length: int64(len(data)), err: fail}
		if err := s.Save(context.Background(), h, rd); !errors.Is(err, fail) {
			t.Errorf("Save(%v): got %v, want the reader's error", h, err)
		}
	}
	wantFiles(t, s, nil)
	for _, ft := range backend.FileTypes {
		h := handleFor(ft, data)
		save(t, s, h, data)
		load(t, s, h, data)
	}
}

// shortReader holds fewer bytes than its Length says, and ends without
// an error.
type shortReader struct {
	backend.RewindReader
	length int64
}

func (r *shortReader) Length() int64 { return r.length }

func testShortContent(t *testing.T, s backend.Storage) {
	data := content(1, 100_000)
	for _, ft := range backend.FileTypes {
		h := handleFor(ft, data)
		rd := &shortReader{RewindReader: backend.NewByteReader(data[:60_000]), length: int64(len(data))}
		if err := s.Save(context.Background(), h, rd); !errors.Is(err, backend.ErrShortContent) {
			t.Errorf("Save(%v) of content shorter than its length: got %v, want ErrShortContent", h, err)
		}
	}
	wantFiles(t, s, nil)
}
