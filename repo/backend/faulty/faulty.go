package faulty

import (
	"context"
	"fmt"
	"io"
	"sync"
	"syscall"

	"strata/repo/backend"
)

// ErrDiskFull is the error a full local disk gives (it wraps
// backend.ErrFull and syscall.ENOSPC), for FailSaveAfter and ShortWrite.
var ErrDiskFull = fmt.Errorf("injected fault: %w: %w", backend.ErrFull, syscall.ENOSPC)

// Backend is a backend.Storage that injects faults into the calls it
// passes to an inner storage. Faults may be set and cleared while calls
// run; each applies until Clear.
type Backend struct {
	inner backend.Storage

	mu         sync.Mutex
	saves      int   // Save calls so far
	failSaveAt int   // the Save call from which on Saves fail; 0: none
	saveErr    error // the error they fail with
	removes    int   // Remove calls so far
	failRmAt   int   // the Remove call from which on Removes fail; 0: none
	removeErr  error
	short      shortWrite
	failLoad   loadFault
	corrupt    corruptLoad
	// The faults of transient.go.
	times     map[Op]*countFault
	afterSave countFault
	shortLoad countFault
	shortKeep int64
}

type shortWrite struct {
	match func(backend.Handle) bool
	keep  int64
	err   error
}

type loadFault struct {
	match func(backend.Handle) bool
	err   error
}

type corruptLoad struct {
	match func(backend.Handle) bool
	fn    func([]byte)
}

var _ backend.Storage = (*Backend)(nil)

// New wraps inner; no faults are set.
func New(inner backend.Storage) *Backend {
	return &Backend{inner: inner}
}

// FailSaveAfter makes the n-th following Save (n = 1: the next one) and
// every Save after it fail with err, storing nothing, as a full disk or a
// dead server would. Earlier Saves pass through.
func (b *Backend) FailSaveAfter(n int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failSaveAt = b.saves + max(n, 1)
	b.saveErr = err
}

// FailRemoveAfter makes the n-th following Remove (n = 1: the next one)
// and every Remove after it fail with err, removing nothing: with
// FailSaveAfter, it stops a command at a chosen step as a kill would.
func (b *Backend) FailRemoveAfter(n int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failRmAt = b.removes + max(n, 1)
	b.removeErr = err
}

// ShortWrite makes each Save of a handle that match accepts a torn write:
// the inner storage receives the first keep bytes of the content and then
// err from the source, as if the writer had crashed or the disk filled up
// mid-file.
//
// The wrapper does not fake a partial file. Under the atomic Save of the
// backend contract a torn write must leave nothing under the final name;
// only a temporary file may remain, which readers ignore. So ShortWrite
// tests the caller's handling of the error and the inner storage's
// atomicity together: afterwards the file must not exist. (A leftover
// temporary file after a real crash is a local-backend matter, tested
// there.) If the inner storage accepts the torn content anyway, Save still
// returns an error, and the damage stays visible for check to find.
func (b *Backend) ShortWrite(match func(backend.Handle) bool, keep int64, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.short = shortWrite{match: match, keep: keep, err: err}
}

// FailLoad makes each Load of a handle that match accepts fail with err.
func (b *Backend) FailLoad(match func(backend.Handle) bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failLoad = loadFault{match: match, err: err}
}

// CorruptLoad passes the bytes of each Load of a handle that match accepts
// to corrupt, which changes them in place before the caller sees them (a
// ranged Load passes only its range). The stored file is not changed.
func (b *Backend) CorruptLoad(match func(backend.Handle) bool, corrupt func([]byte)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.corrupt = corruptLoad{match: match, fn: corrupt}
}

// Clear removes every fault.
func (b *Backend) Clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failSaveAt, b.saveErr = 0, nil
	b.failRmAt, b.removeErr = 0, nil
	b.short = shortWrite{}
	b.failLoad = loadFault{}
	b.corrupt = corruptLoad{}
	b.times = nil
	b.afterSave = countFault{}
	b.shortLoad = countFault{}
}

// Saves returns the number of Save calls so far, failed ones included: a
// test can count the Saves of an operation, then fail each in turn with
// FailSaveAfter.
func (b *Backend) Saves() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.saves
}

