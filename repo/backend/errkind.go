package backend

import (
	"context"
	"errors"
	"io/fs"
	"syscall"
	"time"
)

// Kind says whether a failed operation may succeed if tried again; the
// retrying wrapper (package retry) decides by it.
type Kind int

const (
	// Transient: may succeed if tried again soon (a timeout, a reset
	// connection, an HTTP 500).
	Transient Kind = iota
	// Throttled: the storage asks the client to slow down (HTTP 503
	// SlowDown, 429 Too Many Requests); try again, after a longer wait.
	Throttled
	// Permanent: will fail again however often it is tried (a missing
	// or existing file, a refused permission, a full disk, an invalid
	// handle, a cancelled context, a TLS handshake that failed).
	Permanent
	// Unreachable: nothing answers at the storage's address (a refused
	// connection, an unknown host). Tried again only a few times in
	// quick succession, for a server that is restarting: a wrong port
	// or a server that is down should fail the command in seconds, not
	// after minutes of retries.
	Unreachable
)

func (k Kind) String() string {
	switch k {
	case Transient:
		return "transient"
	case Throttled:
		return "throttled"
	case Permanent:
		return "permanent"
	case Unreachable:
		return "unreachable"
	}
	return "unknown"
}

// Error is an error a backend marked with its Kind; it wraps the
// backend's own error, whose message it keeps.
type Error struct {
	Kind Kind
	// RetryAfter is how long the storage asked to wait (an HTTP
	// Retry-After header); 0 when it said nothing.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// MarkTransient, MarkThrottled and MarkPermanent mark err with a Kind
// (nil stays nil).
func MarkTransient(err error) error { return mark(Transient, err) }

// MarkThrottled marks err as Throttled; see MarkTransient.
func MarkThrottled(err error, retryAfter time.Duration) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: Throttled, RetryAfter: retryAfter, Err: err}
}

// MarkPermanent marks err as Permanent; see MarkTransient.
func MarkPermanent(err error) error { return mark(Permanent, err) }

// MarkUnreachable marks err as Unreachable; see MarkTransient.
func MarkUnreachable(err error) error { return mark(Unreachable, err) }

func mark(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: k, Err: err}
}

// KindOf classifies err. An error a backend marked (an *Error in its
// chain) has the Kind it was given. Otherwise the sentinels of this
// package (not exist, exists, range, full, read-only, too large, invalid
// handle, short content), a refused permission and a cancelled
// context are Permanent, and everything else is Transient: only remote
// storage is retried, and its errors are network errors unless its
// backend says otherwise.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	for _, perm := range []error{ErrNotExist, ErrExists, ErrRange, ErrFull, ErrReadOnly, ErrTooLarge, ErrInvalid, ErrShortContent,
		ErrLocked, ErrNoObjectLock, ErrAppendOnly,
		fs.ErrPermission, context.Canceled, syscall.ENOSPC, syscall.EROFS} {
		if errors.Is(err, perm) {
			return Permanent
		}
	}
	return Transient
}
