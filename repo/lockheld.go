package repo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"strata/pack"
	"strata/repo/backend"
)

// Lock is a held lock, refreshed in the background until Unlock.
//
// A lock is lost when its lease runs out without a refresh (the process
// was stopped, or the storage did not take the refreshed lock file) or
// when its lock file disappears (another process removed it: `unlock
// --remove-all`, or one that judged it stale). Other processes may then
// take conflicting locks, so from that moment the handle writes and
// removes nothing more: every Save and Remove through the repository
// fails with ErrLockLost, and Context is cancelled with it as cause.
type Lock struct {
	r     *Repository
	info  LockInfo
	lease time.Duration

	ctx  context.Context
	lose context.CancelCauseFunc

	stop context.CancelFunc // ends the refresh loop
	done chan struct{}      // closed when the refresh loop has ended

	// refreshing serializes refresh: the refresh loop's and announce's.
	refreshing sync.Mutex

	mu        sync.Mutex
	saving    []pack.ID // info.Saving as the next refresh writes it
	id        pack.ID   // the lock file in force
	refreshed time.Time // r.opts.Now() just before that file was written
	lost      error     // set once, when the lock is lost

	releaseOnce sync.Once
}

// hold starts refreshing the lock file id, written with info, and counts
// the lock as held by r.
func (r *Repository) hold(ctx context.Context, info LockInfo, id pack.ID) *Lock {
	l := &Lock{r: r, info: info, lease: r.opts.LockLease, id: id, refreshed: info.Time, done: make(chan struct{})}
	l.ctx, l.lose = context.WithCancelCause(ctx)
	var rctx context.Context
	rctx, l.stop = context.WithCancel(context.Background())
	r.mu.Lock()
	r.held[l] = struct{}{}
	r.mu.Unlock()
	go l.refreshLoop(rctx)
	return l
}

// HoldsLockFile reports whether name is the lock file of a lock r holds
// now: what tells another process's locks from the command's own.
func (r *Repository) HoldsLockFile(name string) bool {
	r.mu.Lock()
	lingering := slices.ContainsFunc(r.lingering, func(id pack.ID) bool { return id.String() == name })
	r.mu.Unlock()
	if lingering {
		return true
	}
	for _, l := range r.heldLocks() {
		l.mu.Lock()
		id := l.id
		l.mu.Unlock()
		if id.String() == name {
			return true
		}
	}
	return false
}

// Context returns the context given to Lock, cancelled with a cause that
// wraps ErrLockLost when the lock is lost, and with context.Canceled once
// it is released. Long operations run under the lock should use it.
func (l *Lock) Context() context.Context { return l.ctx }

// Err returns why the lock was lost (wrapping ErrLockLost), or nil while
// it holds.
func (l *Lock) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// refreshLoop writes a fresh lock file every third of the lease, then
// removes the previous one, so the lock never looks expired while held.
// It ends when the lock is released or lost.
func (l *Lock) refreshLoop(ctx context.Context) {
	defer close(l.done)
	ticker := time.NewTicker(l.lease / 3)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		err := l.refresh(ctx)
		switch {
		case errors.Is(err, ErrLockLost):
			return
		case err != nil && ctx.Err() == nil:
			l.r.Notify("refreshing lock failed (retrying until its lease of %v runs out): %v", l.lease, err)
		}
	}
}

// refresh replaces the lock file by one with the current time, unless
// the lock was lost.
func (l *Lock) refresh(ctx context.Context) error {
	if err := l.check(ctx, true); err != nil {
		return err
	}
	l.refreshing.Lock()
	defer l.refreshing.Unlock()
	info := l.info
	l.mu.Lock()
	info.Saving = l.saving
	l.mu.Unlock()
	info.Time = l.r.opts.Now()
	id, err := l.r.saveLock(ctx, info)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.id
	if l.lost == nil {
		l.id, l.refreshed = id, info.Time
	}
	lost := l.lost
	l.mu.Unlock()
	if lost != nil {
		// Lost while the new file was written: it must not stand.
		_ = l.r.be.Remove(ctx, lockHandle(id))
		return lost
	}
	_ = l.r.be.Remove(ctx, lockHandle(old))
	return nil
}

