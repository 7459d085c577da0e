package repo

import (
	"context"

	"strata/index"
	"strata/pack"
)

// TreeCopies is how many copies of each tree blob a writer stores, each in
// a pack of its own (docs/design.md, "Tree copies"): one damaged or lost
// pack then never takes a snapshot's structure with it. Data blobs are
// stored once.
const TreeCopies = 2

// Copies is how many copies of a blob of type t writers keep.
func Copies(t pack.BlobType) int {
	if t == pack.TreeBlob {
		return TreeCopies
	}
	return 1
}

// LoadBlobCopy loads blob id from the one copy at loc and verifies it
// against its ID, without falling back to other copies: check uses it to
// verify every copy of a tree. A delta blob's base is loaded from any
// copy.
func (r *Repository) LoadBlobCopy(ctx context.Context, id pack.ID, loc index.Location) ([]byte, error) {
	return r.loadFrom(ctx, id, loc, 0, nil, true)
}
