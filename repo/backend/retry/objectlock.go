package retry

import (
	"context"
	"fmt"

	"strata/repo/backend"
)

var (
	_ backend.ObjectLocker = (*Backend)(nil)
	_ backend.DeleteProber = (*Backend)(nil)
)

// locker returns the inner storage's object lock, or fails with
// ErrNoObjectLock.
func (b *Backend) locker() (backend.ObjectLocker, error) {
	l, ok := b.inner.(backend.ObjectLocker)
	if !ok {
		return nil, fmt.Errorf("%s: %w", b.inner.Location(), backend.ErrNoObjectLock)
	}
	return l, nil
}

// ObjectLock implements backend.ObjectLocker with retries; storage
// without object lock reports none.
func (b *Backend) ObjectLock(ctx context.Context) (backend.ObjectLockConfig, error) {
	l, ok := b.inner.(backend.ObjectLocker)
	if !ok {
		return backend.ObjectLockConfig{}, nil
	}
	var cfg backend.ObjectLockConfig
	err := b.do(ctx, "object lock configuration", func() error {
		var err error
		cfg, err = l.ObjectLock(ctx)
		return err
	})
	return cfg, err
}

// SaveRetained implements backend.ObjectLocker as Save does.
func (b *Backend) SaveRetained(ctx context.Context, h backend.Handle, rd backend.RewindReader, r backend.Retention) error {
	l, err := b.locker()
	if err != nil {
		return err
	}
	return b.save(ctx, h, rd, func(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
		return l.SaveRetained(ctx, h, rd, r)
	})
}

// LockState implements backend.ObjectLocker with retries.
func (b *Backend) LockState(ctx context.Context, h backend.Handle) (backend.LockState, error) {
	l, err := b.locker()
	if err != nil {
		return backend.LockState{}, err
	}
	var st backend.LockState
	err = b.do(ctx, "lock state of "+h.String(), func() error {
		var err error
		st, err = l.LockState(ctx, h)
		return err
	})
	return st, err
}

// ExtendRetention implements backend.ObjectLocker with retries (moving a
// retention to the same date twice is harmless).
func (b *Backend) ExtendRetention(ctx context.Context, h backend.Handle, r backend.Retention) (bool, error) {
	l, err := b.locker()
	if err != nil {
		return false, err
	}
	moved := false
	err = b.do(ctx, "extend the retention of "+h.String(), func() error {
		m, err := l.ExtendRetention(ctx, h, r)
		moved = moved || m
		return err
	})
	return moved, err
}

// SetLegalHold implements backend.ObjectLocker with retries.
func (b *Backend) SetLegalHold(ctx context.Context, h backend.Handle, on bool) error {
	l, err := b.locker()
	if err != nil {
		return err
	}
	return b.do(ctx, "legal hold of "+h.String(), func() error { return l.SetLegalHold(ctx, h, on) })
}

// CanDelete implements backend.DeleteProber with retries; storage that
// cannot tell answers yes (its Remove says otherwise if it must).
func (b *Backend) CanDelete(ctx context.Context, t backend.FileType) (bool, error) {
	p, ok := b.inner.(backend.DeleteProber)
	if !ok {
		return true, nil
	}
	can := false
	err := b.do(ctx, "probe deletion in "+string(t), func() error {
		var err error
		can, err = p.CanDelete(ctx, t)
		return err
	})
	return can, err
}