// check returns an error wrapping ErrLockLost when the lock is lost: its
// lease ran out since the last refresh, or, with stat, its lock file is
// gone. Other errors (the storage failed to answer) are returned as they
// are. A lock found lost stays lost.
func (l *Lock) check(ctx context.Context, stat bool) error {
	l.mu.Lock()
	lost, id, refreshed := l.lost, l.id, l.refreshed
	l.mu.Unlock()
	if lost != nil {
		return lost
	}
	if since := l.r.opts.Now().Sub(refreshed); since >= l.lease {
		return l.setLost(fmt.Errorf("%w: %v was last refreshed %v ago, and its lease is %v (was strata stopped, or the repository's storage unreachable?); other processes may have changed the repository since, so nothing more is written: run the command again",
			ErrLockLost, l.info.kind(), since.Round(time.Second), l.lease))
	}
	if !stat {
		return nil
	}
	_, err := l.r.be.Stat(ctx, lockHandle(id))
	if errors.Is(err, backend.ErrNotExist) {
		l.mu.Lock()
		current := l.id
		l.mu.Unlock()
		if current != id {
			return l.check(ctx, stat) // refreshed meanwhile
		}
		return l.setLost(fmt.Errorf("%w: its lock file %v was removed by another process (`strata unlock --remove-all`, or one that judged it stale); other processes may have changed the repository since, so nothing more is written: run the command again",
			ErrLockLost, lockHandle(id)))
	}
	if err != nil {
		return fmt.Errorf("checking the lock: %w", err)
	}
	return nil
}

// setLost records err as the reason the lock is lost (the first reason
// wins) and cancels the lock's context.
func (l *Lock) setLost(err error) error {
	l.mu.Lock()
	if l.lost == nil {
		l.lost = err
	}
	err = l.lost
	l.mu.Unlock()
	l.lose(err)
	l.r.lockLost()
	return err
}

func (i LockInfo) kind() string {
	if i.Exclusive {
		return "the exclusive lock"
	}
	return "the shared lock"
}

// Unlock stops refreshing and removes the lock file. A lost lock is
// released too; its loss is not Unlock's error. When the handle keeps
// locks until the audit record (KeepLocksUntilRecorded) and this lock
// names snapshots it saved, its file stays until ReleaseRecordedLocks.
func (l *Lock) Unlock(ctx context.Context) error {
	l.stop()
	<-l.done
	l.releaseOnce.Do(func() { l.r.release(l) })
	l.lose(context.Canceled)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.saving) > 0 && l.lost == nil && l.r.linger(l.id) {
		return nil
	}
	err := l.r.be.Remove(ctx, lockHandle(l.id))
	if err != nil && !errors.Is(err, backend.ErrNotExist) {
		return fmt.Errorf("removing lock %s: %w", l.id.Short(), err)
	}
	return nil
}

// release counts l as no longer held by r. Once r holds no lock, its
// index is no longer fresh: an exclusive command may run before the next.
func (r *Repository) release(l *Lock) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.held, l)
	if len(r.held) == 0 {
		r.lockEpoch++
		r.indexFresh = false
	}
}

// lockLost marks r's index as no longer fresh: other processes may have
// changed the repository since the lock was lost.
func (r *Repository) lockLost() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lockEpoch++
	r.indexFresh = false
}

// checkLocks returns an error wrapping ErrLockLost when a lock r holds is
// lost; with stat, it also makes sure their lock files are still stored.
// A handle that holds no lock (a command run without one) is not checked.
func (r *Repository) checkLocks(ctx context.Context, stat bool) error {
	for _, l := range r.heldLocks() {
		if err := l.check(ctx, stat); err != nil {
			return err
		}
	}
	return nil
}

// heldLocks returns the locks r holds now.
func (r *Repository) heldLocks() []*Lock {
	r.mu.Lock()
	defer r.mu.Unlock()
	locks := make([]*Lock, 0, len(r.held))
	for l := range r.held {
		locks = append(locks, l)
	}
	return locks
}
