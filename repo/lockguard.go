package repo

import (
	"context"
	"fmt"
	"time"

	"strata/repo/backend"
)

// lockGuard is the storage a Repository writes through. Before it saves or
// removes a file it makes sure that every lock the handle holds is still
// valid (Lock.check), so that a command whose lock was lost cannot write a
// pack, an index or a snapshot, or remove anything, while another process
// may hold a conflicting lock. The lease is checked on every write, from
// memory; the lock file's presence too before every write but a pack's
// (the final writes: index, snapshot, keys, policy, protect) and before
// every removal. Lock files themselves pass: they are how a lock is
// taken, refreshed and released. It also keeps the journal: a save of a
// snapshot, key, policy, protect or index file is recorded after it, a
// removal before it (journalwrite.go).
type lockGuard struct {
	backend.Storage
	r *Repository
}

func (g lockGuard) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if h.Type != backend.LockFile {
		if err := g.r.checkLocks(ctx, h.Type != backend.PackFile); err != nil {
			return err
		}
	}
	if h.Type == backend.SnapshotFile {
		if err := g.r.announceSnapshot(ctx, h.Name); err != nil {
			return err
		}
	}
	var data []byte
	if h.Type == backend.ProtectFile {
		// Its record names the snapshot it protects: read it whole (a
		// protect file is a few hundred bytes).
		var err error
		if data, err = backend.ReadContent(rd); err != nil {
			return fmt.Errorf("reading %v to save it: %w", h, err)
		}
		rd = backend.NewByteReader(data)
	}
	if err := g.Storage.Save(ctx, h, rd); err != nil {
		return err
	}
	g.r.journalAdded(ctx, h, data)
	g.r.touchFile(h, data)
	return nil
}

func (g lockGuard) Remove(ctx context.Context, h backend.Handle) error {
	if h.Type != backend.LockFile {
		if err := g.r.checkLocks(ctx, true); err != nil {
			return err
		}
	}
	if err := g.r.journalRemoving(ctx, h); err != nil {
		return err
	}
	if err := g.Storage.Remove(ctx, h); err != nil {
		return err
	}
	g.r.touchFile(h, nil)
	return nil
}

// RemoveTemp passes backend.TempRemover through; a storage without
// temporary files removes none.
func (g lockGuard) RemoveTemp(ctx context.Context, cutoff time.Time) (int, int64, error) {
	tr, ok := g.Storage.(backend.TempRemover)
	if !ok {
		return 0, 0, nil
	}
	if err := g.r.checkLocks(ctx, true); err != nil {
		return 0, 0, err
	}
	return tr.RemoveTemp(ctx, cutoff)
}
