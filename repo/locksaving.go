package repo

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"strata/pack"
	"strata/repo/backend"
)

// A command's audit record names the snapshots it saved, and check
// reports a snapshot that no record names: the record was removed. A
// command killed between saving a snapshot and writing its record would
// look the same. So a lock names each snapshot its holder is about to
// save (LockInfo.Saving), and, where the caller asks for it, its file
// stays until the record is written. A killed holder leaves that lock
// behind; a handle whose command's audit record will name them
// (RecordsStaleLocks) removes it as stale and records its snapshots,
// others leave it, and check counts those of the locks it finds or
// removes (docs/design.md, "Locks" and "The audit trail").

// MaxLockSaving is how many snapshots one lock names: enough for every
// command that saves snapshots but the largest tag, repair or copy, and
// a lock file well under MaxLockFileSize. Snapshots saved beyond it are
// not named.
const MaxLockSaving = 500

// announceSnapshot names the snapshot file name in every lock r holds
// before it is saved, writing each lock file again.
func (r *Repository) announceSnapshot(ctx context.Context, name string) error {
	id, err := pack.ParseID(name)
	if err != nil {
		return nil // no snapshot ID: check reports the file as misnamed
	}
	for _, l := range r.heldLocks() {
		if err := l.announce(ctx, id); err != nil {
			return fmt.Errorf("naming snapshot %s in the lock before saving it: %w", id.Short(), err)
		}
	}
	return nil
}

// announce adds id to the snapshots the lock names and writes its lock
// file again.
func (l *Lock) announce(ctx context.Context, id pack.ID) error {
	l.mu.Lock()
	if slices.Contains(l.saving, id) || len(l.saving) >= MaxLockSaving {
		l.mu.Unlock()
		return nil
	}
	l.saving = append(slices.Clone(l.saving), id)
	l.mu.Unlock()
	return l.refresh(ctx)
}

// KeepLocksUntilRecorded makes every lock of r that names a snapshot
// stay stored after Unlock, until ReleaseRecordedLocks: the caller writes
// the audit record of its command in between, so that a kill before the
// record leaves the lock that accounts for the snapshots.
func (r *Repository) KeepLocksUntilRecorded() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keepLocks = true
}

// RecordsStaleLocks makes r remove the stale locks that name snapshots:
// its caller writes an audit record of the command with
// StaleLockSnapshots once it ends. A handle that writes none (another
// repository's, as copy's source; a server's, whose one record comes
// when the process exits; a daemon's, whose runs skip their records when
// the lock is busy) leaves such locks, stale as they are: they exclude
// no one, and check counts the snapshots they name.
func (r *Repository) RecordsStaleLocks() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recordsStale = true
}

func (r *Repository) recordsStaleLocks() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.recordsStale
}

// linger keeps the lock file id after its lock is released, when r keeps
// locks until recorded.
func (r *Repository) linger(id pack.ID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.keepLocks {
		return false
	}
	r.lingering = append(r.lingering, id)
	return true
}

// lingers reports whether the lock file id is one r released and keeps:
// its own, which excludes no lock r takes.
func (r *Repository) lingers(id pack.ID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.lingering, id)
}

// ReleaseRecordedLocks removes the lock files kept since their locks
// were released (KeepLocksUntilRecorded), once the command's audit record
// is written or could not be.
func (r *Repository) ReleaseRecordedLocks(ctx context.Context) error {
	r.mu.Lock()
	ids := r.lingering
	r.lingering = nil
	r.mu.Unlock()
	var errs []error
	for _, id := range ids {
		if err := r.be.Remove(ctx, lockHandle(id)); err != nil && !errors.Is(err, backend.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing lock %s: %w", id.Short(), err))
		}
	}
	return errors.Join(errs...)
}

// removedSaving notes the snapshots that l, a stale lock r removed,
// names.
func (r *Repository) removedSaving(l LockInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range l.Saving {
		if !slices.Contains(r.staleSaving, id) {
			r.staleSaving = append(r.staleSaving, id)
		}
	}
}

// StaleLockSnapshots returns the snapshots named by the stale locks r
// removed: their holders may have saved them and been killed before
// their audit records. The command's own audit record names them.
func (r *Repository) StaleLockSnapshots() []pack.ID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.staleSaving)
}

// LockedSnapshots returns the snapshots that the locks stored now name
// (their commands' records may not be written yet) and those named by the
// stale locks r removed.
func (r *Repository) LockedSnapshots(ctx context.Context) ([]pack.ID, error) {
	locks, err := r.Locks(ctx)
	if err != nil {
		return nil, err
	}
	ids := r.StaleLockSnapshots()
	for _, l := range locks {
		ids = append(ids, l.Saving...)
	}
	return ids, nil
}
