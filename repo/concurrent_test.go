package repo_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/backend/mem"
	"strata/repo/repotest"
)

// gatedStorage holds the first pack Save until open is closed, and
// records whether a snapshot was saved while that pack was held.
type gatedStorage struct {
	backend.Storage
	entered chan struct{} // closed when the held pack Save started
	open    chan struct{} // closed by the test to let it finish

	mu            sync.Mutex
	held, stored  bool
	snapshotEarly bool
}

func (g *gatedStorage) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	g.mu.Lock()
	hold := h.Type == backend.PackFile && !g.held
	g.held = g.held || hold
	if h.Type == backend.SnapshotFile && g.held && !g.stored {
		g.snapshotEarly = true
	}
	g.mu.Unlock()
	if !hold {
		return g.Storage.Save(ctx, h, rd)
	}
	close(g.entered)
	<-g.open
	err := g.Storage.Save(ctx, h, rd)
	g.mu.Lock()
	g.stored = true
	g.mu.Unlock()
	return err
}

// TestFlushWaitsForOtherSavers: one saver of a handle is uploading the
// pack of blob X when another saver saves X too (told it is stored), then
// a tree naming X, and flushes and saves its snapshot. The snapshot must
// not be stored before X's pack and an index file naming it are.
func TestFlushWaitsForOtherSavers(t *testing.T) {
	gate := &gatedStorage{Storage: mem.New(), entered: make(chan struct{}), open: make(chan struct{})}
	r := repotest.NewOn(t, gate)
	x := randomBlob(3, 3<<19) // larger than a pack: its pack is uploaded at once

	first := make(chan error, 1)
	go func() {
		_, err := r.SaveBlob(ctx, pack.DataBlob, x, pack.ID{})
		first <- err
	}()
	<-gate.entered
	second := make(chan error, 1)
	go func() {
		res, err := r.SaveBlob(ctx, pack.DataBlob, x, pack.ID{})
		if err != nil {
			second <- err
			return
		}
		tree, err := r.SaveTree(ctx, &repo.Tree{Nodes: []repo.Node{{Name: "x", Kind: repo.NodeFile, Size: uint64(len(x)), Content: []pack.ID{res.ID}}}})
		if err == nil {
			err = r.Flush(ctx)
		}
		if err == nil {
			err = r.SaveSnapshot(ctx, &repo.Snapshot{Time: time.Now(), Tree: tree})
		}
		second <- err
	}()
	select {
	case err := <-second:
		// Done while X's pack is still held: only a Flush that did not
		// wait for it gets here.
		close(gate.open)
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		close(gate.open)
		if err := <-second; err != nil {
			t.Fatal(err)
		}
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if gate.snapshotEarly {
		t.Error("the snapshot was stored before the pack of a blob it needs, which another saver was uploading")
	}
}

// TestLoadIndexKeepsUnindexedPacks: LoadIndex on a handle whose saver
// uploaded a pack that no index file names yet keeps the pack's blobs: a
// reader on the handle finds them, and the next Flush indexes them.
func TestLoadIndexKeepsUnindexedPacks(t *testing.T) {
	r, be := repotest.New(t)
	x := randomBlob(4, 3<<19)
	res, err := r.SaveBlob(ctx, pack.DataBlob, x, pack.ID{})
	if err != nil {
		t.Fatal(err)
	}
	// The full pack uploads in the background.
	if err := r.WaitUploads(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := r.LoadBlob(ctx, res.ID); err != nil || !bytes.Equal(got, x) {
		t.Fatalf("a blob of an uploaded pack that no index file names yet is lost by LoadIndex: %v", err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if !repotest.Reopen(t, be).HasBlob(res.ID) {
		t.Error("Flush after LoadIndex did not index the pack uploaded before it")
	}
}

// randomBlob returns n incompressible bytes.
func randomBlob(seed byte, n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}
