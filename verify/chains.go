package verify

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"golang.org/x/sync/errgroup"

	"strata/pack"
	"strata/repo/backend"
)

// Delta chains are verified after the packs are read, in an order that
// decodes every blob once (docs/design.md, "check"): verifying a delta
// blob on its own would rebuild its base, and the base's base, down to
// the plain blob at the root of the chain, for every link. The blobs of
// the chains (delta blobs and the plain blobs they build on) are set
// aside while their packs are read; then each group of chains that share
// blobs is walked from its plain roots, depth first, each link decoded
// with its parent's plaintext. Only the plaintexts on the path from a
// root to the current link are held, so memory is bounded by the depth of
// the chains, not their number.

// defaultChainMemory is how many sealed bytes of chain blobs the pack
// reads keep for the chain pass when CheckOptions.ChainMemory is 0.
const defaultChainMemory = 64 << 20

// maxChainDepth stops the walk of a chain described as longer (only a
// damaged index could); the links below are verified one by one, as a
// load resolves them, which reports the damage.
const maxChainDepth = 64

// blobCheck is one entry of a pack to verify: an index entry, or a header
// entry that no index entry matches.
type blobCheck struct {
	pack pack.ID
	blob pack.Blob
	// indexed: an index entry, which becomes unusable when it fails.
	indexed bool
	// report: a failure is damage of the pack (not of an index entry
	// that differs from the pack's header, which PackHeaderMismatch
	// reports).
	report bool
	// sealed are the blob's bytes kept from the pack read; nil when they
	// did not fit in CheckOptions.ChainMemory and are loaded again.
	sealed []byte
}

// inChain reports whether blob b belongs to a delta chain: a delta blob,
// or a blob that delta blobs build on.
func (c *checker) inChain(b pack.Blob) bool {
	return b.Compression == pack.Delta || len(c.deltaChildren[b.ID]) > 0
}