// Save implements backend.Storage, with the faults of FailSaveAfter and
// ShortWrite.
func (b *Backend) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	b.mu.Lock()
	b.saves++
	var failErr error
	if b.failSaveAt > 0 && b.saves >= b.failSaveAt {
		failErr = b.saveErr
	}
	short := b.short
	b.mu.Unlock()

	if failErr != nil {
		return fmt.Errorf("save %v: %w", h, failErr)
	}
	if err := b.failTimes(OpSave); err != nil {
		return failedSave(h, rd, err)
	}
	if short.match == nil || !short.match(h) {
		if err := b.inner.Save(ctx, h, rd); err != nil {
			return err
		}
		b.mu.Lock()
		err := b.afterSave.take()
		b.mu.Unlock()
		if err != nil {
			return fmt.Errorf("save %v: %w", h, err)
		}
		return nil
	}
	err := b.inner.Save(ctx, h, &tornReader{rd: rd, keep: short.keep, left: short.keep, err: short.err})
	if err == nil {
		return fmt.Errorf("save %v: the inner storage kept a torn write of %d bytes: %w", h, short.keep, short.err)
	}
	return err
}

// tornReader yields the first keep bytes of rd (all of them when it
// holds fewer) and then fails with err, returned with the last bytes so
// that a backend that reads no further than Length sees it too; its
// Length is rd's, so the reader is torn, not just short.
type tornReader struct {
	rd         backend.RewindReader
	keep, left int64 // left: bytes to deliver before failing
	read       int64 // bytes delivered
	err        error
}

func (r *tornReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, r.err
	}
	n, err := r.rd.Read(p[:min(int64(len(p)), r.left)])
	r.left -= int64(n)
	r.read += int64(n)
	if err == io.EOF || r.left <= 0 || r.read >= r.rd.Length() {
		r.left = 0
		err = r.err
	}
	return n, err
}

func (r *tornReader) Length() int64 { return r.rd.Length() }

func (r *tornReader) Rewind() error {
	r.left, r.read = r.keep, 0
	return r.rd.Rewind()
}

// Load implements backend.Storage, with the faults of FailLoad and
// CorruptLoad.
func (b *Backend) Load(ctx context.Context, h backend.Handle, offset, length int64) ([]byte, error) {
	b.mu.Lock()
	fail, corrupt := b.failLoad, b.corrupt
	b.mu.Unlock()

	if fail.match != nil && fail.match(h) {
		return nil, fmt.Errorf("load %v: %w", h, fail.err)
	}
	if err := b.failTimes(OpLoad); err != nil {
		return nil, fmt.Errorf("load %v: %w", h, err)
	}
	data, short, err := b.shortLoadFault(ctx, h, offset, length)
	if !short {
		data, err = b.inner.Load(ctx, h, offset, length)
	}
	if err == nil && corrupt.match != nil && corrupt.match(h) {
		corrupt.fn(data)
	}
	return data, err
}

// Stat implements backend.Storage, with the faults of FailTimes.
func (b *Backend) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	if err := b.failTimes(OpStat); err != nil {
		return backend.FileInfo{}, fmt.Errorf("stat %v: %w", h, err)
	}
	return b.inner.Stat(ctx, h)
}

// List implements backend.Storage, with the faults of FailTimes.
func (b *Backend) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if err := b.failTimes(OpList); err != nil {
		return b.failedList(ctx, t, fn, err)
	}
	return b.inner.List(ctx, t, fn)
}

// Remove implements backend.Storage, with the faults of FailRemoveAfter
// and FailTimes.
func (b *Backend) Remove(ctx context.Context, h backend.Handle) error {
	if err := b.failTimes(OpRemove); err != nil {
		return fmt.Errorf("remove %v: %w", h, err)
	}
	b.mu.Lock()
	b.removes++
	var failErr error
	if b.failRmAt > 0 && b.removes >= b.failRmAt {
		failErr = b.removeErr
	}
	b.mu.Unlock()
	if failErr != nil {
		return fmt.Errorf("remove %v: %w", h, failErr)
	}
	return b.inner.Remove(ctx, h)
}

// Location implements backend.Storage: the inner storage's location.
func (b *Backend) Location() string { return b.inner.Location() }
