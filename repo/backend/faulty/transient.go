package faulty

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"syscall"

	"strata/repo/backend"
)

// The faults of this file fail a number of calls and then pass again, as
// remote storage fails: they drive the tests of the retrying wrapper.

// Op names a method of backend.Storage, for FailTimes.
type Op string

// The operations FailTimes can fail.
const (
	OpSave   Op = "save"
	OpLoad   Op = "load"
	OpStat   Op = "stat"
	OpList   Op = "list"
	OpRemove Op = "remove"
)

// Errors of remote storage, for FailTimes, FailAfterSave and ShortLoad.
var (
	// ErrTimeout is a request that timed out (it wraps
	// os.ErrDeadlineExceeded, as a network timeout does).
	ErrTimeout = fmt.Errorf("injected fault: request timed out: %w", os.ErrDeadlineExceeded)
	// ErrReset is a connection the server reset.
	ErrReset = fmt.Errorf("injected fault: %w", syscall.ECONNRESET)
	// ErrSlowDown is an HTTP 503 SlowDown, marked backend.Throttled as a
	// remote backend marks it.
	ErrSlowDown = backend.MarkThrottled(fmt.Errorf("injected fault: %d %s: SlowDown: please reduce your request rate",
		http.StatusServiceUnavailable, http.StatusText(http.StatusServiceUnavailable)), 0)
	// ErrTooManyRequests is an HTTP 429, marked backend.Throttled.
	ErrTooManyRequests = backend.MarkThrottled(fmt.Errorf("injected fault: %d %s",
		http.StatusTooManyRequests, http.StatusText(http.StatusTooManyRequests)), 0)
)

// countFault fails the next n calls with err.
type countFault struct {
	n   int
	err error
}

// take uses one failure of f, returning its error, or nil when none is left.
func (f *countFault) take() error {
	if f.n <= 0 {
		return nil
	}
	f.n--
	return f.err
}

// FailTimes makes the next n calls of op fail with err, then lets calls
// pass again. A failing Save first reads half of its content, as an upload
// cut in the middle, and stores nothing; a failing List reports the first
// file (when there is one) and then fails; the others fail before they
// reach the inner storage.
func (b *Backend) FailTimes(op Op, n int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.times == nil {
		b.times = make(map[Op]*countFault)
	}
	b.times[op] = &countFault{n: n, err: err}
}

// FailAfterSave makes the next n Saves store their file and then fail
// with err, as a request that timed out after the server had stored the
// object: a retry then finds the file there.
func (b *Backend) FailAfterSave(n int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.afterSave = countFault{n: n, err: err}
}

// ShortLoad makes the next n Loads read the first keep bytes of their
// range and then fail with err, returning those bytes with the error, as
// a connection cut in the middle of a body (backend.Storage allows a
// failed Load to return the prefix it read).
func (b *Backend) ShortLoad(n int, keep int64, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.shortLoad = countFault{n: n, err: err}
	b.shortKeep = keep
}

// failTimes takes one failure of op, if any is left.
func (b *Backend) failTimes(op Op) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f := b.times[op]; f != nil {
		return f.take()
	}
	return nil
}

// failedSave reads half of rd, as an upload cut in the middle, and
// returns err.
func failedSave(h backend.Handle, rd backend.RewindReader, err error) error {
	_, _ = io.CopyN(io.Discard, rd, rd.Length()/2)
	return fmt.Errorf("save %v: %w", h, err)
}

// shortLoadFault loads the first keep bytes of the range and returns
// them with the fault's error, when a ShortLoad fault is left; ok is
// false when none is.
func (b *Backend) shortLoadFault(ctx context.Context, h backend.Handle, offset, length int64) (data []byte, ok bool, err error) {
	b.mu.Lock()
	fault := b.shortLoad.take()
	keep := b.shortKeep
	b.mu.Unlock()
	if fault == nil {
		return nil, false, nil
	}
	data, err = b.inner.Load(ctx, h, offset, length)
	if err != nil {
		return nil, true, err
	}
	data = data[:min(int64(len(data)), keep)]
	return data, true, fmt.Errorf("load %v: read %d bytes: %w", h, len(data), fault)
}

// failedList reports the first file of t and then fails with err.
func (b *Backend) failedList(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error, err error) error {
	stop := fmt.Errorf("list %s: %w", t, err)
	lerr := b.inner.List(ctx, t, func(fi backend.FileInfo) error {
		if ferr := fn(fi); ferr != nil {
			return ferr
		}
		return stop
	})
	if lerr == nil {
		return stop // nothing to list: fail all the same
	}
	return lerr
}
