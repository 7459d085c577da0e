package verify

import (
	"context"
	"fmt"
	"io/fs"

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
	stamps            []snapshotStamp // every snapshot that loaded
	damagedTrees      []*DamagedTree
	damagedLogs       []*DamagedLog
	missingBlobs      []*MissingBlob
	missingSeen       map[pack.ID]bool

	// logsChecked holds, by change log and base pages, whether the log
	// does not fit its base.
	logsChecked map[[2]pack.ID]bool
}

func newWalker(c *checker) *walker {
	return &walker{
		c:           c,
		problems:    map[pack.ID][]pack.ID{},
		snapshotsOf: map[pack.ID][]pack.ID{},
		missingSeen: map[pack.ID]bool{},
		logsChecked: map[[2]pack.ID]bool{},
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
		w.stamps = append(w.stamps, snapshotStamp{file: id, id: sn.ID, time: sn.Time})
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
//
// Each tree blob walked keeps the problems at or below it: the stack holds
// those of the trees on the way down, and a tree met again adds its kept
// problems to its parent's without being loaded.
func (w *walker) tree(ctx context.Context, root, sn pack.ID, p string) ([]pack.ID, error) {
	type level struct {
		id    pack.ID
		probs []pack.ID
	}
	stack := []*level{{}}
	add := func(probs ...pack.ID) {
		top := stack[len(stack)-1]
		top.probs = append(top.probs, probs...)
	}
	// plain is the verified plaintext of the tree blob being loaded.
	var plain []byte
	// enter is the Tree and Page hook: tree blobs and pages are checked
	// alike (both are blobs of type tree, in two copies).
	enter := func(id pack.ID, dir string) error {
		if probs, ok := w.problems[id]; ok {
			add(probs...)
			return fs.SkipDir
		}
		self := []pack.ID{id}
		if !w.c.idx.Has(id) {
			w.missing(id, pack.TreeBlob, sn, dir)
			w.problems[id] = self
			add(self...)
			return fs.SkipDir
		}
		var err error
		if plain, err = w.verifyCopies(ctx, id); err != nil {
			return err
		}
		if w.c.loss.lost(id) {
			w.problems[id] = self // a pack finding names it
			add(self...)
			return fs.SkipDir
		}
		// A tree cannot contain itself (its ID hashes its content),
		// but a damaged repository must not make the walk loop.
		w.problems[id] = nil
		stack = append(stack, &level{id: id})
		return nil
	}
	done := func(id pack.ID, _ string) error {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if len(top.probs) > 0 {
			top.probs = uniqueIDs(top.probs)
		}
		w.problems[id] = top.probs
		add(top.probs...)
		return nil
	}
	rw := repo.Walker{
		Loader: w.c.r,
		Tree:   enter,
		Page:   enter,
		LoadPage: func(ctx context.Context, id pack.ID) ([]byte, error) {
			if plain == nil {
				return w.c.r.LoadBlob(ctx, id)
			}
			return plain, nil
		},
		PageDone: func(id pack.ID, p string) error {
			w.c.report.Pages++
			return done(id, p)
		},
		LoadTree: func(ctx context.Context, id pack.ID) (*repo.Tree, error) {
			if plain == nil {
				return w.c.r.LoadTree(ctx, id)
			}
			t, err := repo.DecodeTree(plain)
			if err != nil {
				return nil, fmt.Errorf("tree %s: %w: %v", id, repo.ErrDamaged, err)
			}
			return t, nil
		},
		LoadError: func(id pack.ID, dir string, err error) error {
			stack = stack[:len(stack)-1]
			w.damagedTrees = append(w.damagedTrees, &DamagedTree{Tree: id, Snapshot: sn, Path: dir, Err: err})
			self := []pack.ID{id}
			w.problems[id] = self
			add(self...)
			return nil
		},
		TreeDone: func(id pack.ID, p string) error {
			w.c.report.Trees++
			return done(id, p)
		},
		// A change log is a data blob the node references, checked as
		// its chunks are (--read-data verifies its bytes with its pack),
		// and then against its base, as readers apply it.
		Log: func(np string, n *repo.Node, id pack.ID) error {
			switch {
			case !w.c.idx.Has(id):
				w.missing(id, pack.DataBlob, sn, np)
				add(id)
			case w.c.loss.lost(id):
				add(id)
			default:
				bad, err := w.checkLog(ctx, sn, np, n)
				if err != nil {
					return err
				}
				if bad {
					add(id)
				}
			}
			return fs.SkipDir
		},
		Chunk: func(np string, _ *repo.Node, c repo.ChunkRef) error {
			if !w.c.idx.Has(c.ID) {
				w.missing(c.ID, pack.DataBlob, sn, np)
				add(c.ID)
			} else if w.c.loss.lost(c.ID) {
				add(c.ID)
			}
			return nil
		},
	}
	if err := rw.Walk(ctx, root, p); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return uniqueIDs(stack[0].probs), nil
}

// checkLog checks the change log of table node n, met in snapshot sn at
// path p, against its base (repo.CheckLog), once per log and base however
// many snapshots share them, and reports whether it does not fit. Only a
// cancelled ctx or a failing storage is an error.
func (w *walker) checkLog(ctx context.Context, sn pack.ID, p string, n *repo.Node) (bool, error) {
	key := [2]pack.ID{*n.Log, *n.Pages}
	if bad, ok := w.logsChecked[key]; ok {
		return bad, nil
	}
	_, err := repo.CheckLog(ctx, w.c.r, p, n)
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil && !repo.IsDamage(err) {
		return false, err
	}
	bad := err != nil
	w.logsChecked[key] = bad
	if bad {
		w.damagedLogs = append(w.damagedLogs, &DamagedLog{Log: *n.Log, Snapshot: sn, Path: p, Err: err})
	}
	return bad, nil
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