// setAside keeps the chain checks of one pack, whose bytes are data, for
// the chain pass, with their sealed bytes while they fit in the memory
// the options allow: the whole pack when they are most of it (no copy),
// else a copy of theirs.
func (c *checker) setAside(checks []blobCheck, data []byte) {
	var total int64
	for _, chk := range checks {
		total += int64(len(chk.sealed))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch room := c.opts.ChainMemory - c.chainKept; {
	case 2*total >= int64(len(data)) && int64(len(data)) <= room:
		c.chainKept += int64(len(data))
	case total <= room:
		c.chainKept += total
		kept := make([]byte, 0, total)
		for i := range checks {
			start := len(kept)
			kept = append(kept, checks[i].sealed...)
			checks[i].sealed = kept[start:len(kept):len(kept)]
		}
	default:
		for i := range checks {
			checks[i].sealed = nil
		}
	}
	c.chainChecks = append(c.chainChecks, checks...)
}

// chainGroup is a set of chain blobs connected through bases, walked by
// one worker: its checks by blob ID, and its delta checks by base.
type chainGroup struct {
	byBlob   map[pack.ID][]*blobCheck
	children map[pack.ID][]*blobCheck
	roots    []pack.ID // blobs with a plain entry, in the order first seen
}

// verifyChains verifies the checks set aside by the pack reads, with
// opts.Workers workers, each walking whole groups of chains.
func (c *checker) verifyChains(ctx context.Context) error {
	groups := c.chainGroups()
	c.opts.Progress.ChainBlobsTotal.Store(int64(len(c.chainChecks)))

	g, gctx := errgroup.WithContext(ctx)
	work := make(chan *chainGroup)
	g.Go(func() error {
		defer close(work)
		for _, grp := range groups {
			select {
			case work <- grp:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for range c.opts.Workers {
		g.Go(func() error {
			w := &chainWalker{c: c}
			for grp := range work {
				if err := w.walkGroup(gctx, grp); err != nil {
					return err
				}
			}
			return nil
		})
	}
	err := g.Wait()
	c.chainChecks = nil
	return err
}

// chainGroups partitions the checks set aside into groups of chains that
// share blobs (a union-find over blob and base).
func (c *checker) chainGroups() []*chainGroup {
	parent := map[pack.ID]pack.ID{}
	var find func(id pack.ID) pack.ID
	find = func(id pack.ID) pack.ID {
		p, ok := parent[id]
		if !ok || p == id {
			return id
		}
		root := find(p)
		parent[id] = root
		return root
	}
	for i := range c.chainChecks {
		b := c.chainChecks[i].blob
		if b.Compression != pack.Delta {
			continue
		}
		if a, z := find(b.ID), find(b.Base); a != z {
			parent[a] = z
		}
	}
	byRoot := map[pack.ID]*chainGroup{}
	var groups []*chainGroup
	for i := range c.chainChecks {
		chk := &c.chainChecks[i]
		key := find(chk.blob.ID)
		grp := byRoot[key]
		if grp == nil {
			grp = &chainGroup{byBlob: map[pack.ID][]*blobCheck{}, children: map[pack.ID][]*blobCheck{}}
			byRoot[key] = grp
			groups = append(groups, grp)
		}
		id := chk.blob.ID
		if chk.blob.Compression == pack.Delta {
			grp.children[chk.blob.Base] = append(grp.children[chk.blob.Base], chk)
		} else if !hasPlain(grp.byBlob[id]) {
			grp.roots = append(grp.roots, id)
		}
		grp.byBlob[id] = append(grp.byBlob[id], chk)
	}
	return groups
}

func hasPlain(checks []*blobCheck) bool {
	for _, chk := range checks {
		if chk.blob.Compression != pack.Delta {
			return true
		}
	}
	return false
}

// chainWalker walks groups of chains for one worker, reusing plaintext
// buffers from one link to the next.
type chainWalker struct {
	c    *checker
	free [][]byte

	done    map[*blobCheck]bool
	visited map[pack.ID]bool
}

// buffer returns an empty buffer for the plaintext of b: a free one large
// enough, or a new one. Fresh memory costs a clearing of every page, so
// buffers are reused from link to link.
func (w *chainWalker) buffer(b pack.Blob) []byte {
	need := max(int(b.RawLength), 64<<10)
	for i, buf := range w.free {
		if cap(buf) >= need {
			last := len(w.free) - 1
			w.free[i] = w.free[last]
			w.free = w.free[:last]
			return buf[:0]
		}
	}
	return make([]byte, 0, need)
}

func (w *chainWalker) release(b []byte) {
	if b != nil {
		w.free = append(w.free, b)
	}
}

// walkGroup verifies every check of grp: the plain entries of its roots,
// then each root's chains depth first; what the walk cannot reach (a base
// that no entry verifies, a chain too long, a cycle) one by one.
func (w *chainWalker) walkGroup(ctx context.Context, grp *chainGroup) error {
	w.done = map[*blobCheck]bool{}
	w.visited = map[pack.ID]bool{}
	for _, root := range grp.roots {
		var plain, buf []byte
		for _, chk := range grp.byBlob[root] {
			if chk.blob.Compression == pack.Delta {
				continue
			}
			got, gotBuf, err := w.verify(ctx, chk, nil)
			if err != nil {
				return err
			}
			if got != nil && plain == nil {
				plain, buf = got, gotBuf
			} else {
				w.release(gotBuf)
			}
		}
		if plain == nil || w.visited[root] {
			w.release(buf)
			continue
		}
		w.visited[root] = true
		err := w.descend(ctx, grp, root, plain, 0)
		w.release(buf)
		if err != nil {
			return err
		}
	}
	// Left over: delta entries whose base no entry here verified. Each
	// is verified as a load resolves it, which records its base as
	// unloadable when no copy of it loads.
	for _, checks := range grp.byBlob {
		for _, chk := range checks {
			if w.done[chk] {
				continue
			}
			if err := w.c.verifyAlone(ctx, chk); err != nil {
				return err
			}
			w.done[chk] = true
		}
	}
	return nil
}

// descend verifies the delta entries built on blob id, whose plaintext is
// plain, and the chains below each, depth first.
func (w *chainWalker) descend(ctx context.Context, grp *chainGroup, id pack.ID, plain []byte, depth int) error {
	if depth >= maxChainDepth {
		return nil
	}
	for _, chk := range grp.children[id] {
		got, buf, err := w.verify(ctx, chk, plain)
		if err != nil {
			return err
		}
		child := chk.blob.ID
		if got == nil || w.visited[child] || len(grp.children[child]) == 0 {
			w.release(buf)
			continue
		}
		w.visited[child] = true
		err = w.descend(ctx, grp, child, got, depth+1)
		w.release(buf)
		if err != nil {
			return err
		}
	}
	return nil
}

// verify decodes chk (with base, for a delta entry) and checks it against
// its ID. It returns the plaintext when it verifies, nil when it does not
// (the failure is recorded), and an error only when the check cannot go
// on. The plaintext is in buf, which the caller releases after use (the
// plaintext's own capacity is cut to its length by the decoder).
func (w *chainWalker) verify(ctx context.Context, chk *blobCheck, base []byte) (plain, buf []byte, err error) {
	w.done[chk] = true
	w.c.opts.Progress.ChainBlobsDone.Add(1)
	sealed, err := w.c.sealedBytes(ctx, chk)
	if err != nil || sealed == nil {
		return nil, nil, err // a failure to load is recorded
	}
	buf = w.buffer(chk.blob)
	plain, err = w.c.decodeAndVerify(sealed, chk.blob, base, buf)
	if err != nil {
		w.release(buf)
		w.c.chainFailed(chk, err)
		return nil, nil, nil
	}
	return plain, buf, nil
}

// verifyAlone verifies chk on its own: a delta entry's base is loaded
// through the repository, resolving its chain.
func (c *checker) verifyAlone(ctx context.Context, chk *blobCheck) error {
	c.opts.Progress.ChainBlobsDone.Add(1)
	sealed, err := c.sealedBytes(ctx, chk)
	if err != nil || sealed == nil {
		return err
	}
	if err := c.verifyBlob(ctx, sealed, chk.blob, nil); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.chainFailed(chk, err)
	}
	return nil
}

// sealedBytes returns the sealed bytes of chk: those kept from its pack's
// read, or loaded again. A load that fails for lack of permission stops
// the check (the bytes may be intact); any other failure is recorded as
// damage and nil is returned.
func (c *checker) sealedBytes(ctx context.Context, chk *blobCheck) ([]byte, error) {
	if chk.sealed != nil {
		return chk.sealed, nil
	}
	h := backend.Handle{Type: backend.PackFile, Name: chk.pack.String()}
	sealed, err := c.r.Backend().Load(ctx, h, int64(chk.blob.Offset), int64(chk.blob.Length))
	c.opts.Progress.BytesRead.Add(int64(len(sealed)))
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("reading pack %v: %w", h, err)
	case err != nil:
		c.chainFailed(chk, fmt.Errorf("%s: %w", chk.blob, err))
		return nil, nil
	}
	return sealed, nil
}

// chainFailed records that chk failed verification with err.
func (c *checker) chainFailed(chk *blobCheck, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if chk.indexed {
		c.badLocs[blobInPack{chk.blob.ID, chk.pack}] = struct{}{}
	}
	if !chk.report {
		return
	}
	res := c.packs[chk.pack]
	if res == nil {
		res = &packResult{dataRead: true}
		c.packs[chk.pack] = res
	}
	res.damaged = uniqueIDs(append(res.damaged, chk.blob.ID))
	res.blobErrs = append(res.blobErrs, err)
}
