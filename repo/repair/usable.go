package repair

import (
	"context"

	"strata/index"
	"strata/pack"
	"strata/repo"
)

// maxChainWalk stops a walk along a damaged (cyclic) chain of bases; no
// configured delta depth comes near it.
const maxChainWalk = 64

// blobChecker decides whether a data blob can be loaded.
type blobChecker struct {
	r        *repo.Repository
	idx      *index.Index
	stored   map[pack.ID]int64
	readData bool

	// bases caches the verdict on blobs met as a base, since many delta
	// blobs share one chain; verified caches, with readData, the blobs
	// that loaded, with their length.
	bases    map[pack.ID]bool
	verified map[pack.ID]uint32
	// unindexed are blobs met that the index does not hold at all: a
	// pack no index file names may still have them.
	unindexed map[pack.ID]bool
}

func newBlobChecker(r *repo.Repository, stored map[pack.ID]int64, readData bool) *blobChecker {
	return &blobChecker{r: r, idx: r.Index(), stored: stored, readData: readData,
		bases: map[pack.ID]bool{}, verified: map[pack.ID]uint32{}, unindexed: map[pack.ID]bool{}}
}

// usable reports whether data blob id can be loaded, and with readData its
// plaintext length (0 when unknown). Without readData a blob counts as
// loadable when the index places it in a stored pack and, for a delta
// blob, its base is loadable the same way; with it, the blob is loaded and
// verified. Only a failure to reach the storage is an error.
func (c *blobChecker) usable(ctx context.Context, id pack.ID) (ok bool, rawLength uint32, err error) {
	if !c.readData {
		return c.indexed(id, 0), 0, nil
	}
	if n, ok := c.verified[id]; ok {
		return true, n, nil
	}
	plain, err := c.r.LoadBlob(ctx, id)
	switch {
	case ctx.Err() != nil:
		return false, 0, ctx.Err()
	case err == nil:
		c.verified[id] = uint32(len(plain))
		return true, uint32(len(plain)), nil
	case isDamage(err):
		c.indexed(id, 0) // notes unindexed blobs on the chain
		return false, 0, nil
	}
	return false, 0, err
}

// indexed reports whether id has an index entry in a stored pack whose
// chain of bases is indexed the same way.
func (c *blobChecker) indexed(id pack.ID, depth int) bool {
	if depth > 0 {
		if ok, seen := c.bases[id]; seen {
			return ok
		}
		// A chain that leads back here counts as broken.
		c.bases[id] = false
	}
	ok := false
	locs := c.idx.LookupAll(id)
	if len(locs) == 0 {
		c.unindexed[id] = true
	}
	for _, loc := range locs {
		if _, stored := c.stored[loc.Pack]; !stored {
			continue
		}
		if loc.Compression == pack.Delta && (depth >= maxChainWalk || !c.indexed(loc.Base, depth+1)) {
			continue
		}
		ok = true
		break
	}
	if depth > 0 {
		c.bases[id] = ok
	}
	return ok
}
