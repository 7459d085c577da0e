package repo

import (
	"context"

	"strata/repo/backend"
)

// RewriteLockPIDForTest replaces l's lock file with one naming pid.
func RewriteLockPIDForTest(ctx context.Context, r *Repository, l *Lock, pid int) error {
	return RewriteLockForTest(ctx, r, l, func(info *LockInfo) { info.PID = pid })
}

// RewriteLockForTest replaces l's lock file with one that edit changed.
func RewriteLockForTest(ctx context.Context, r *Repository, l *Lock, edit func(*LockInfo)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	info := l.info
	edit(&info)
	id, err := r.saveLock(ctx, info)
	if err != nil {
		return err
	}
	if err := r.be.Remove(ctx, backend.Handle{Type: backend.LockFile, Name: l.id.String()}); err != nil {
		return err
	}
	l.id = id
	return nil
}
