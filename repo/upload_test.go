package repo_test

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/mem"
	"strata/repo/repotest"
)

// holdFirstPack is storage whose first pack upload waits until release
// is closed, while later uploads go through.
type holdFirstPack struct {
	backend.Storage
	release chan struct{}
	remote  bool
	saves   atomic.Int32
	loads   atomic.Int32
}

func (h *holdFirstPack) Save(ctx context.Context, hd backend.Handle, rd backend.RewindReader) error {
	if hd.Type == backend.PackFile && h.saves.Add(1) == 1 {
		select {
		case <-h.release:
		case <-time.After(5 * time.Second): // not forever, should uploads not overlap
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return h.Storage.Save(ctx, hd, rd)
}

// Remote makes the storage read like an object store's (backend.Remote).
func (h *holdFirstPack) Remote() bool { return h.remote }

func (h *holdFirstPack) Load(ctx context.Context, hd backend.Handle, offset, length int64) ([]byte, error) {
	if hd.Type == backend.PackFile {
		h.loads.Add(1)
	}
	return h.Storage.Load(ctx, hd, offset, length)
}

// TestUploadsIndexedInOrder: packs upload side by side, but a pack is
// indexed only after every pack started before it, so an index never
// names a delta blob whose base's pack is not indexed (a copy stores the
// delta in the pack after its base's); the saver does not wait for the
// uploads meanwhile.
func TestUploadsIndexedInOrder(t *testing.T) {
	hold := &holdFirstPack{Storage: mem.New(), release: make(chan struct{})}
	r := repotest.NewOn(t, hold, func(_ *repo.Config, o *repo.Options) { o.Uploads = 2 })
	base := randomBlob(21, 3<<19) // fills a 1 MiB pack on its own
	baseRes, err := r.SaveDataBlobOn(ctx, base, pack.ID{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	changed := append(bytes.Clone(base[:len(base)-100]), randomBlob(22, 3<<19)...)
	deltaRes, err := r.SaveDataBlobOn(ctx, changed, baseRes.ID, base)
	if err != nil {
		t.Fatal(err)
	}
	if deltaRes.Compression != pack.Delta {
		t.Fatalf("the second blob was stored as %v, want a delta", deltaRes.Compression)
	}
	// The second pack (the delta's) is stored while the first waits.
	deadline := time.Now().Add(10 * time.Second)
	for hold.saves.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if hold.saves.Load() < 2 {
		t.Fatal("the second pack's upload did not start while the first one's waited: uploads do not run side by side")
	}
	time.Sleep(50 * time.Millisecond)
	if r.HasBlob(deltaRes.ID) || r.HasBlob(baseRes.ID) {
		t.Fatalf("indexed while the first pack still uploads: delta %v, base %v", r.HasBlob(deltaRes.ID), r.HasBlob(baseRes.ID))
	}
	close(hold.release)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []pack.ID{baseRes.ID, deltaRes.ID} {
		if !repotest.Reopen(t, hold).HasBlob(id) {
			t.Errorf("blob %s not indexed after Flush", id.Short())
		}
	}
}

// TestUploadFailureEndsWithFlush: a failed background upload fails the
// saves after it and the Flush, and once Flush reported it the handle
// saves and flushes again.
func TestUploadFailureEndsWithFlush(t *testing.T) {
	var fail atomic.Bool
	be := &failingPacks{Storage: mem.New(), fail: &fail}
	r := repotest.NewOn(t, be)
	fail.Store(true)
	var err error
	for i := byte(0); i < 8 && err == nil; i++ {
		_, err = r.SaveBlob(ctx, pack.DataBlob, randomBlob(30+i, 3<<19), pack.ID{})
		if err == nil {
			_ = r.WaitUploads(ctx)
		}
	}
	if err == nil {
		t.Fatal("saves went on after a pack failed to upload")
	}
	if err := r.Flush(ctx); err == nil {
		t.Fatal("Flush after a failed upload succeeded")
	}
	fail.Store(false)
	res, err := r.SaveBlob(ctx, pack.DataBlob, randomBlob(40, 100), pack.ID{})
	if err != nil {
		t.Fatalf("saving after the failure was reported: %v", err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatalf("flushing after the failure was reported: %v", err)
	}
	if !repotest.Reopen(t, be).HasBlob(res.ID) {
		t.Error("the blob saved after the failure is not indexed")
	}
}

type failingPacks struct {
	backend.Storage
	fail *atomic.Bool
}

func (f *failingPacks) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if h.Type == backend.PackFile && f.fail.Load() {
		return fmt.Errorf("save %v: %w", h, backend.ErrFull)
	}
	return f.Storage.Save(ctx, h, rd)
}

// TestBackupReadsChainInBlocks: on remote storage, a backup's delta base
// whose chain runs through several packs is read with one request per
// block of each pack, the requests side by side, and the next base in the
// same blocks costs no request at all.
func TestBackupReadsChainInBlocks(t *testing.T) {
	hold := &holdFirstPack{Storage: mem.New(), release: make(chan struct{}), remote: true}
	close(hold.release)
	r := repotest.NewOn(t, hold)
	// Two chains of four links, each link of both in one flush (one
	// pack per generation).
	var tops [2]pack.ID
	var plains [2][]byte
	for gen := 0; gen < 4; gen++ {
		for c := range 2 {
			p := csvChunk(int64(50+c), 1500)
			for g := 1; g <= gen; g++ {
				p = append(p, fmt.Sprintf("row %d of generation %d\n", c, g)...)
			}
			res, err := r.SaveBlob(ctx, pack.DataBlob, p, tops[c])
			if err != nil {
				t.Fatal(err)
			}
			if gen > 0 && res.Compression != pack.Delta {
				t.Fatalf("generation %d stored as %v, want a delta", gen, res.Compression)
			}
			tops[c], plains[c] = res.ID, p
		}
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r = repotest.Reopen(t, hold)
	before := hold.loads.Load()
	for c := range 2 {
		next := append(bytes.Clone(plains[c]), "one more\n"...)
		res, err := r.SaveBlob(ctx, pack.DataBlob, next, tops[c])
		if err != nil {
			t.Fatal(err)
		}
		if res.Compression != pack.Delta {
			t.Fatalf("chain %d: stored as %v, want a delta", c, res.Compression)
		}
		if c == 0 {
			if n := hold.loads.Load() - before; n != 4 {
				t.Errorf("reading a base of 4 links in 4 packs took %d pack reads, want 4 (a block each)", n)
			}
			before = hold.loads.Load()
		}
	}
	if n := hold.loads.Load() - before; n != 0 {
		t.Errorf("the second chain, in the same blocks, took %d pack reads, want 0", n)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}
