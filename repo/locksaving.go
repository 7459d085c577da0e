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
	_, err := l.name(ctx, id)
	return err
}

// name adds ids to the snapshots the lock names, up to MaxLockSaving,
// and writes its lock file again when that added any. It reports whether
// the lock names every one of ids.
func (l *Lock) name(ctx context.Context, ids ...pack.ID) (all bool, err error) {
	l.mu.Lock()
	saving := slices.Clone(l.saving)
	all = true
	for _, id := range ids {
		switch {
		case slices.Contains(saving, id):
		case len(saving) >= MaxLockSaving:
			all = false
		default:
			saving = append(saving, id)
		}
	}
	added := len(saving) > len(l.saving)
	l.saving = saving
	l.mu.Unlock()
	if !added {
		return all, nil
	}
	return all, l.refresh(ctx)
}

// adoptStaleLocks removes the stale locks that name snapshots, which
// checkLockConflicts left for once l holds: it names their snapshots in
// l first. So a lock names them until r's command's audit record does
// (StaleLockSnapshots, written before l's file is removed: KeepLocksUntilRecorded),
// and a check that reads the locks meanwhile counts them, as every
// later one does should that command be killed before its record
// (docs/design.md, "Locks").
func (r *Repository) adoptStaleLocks(ctx context.Context, l *Lock, stale []staleLock) {
	for _, s := range stale {
		all, err := l.name(ctx, s.info.Saving...)
		if err != nil || !all {
			if r.firstNotice(s.info.ID) {
				why := fmt.Sprintf("this lock names %d snapshots at most", MaxLockSaving)
				if err != nil {
					why = err.Error()
				}
				r.Notify("ignoring stale %v: %s; the %d snapshot(s) it names could not be named in this command's lock (%s)",
					s.info, s.reason, len(s.info.Saving), why)
			}
			continue
		}
		r.removeStaleLock(ctx, s.info, s.reason, true)
	}
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
