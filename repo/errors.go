package repo

import "errors"

// Errors of opening a repository.
var (
	// ErrNoRepository: there is no repository at the location.
	ErrNoRepository = errors.New("no repository found")
	// ErrWrongPassword: no key file could be opened with the password.
	ErrWrongPassword = errors.New("wrong password or no key found")
	// ErrRepositoryExists: init found a repository already there.
	ErrRepositoryExists = errors.New("repository already exists")
)

// Errors of locking.
var (
	// ErrLocked: another process holds a conflicting lock.
	ErrLocked = errors.New("repository is locked")
	// ErrLockLost: a lock this handle held was lost (its lease ran out
	// without a refresh, or another process removed it); the handle
	// writes and removes nothing more.
	ErrLockLost = errors.New("repository lock lost")
)

// Errors of blobs, files and snapshots.
var (
	// ErrBlobNotFound: the index has no entry for a blob.
	ErrBlobNotFound = errors.New("blob not found in index")
	// ErrDamaged: stored bytes failed verification (hash, decryption or
	// decoding); the message names the file.
	ErrDamaged = errors.New("damaged data")
	// ErrSnapshotNotFound: no snapshot matches the given ID or prefix.
	ErrSnapshotNotFound = errors.New("snapshot not found")
	// ErrAmbiguous: an ID prefix matches more than one file.
	ErrAmbiguous = errors.New("ambiguous ID prefix")
	// ErrSnapshotTime: a snapshot time lies before 1970 or more than
	// MaxSnapshotFuture after now.
	ErrSnapshotTime = errors.New("snapshot time out of range")
	// ErrInvalidNodeName: a node name is empty, "." or "..", or holds "/"
	// or a NUL byte (docs/design.md, "Trees"); no tree holds one.
	ErrInvalidNodeName = errors.New("invalid name")
)
