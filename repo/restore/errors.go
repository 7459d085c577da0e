package restore

import (
	"errors"
	"fmt"
)

// Errors of reading a snapshot's trees.
var (
	// ErrNotFound: no node at the given snapshot path. The message names
	// the path.
	ErrNotFound = errors.New("no such path in snapshot")
	// ErrUnsafeName: a node's name would leave its folder ("..", a slash, a
	// NUL byte, an empty name). The tree is damaged or was forged; nothing
	// is written under such a name.
	ErrUnsafeName = errors.New("unsafe node name")
)

// Errors of restoring.
var (
	// ErrNoMatch: Options.Include matched nothing in the snapshot.
	ErrNoMatch = errors.New("include patterns match nothing in the snapshot")
	// ErrExists: the target already holds something under a name the
	// snapshot restores, and Options.Overwrite is not set.
	ErrExists = errors.New("already exists in the target")
)

// notFoundError reads `no "/x/y" in snapshot` and matches ErrNotFound.
type notFoundError struct{ path string }

func (e *notFoundError) Error() string        { return fmt.Sprintf("no %q in snapshot", e.path) }
func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

// NotFound returns the error FindNode returns for the snapshot path p,
// for a reader that finds nodes its own way (dbexport.TableNodeReader).
func NotFound(p string) error { return &notFoundError{path: cleanPath(p)} }
