package repo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"strata/repo/backend"
)

// Object lock (docs/design.md, "Object lock"): a repository whose config
// sets ObjectLock writes every file that holds its data or opens it (the
// config, key files, packs, index files, snapshot files) with a retention
// of ObjectLock.Days from its writing; lock files, the journal, policy and
// protect files, which commands remove in their ordinary work, without.

// Retained reports whether files of type t are written with a retention
// in a repository under object lock.
func Retained(t backend.FileType) bool {
	switch t {
	case backend.ConfigFile, backend.KeyFile, backend.PackFile, backend.IndexFile, backend.SnapshotFile:
		return true
	}
	return false
}

// retaining is the storage of a repository under object lock: it saves
// the files Retained names with a retention from the repository's clock.
type retaining struct {
	backend.Storage
	lock ObjectLock
	now  func() time.Time
}

func (s retaining) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if !Retained(h.Type) {
		return s.Storage.Save(ctx, h, rd)
	}
	l, ok := s.Storage.(backend.ObjectLocker)
	if !ok {
		return fmt.Errorf("saving %v: the repository at %s is under object lock (%v), but this storage cannot lock files: %w",
			h, s.Location(), s.lock, backend.ErrNoObjectLock)
	}
	return l.SaveRetained(ctx, h, rd, s.lock.Retention(s.now()))
}

// RemoveTemp passes backend.TempRemover through.
func (s retaining) RemoveTemp(ctx context.Context, cutoff time.Time) (int, int64, error) {
	tr, ok := s.Storage.(backend.TempRemover)
	if !ok {
		return 0, 0, nil
	}
	return tr.RemoveTemp(ctx, cutoff)
}

// checkObjectLock makes sure the storage of a new repository under object
// lock can lock files: the bucket has object lock on and sets no default
// retention of its own (which would lock the lock files too).
func checkObjectLock(ctx context.Context, be backend.Storage, lock ObjectLock) error {
	l, ok := be.(backend.ObjectLocker)
	if !ok {
		return fmt.Errorf("object lock (%v) at %s: this storage cannot lock files; object lock needs an S3 bucket created with object lock: %w",
			lock, be.Location(), backend.ErrNoObjectLock)
	}
	cfg, err := l.ObjectLock(ctx)
	if err != nil {
		return fmt.Errorf("object lock (%v) at %s: %w", lock, be.Location(), err)
	}
	if !cfg.Enabled {
		return fmt.Errorf("object lock (%v) at %s: the bucket exists without object lock, which S3 turns on only when a bucket is created "+
			"(Amazon S3 also on a versioned bucket, in its console): name a bucket that does not exist yet, and strata init creates it with object lock: %w",
			lock, be.Location(), backend.ErrNoObjectLock)
	}
	if cfg.DefaultRetention != "" {
		return fmt.Errorf("object lock (%v) at %s: the bucket gives every new object a default retention (%s), which would lock strata's lock files too, "+
			"and they could not be removed: remove the bucket's default retention (strata sets a retention on each file it keeps): %w",
			lock, be.Location(), cfg.DefaultRetention, backend.ErrNoObjectLock)
	}
	return nil
}

// ObjectLock returns the repository's object lock setting, or nil.
func (r *Repository) ObjectLock() *ObjectLock { return r.cfg.ObjectLock }

// Locker returns the storage's object lock, past the lock guard, or nil
// when the storage cannot lock files.
func (r *Repository) Locker() backend.ObjectLocker {
	l, _ := r.storage.(backend.ObjectLocker)
	return l
}

// LocksInUse reports whether the storage has object lock turned on, so
// that a removal may be refused: the repository is under object lock, or
// its bucket locks files of its own accord (a default retention).
func (r *Repository) LocksInUse(ctx context.Context) (bool, error) {
	l := r.Locker()
	if l == nil {
		return false, nil
	}
	cfg, err := l.ObjectLock(ctx)
	if err != nil {
		return false, err
	}
	return cfg.Enabled, nil
}

// LockedFile is a file that could not be removed because of its object
// lock.
type LockedFile struct {
	Handle backend.Handle
	State  backend.LockState
}

// LockedFiles returns those of hs that are under object lock at the
// repository's clock, by their handles; none when the storage has no
// object lock. Files that are gone are left out.
func (r *Repository) LockedFiles(ctx context.Context, hs []backend.Handle) (map[backend.Handle]backend.LockState, error) {
	locked := map[backend.Handle]backend.LockState{}
	on, err := r.LocksInUse(ctx)
	if err != nil || !on {
		return locked, err
	}
	l, now := r.Locker(), r.opts.Now()
	for _, h := range hs {
		st, err := l.LockState(ctx, h)
		if errors.Is(err, backend.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if st.Locked(now) {
			locked[h] = st
		}
	}
	return locked, nil
}

// CheckCanDelete fails with an error wrapping backend.ErrAppendOnly when
// the storage refuses to remove files of any of the types ts (an
// append-only credential), naming what, the command that would remove
// them. Storage that cannot tell passes.
func (r *Repository) CheckCanDelete(ctx context.Context, what string, ts ...backend.FileType) error {
	p, ok := r.storage.(backend.DeleteProber)
	if !ok {
		return nil
	}
	for _, t := range ts {
		can, err := p.CanDelete(ctx, t)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if !can {
			return fmt.Errorf("%s removes files in %s/, but the credentials for %s may not delete there: %w; "+
				"run %s with credentials that may delete (append-only credentials are for backups)", what, t, r.storage.Location(), backend.ErrAppendOnly, what)
		}
	}
	return nil
}
