package verify

import (
	"context"
	"fmt"
	"path"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

// walker walks the trees of every snapshot, loading each tree blob once
// however many snapshots share it, and notes for each snapshot the blobs
// it cannot restore.
type walker struct {
	c *checker

	// problems holds, for each tree walked, the lost, missing or damaged
	// blobs at or below it (usually none), so that a tree shared by many
	// snapshots is walked once and still counts for each of them.
	problems map[pack.ID][]pack.ID
	// snapshotsOf maps each problem blob to the snapshots that reach it.
	snapshotsOf map[pack.ID][]pack.ID

	// singleCopy are the trees with fewer intact copies than writers
	// keep (repo.TreeCopies), but at least one.
	singleCopy []pack.ID

	damagedSnapshots  []*DamagedSnapshot
	misnamedSnapshots []*MisnamedSnapshot
	damagedTrees      []*DamagedTree
	missingBlobs      []*MissingBlob
	missingSeen       map[pack.ID]bool
}

func newWalker(c *checker) *walker {
	return &walker{
		c:           c,
		problems:    map[pack.ID][]pack.ID{},
		snapshotsOf: map[pack.ID][]pack.ID{},
		missingSeen: map[pack.ID]bool{},
	}
}

// walkSnapshots loads every snapshot, in order of ID, and walks its trees.
func (w *walker) walkSnapshots(ctx context.Context) error {
	ids, err := w.c.r.List(ctx, backend.SnapshotFile)
	if err != nil {
		return err
	}
	sortIDs(ids)
	w.c.report.Snapshots = len(ids)
	walked := map[pack.ID]bool{}
	for _, id := range ids {
		sn, err := w.c.r.LoadSnapshot(ctx, id)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !repo.IsDamage(err) {
			return err // the storage failing to answer (permission denied, I/O) is no damage
		}
		if m, ok := w.misnamedSnapshot(ctx, err); ok {
			w.misnamedSnapshots = append(w.misnamedSnapshots, m.finding)
			sn, err = m.sn, nil
		}
		if err != nil {
			w.damagedSnapshots = append(w.damagedSnapshots, &DamagedSnapshot{Snapshot: id, Err: err})
			continue
		}
		if walked[sn.ID] {
			continue // a copy of a snapshot stored under another name
		}
		walked[sn.ID] = true
		probs, err := w.tree(ctx, sn.Tree, sn.ID, "/")
		if err != nil {
			return err
		}
		for _, p := range probs {
			w.snapshotsOf[p] = append(w.snapshotsOf[p], sn.ID)
		}
	}
	return nil
}

// tree walks the tree blob id, met in snapshot sn at path p, and returns
// the problem blobs at or below it. Only a cancelled ctx is an error.
func (w *walker) tree(ctx context.Context, id, sn pack.ID, p string) ([]pack.ID, error) {
	if probs, ok := w.problems[id]; ok {
		return probs, nil
	}
	self := []pack.ID{id}
	if !w.c.idx.Has(id) {
		w.missing(id, pack.TreeBlob, sn, p)
		w.problems[id] = self
		return self, nil
	}
	plain, err := w.verifyCopies(ctx, id)
	if err != nil {
		return nil, err
	}
	if w.c.loss.lost(id) {
		w.problems[id] = self // a pack finding names it
		return self, nil
	}
	var t *repo.Tree
	if plain != nil {
		if t, err = repo.DecodeTree(plain); err != nil {
			err = fmt.Errorf("tree %s: %w: %v", id, repo.ErrDamaged, err)
		}
	} else {
		t, err = w.c.r.LoadTree(ctx, id)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		w.damagedTrees = append(w.damagedTrees, &DamagedTree{Tree: id, Snapshot: sn, Path: p, Err: err})
		w.problems[id] = self
		return self, nil
	}
	w.c.report.Trees++
	// A tree cannot contain itself (its ID hashes its content), but a
	// damaged repository must not make the walk loop.
	w.problems[id] = nil

	var probs []pack.ID
	for _, n := range t.Nodes {
		np := path.Join(p, n.Name)
		for _, b := range n.Content {
			if !w.c.idx.Has(b) {
				w.missing(b, pack.DataBlob, sn, np)
				probs = append(probs, b)
			} else if w.c.loss.lost(b) {
				probs = append(probs, b)
			}
		}
		if n.Kind == repo.NodeDir && n.Subtree != nil {
			sub, err := w.tree(ctx, *n.Subtree, sn, np)
			if err != nil {
				return nil, err
			}
			probs = append(probs, sub...)
		}
	}
	if len(probs) > 0 {
		probs = uniqueIDs(probs)
	}
	w.problems[id] = probs
	return probs, nil
}

// missing records a blob that a tree or snapshot references but the index
// does not hold, once per blob.
func (w *walker) missing(id pack.ID, t pack.BlobType, sn pack.ID, p string) {
	if w.missingSeen[id] {
		return
	}
	w.missingSeen[id] = true
	w.missingBlobs = append(w.missingBlobs, &MissingBlob{Blob: id, Type: t, Snapshot: sn, Path: p})
}

// verifyCopies loads every copy of tree blob id that the pack checks left
// usable, each from its own pack (docs/design.md, "Tree copies"), and
// returns the plaintext of the first that verifies: a copy that fails is
// damaged in its pack, which is reported, even when another copy serves
// every reader. A tree left with fewer copies than writers keep is noted.
// Only a cancelled ctx is an error.
func (w *walker) verifyCopies(ctx context.Context, id pack.ID) ([]byte, error) {
	c := w.c
	good := 0
	var first []byte
	for _, loc := range c.idx.LookupAll(id) {
		c.mu.Lock()
		_, bad := c.badLocs[blobInPack{id, loc.Pack}]
		c.mu.Unlock()
		if bad {
			continue
		}
		plain, err := c.r.LoadBlobCopy(ctx, id, loc)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			c.damagedCopy(id, loc.Pack, err)
			continue
		}
		if first == nil {
			first = plain
		}
		good++
	}
	if good > 0 && good < repo.TreeCopies {
		w.singleCopy = append(w.singleCopy, id)
	}
	return first, nil
}

// markProtected sets Protected on the damaged snapshots that an active
// protection names (by the snapshot's ID, which is its file name), so the
// advice can say to release them first. Damaged protect files are
// reported by checkMetaFiles, not here.
func (w *walker) markProtected(ctx context.Context) {
	prots, _ := w.c.r.Protections(ctx)
	now := w.c.r.Now()
	for _, p := range prots {
		if p.Active(now) {
			w.c.report.Protected = append(w.c.report.Protected, p.Snapshot)
		}
	}
	for _, f := range w.damagedSnapshots {
		for _, p := range prots {
			if p.Snapshot == f.Snapshot && p.Active(now) {
				f.Protected = true
			}
		}
	}
}
