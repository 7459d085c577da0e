package backend

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Object lock (docs/design.md, "Object lock"): storage that can refuse to
// remove or overwrite a file until a date (a retention) or until a hold is
// lifted (a legal hold), whoever asks. S3 buckets created with object
// lock can; other storage cannot.

// RetentionMode is how strictly a retention holds.
type RetentionMode string

const (
	// Governance: nobody removes the file before its date, unless they
	// hold the special permission to bypass governance retention and use
	// it; the date can be moved later, never sooner.
	Governance RetentionMode = "GOVERNANCE"
	// Compliance: nobody, not even the account's root user, removes the
	// file or shortens its retention before its date.
	Compliance RetentionMode = "COMPLIANCE"
)

// ParseRetentionMode reads "governance" or "compliance" (any case).
func ParseRetentionMode(s string) (RetentionMode, error) {
	switch m := RetentionMode(strings.ToUpper(s)); m {
	case Governance, Compliance:
		return m, nil
	}
	return "", fmt.Errorf("object lock mode %q: want governance or compliance", s)
}

// Retention keeps a file until a date.
type Retention struct {
	Mode  RetentionMode
	Until time.Time
}

// LockState is the object lock of one stored file.
type LockState struct {
	Retention      // zero when the file has none
	LegalHold bool // a legal hold keeps the file whatever its date
}

// Locked reports whether the file cannot be removed at now.
func (s LockState) Locked(now time.Time) bool { return s.LegalHold || s.Until.After(now) }

// String describes the lock for messages: "governance until
// 2027-01-05T14:00:00Z, legal hold".
func (s LockState) String() string {
	var parts []string
	if !s.Until.IsZero() {
		parts = append(parts, fmt.Sprintf("%s until %s", strings.ToLower(string(s.Mode)), s.Until.UTC().Format(time.RFC3339)))
	}
	if s.LegalHold {
		parts = append(parts, "legal hold")
	}
	if len(parts) == 0 {
		return "no lock"
	}
	return strings.Join(parts, ", ")
}

var (
	// ErrLocked: Remove was refused because the file is under object lock
	// (its retention date has not come, or it has a legal hold). The
	// error is a *LockedError, which says until when.
	ErrLocked = errors.New("the file is under object lock")
	// ErrNoObjectLock: the storage cannot lock files (not an S3 bucket,
	// or a bucket created without object lock).
	ErrNoObjectLock = errors.New("the storage has no object lock")
	// ErrAppendOnly: the storage's credentials may add files but not
	// remove them (an append-only credential or bucket policy).
	ErrAppendOnly = errors.New("the repository's storage is append-only")
)

// LockedError is the error of a Remove refused by an object lock.
type LockedError struct {
	Handle Handle
	State  LockState
	Err    error // the storage's own refusal, when it sent one
}

func (e *LockedError) Error() string {
	msg := fmt.Sprintf("%v is under object lock (%v)", e.Handle, e.State)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *LockedError) Is(target error) bool { return target == ErrLocked }
func (e *LockedError) Unwrap() error        { return e.Err }

// ObjectLockConfig is what a storage says of its object lock.
type ObjectLockConfig struct {
	Enabled bool
	// DefaultRetention describes a retention the storage gives every new
	// file by itself ("GOVERNANCE 30 DAYS"); empty when none. strata
	// needs none: it would lock the lock files too.
	DefaultRetention string
}

// ObjectLocker is a Storage that can lock files. Wrappers (retry)
// implement it whatever they wrap and return ErrNoObjectLock when the
// inner storage does not.
type ObjectLocker interface {
	// ObjectLock says whether the storage has object lock turned on.
	ObjectLock(ctx context.Context) (ObjectLockConfig, error)
	// SaveRetained is Save, the file locked under r from its first byte.
	SaveRetained(ctx context.Context, h Handle, rd RewindReader, r Retention) error
	// LockState returns the lock of h (ErrNotExist when h is not stored).
	LockState(ctx context.Context, h Handle) (LockState, error)
	// ExtendRetention moves the retention of h to r.Until unless it ends
	// at r.Until or later already (it never shortens one), and reports
	// whether it moved it.
	ExtendRetention(ctx context.Context, h Handle, r Retention) (bool, error)
	// SetLegalHold places (on) or lifts a legal hold on h.
	SetLegalHold(ctx context.Context, h Handle, on bool) error
}

// DeleteProber is a Storage that can tell, before a command removes
// anything, whether its credentials may remove files of a type.
type DeleteProber interface {
	// CanDelete reports whether files of type t may be removed: false
	// (and no error) when the storage refuses (an append-only
	// credential), so that a command refuses before it changes anything.
	CanDelete(ctx context.Context, t FileType) (bool, error)
}
