package repair

import "errors"

// Errors of Snapshots.
var (
	// ErrIndexIncomplete: Snapshots would write repaired snapshots, but the
	// index is not complete: an index file cannot be read, the index names
	// packs that are gone, or a pack no index file names holds blobs the
	// snapshots miss. Blobs would be dropped from snapshots that Index can
	// bring back; run Index (`strata repair index`) first. Nothing was
	// written.
	ErrIndexIncomplete = errors.New("the index must be repaired first")
)
