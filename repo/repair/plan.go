package repair

import (
	"context"
	"fmt"
	"io/fs"
	"strconv"

	"strata/pack"
	"strata/repo"
)

// A repair is planned in three steps, so that nothing is written before
// everything is known (and nothing at all in a dry run):
//
//  1. walk: load every tree of every snapshot, each once, and note which
//     nodes lose blobs (treePlan, nodeFix);
//  2. sizes: find the plaintext lengths of the chunks a damaged file keeps,
//     since its size is their sum;
//  3. finish: build the repaired trees bottom-up and compute their IDs.
//
// Only the trees on the way from a root to a damaged node are kept in
// memory, so memory grows with the damage, not with the repository; every
// tree walked costs one map entry.

// treePlan is the outcome of walking one tree.
type treePlan struct {
	tree  *repo.Tree       // the tree as stored; nil when intact
	fixes map[int]*nodeFix // by node position

	// Set by finish.
	finished bool
	newID    pack.ID
}

// intact stands for every tree that loses nothing.
var intact = &treePlan{}

func (tp *treePlan) changed() bool { return tp != intact }

// nodeFix is what a node loses.
type nodeFix struct {
	// A dir: sub is the plan of its changed subtree, or lostTree is set
	// when the subtree cannot be loaded (lostErr says why).
	sub      *treePlan
	lostTree bool
	lostErr  error

	// A node with content: the blobs it loses, one per lost chunk or
	// page of its chunk list, how many chunks it loses of how many; for a
	// table, the rows, bytes and first keys (quoted, at most maxListed)
	// of the lost chunks. lostAll is set when the root page is lost.
	lost       []pack.ID
	lostChunks int
	lostPages  int
	lostAll    bool
	lostLog    bool // the change log is lost: every row is unknown
	total      int
	table      bool
	lostRows   uint64
	lostBytes  uint64
	lostKeys   []string

	// Set by finish: what the node's Meta "lost" says.
	text string
}

// planner walks the snapshots' trees.
type planner struct {
	r      *repo.Repository
	blobs  *blobChecker
	trees  map[pack.ID]*treePlan
	sizes  map[pack.ID]uint32 // plaintext lengths of kept chunks (step 2)
	needed map[pack.ID]bool   // kept chunks whose length is not known yet

	newTrees []*repo.Tree // repaired trees, children first
	newPages [][]byte     // pages of repaired chunk lists
	newData  [][]byte     // chunks of repaired chunk lists with a change log applied
	emptyID  pack.ID      // the empty tree, once a folder is lost
	progress func(string)
}

func newPlanner(r *repo.Repository, blobs *blobChecker, progress func(string)) *planner {
	return &planner{r: r, blobs: blobs, trees: map[pack.ID]*treePlan{},
		sizes: map[pack.ID]uint32{}, needed: map[pack.ID]bool{}, progress: progress}
}

// walk plans the repair of tree root. lost is set when the root itself
// cannot be loaded; err only when the storage fails or ctx ends.
//
// The stack holds the trees on the way down, each with the fixes found so
// far; a tree met before adds its plan to its parent's node without being
// loaded again.
func (p *planner) walk(ctx context.Context, root pack.ID) (tp *treePlan, lost error, err error) {
	type level struct {
		tree  *repo.Tree
		fixes map[int]*nodeFix
		node  int // position of the node being walked
	}
	// top is a stand-in parent of the root.
	top := &level{fixes: map[int]*nodeFix{}}
	stack := []*level{top}
	// fix records the outcome of the subtree of the node being walked.
	fix := func(sub *treePlan, lostErr error) {
		l := stack[len(stack)-1]
		switch {
		case lostErr != nil:
			l.fixes[l.node] = &nodeFix{lostTree: true, lostErr: lostErr}
		case sub.changed():
			l.fixes[l.node] = &nodeFix{sub: sub}
		}
	}
	var cur *contentCheck // the content node being walked
	rw := repo.Walker{
		Loader: p.r,
		Tree: func(id pack.ID, _ string) error {
			if tp, ok := p.trees[id]; ok {
				fix(tp, nil)
				return fs.SkipDir
			}
			stack = append(stack, &level{fixes: map[int]*nodeFix{}, node: -1})
			return nil
		},
		LoadTree: func(ctx context.Context, id pack.ID) (*repo.Tree, error) {
			t, err := p.r.LoadTree(ctx, id)
			if err == nil {
				stack[len(stack)-1].tree = t
				// A tree cannot contain itself (its ID hashes its
				// content), but a damaged repository must not make the
				// walk loop.
				p.trees[id] = intact
			}
			return t, err
		},
		LoadError: func(id pack.ID, _ string, err error) error {
			if !isDamage(err) {
				return err
			}
			stack = stack[:len(stack)-1]
			p.blobs.indexed(id, 0) // notes it when it is not indexed
			fix(nil, err)
			return nil
		},
		TreeDone: func(id pack.ID, _ string) error {
			l := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			tp := intact
			if len(l.fixes) > 0 {
				tp = &treePlan{tree: l.tree, fixes: l.fixes}
			}
			p.trees[id] = tp
			fix(tp, nil)
			return nil
		},
		Node: func(_ string, n *repo.Node) error {
			stack[len(stack)-1].node++
			cur = &contentCheck{}
			return nil
		},
		Chunk: func(_ string, n *repo.Node, c repo.ChunkRef) error {
			return p.chunk(ctx, n, c, cur)
		},
		// A lost change log, or one that does not fit its base (which
		// no reader can apply), loses every row of the table: the
		// base's rows are not the snapshot's.
		Log: func(np string, n *repo.Node, id pack.ID) error {
			ok, _, err := p.blobs.usable(ctx, id)
			if err == nil && ok {
				ok, err = p.logFits(ctx, np, n)
			}
			if err != nil {
				return fmt.Errorf("checking the change log %s of %s: %w", id.Short(), n.Name, err)
			}
			if !ok {
				f := &cur.fix
				f.lost = append(f.lost, id)
				f.table, f.lostLog, f.lostAll = true, true, true
			}
			return fs.SkipDir
		},
		PageError: func(id pack.ID, _ string, want *repo.PageEntry, err error) error {
			if !isDamage(err) {
				return err
			}
			p.blobs.indexed(id, 0)
			cur.lostPage(id, want)
			return nil
		},
		NodeDone: func(_ string, n *repo.Node) error {
			if n.Kind == repo.NodeDir {
				return nil
			}
			l := stack[len(stack)-1]
			if f := p.content(cur); f != nil {
				l.fixes[l.node] = f
			}
			return nil
		},
	}
	if err := rw.Walk(ctx, root, "/"); err != nil {
		return nil, nil, err
	}
	if f := top.fixes[0]; f != nil && f.lostTree {
		return nil, f.lostErr, nil
	} else if f != nil {
		return f.sub, nil, nil
	}
	return intact, nil, nil
}

// logFits reports whether the change log of table node n, at snapshot
// path p, fits its base (repo.CheckLog); a log whose base has a lost page
// counts as fitting, the page being lost on its own.
func (p *planner) logFits(ctx context.Context, np string, n *repo.Node) (bool, error) {
	_, err := repo.CheckLog(ctx, p.r, np, n)
	if err != nil && isDamage(err) && ctx.Err() == nil {
		return false, nil
	}
	return true, err
}

// contentCheck is what the chunks of one node told so far.
type contentCheck struct {
	total int
	fix   nodeFix
	// kept are the kept blobs of a node without key index, whose
	// lengths the repaired size needs, with the lengths loading told
	// (0 when it did not).
	kept    []pack.ID
	lengths []uint32
}

// lostPage notes a page of the chunk list that cannot be read: the chunks
// below it are lost (want is its entry above, nil for the root page: all
// of them).
func (cc *contentCheck) lostPage(id pack.ID, want *repo.PageEntry) {
	f := &cc.fix
	f.lost = append(f.lost, id)
	f.table = true
	f.lostPages++
	if want == nil {
		f.lostAll = true
		return
	}
	cc.total += int(want.Chunks)
	f.lostChunks += int(want.Chunks)
	f.lostRows += want.Rows
	f.lostBytes += want.Bytes
	if len(f.lostKeys) < maxListed {
		f.lostKeys = append(f.lostKeys, strconv.Quote(want.FirstKey))
	}
}

// chunk checks one content blob of node n.
func (p *planner) chunk(ctx context.Context, n *repo.Node, c repo.ChunkRef, cc *contentCheck) error {
	cc.total++
	ok, length, err := p.blobs.usable(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("checking blob %s of %s: %w", c.ID.Short(), n.Name, err)
	}
	if ok {
		if !c.HasInfo {
			cc.kept = append(cc.kept, c.ID)
			cc.lengths = append(cc.lengths, length)
		}
		return nil
	}
	f := &cc.fix
	f.lost = append(f.lost, c.ID)
	f.lostChunks++
	if c.HasInfo {
		f.table = true
		f.lostRows += c.Info.Rows
		f.lostBytes += c.Info.Bytes
		if len(f.lostKeys) < maxListed {
			f.lostKeys = append(f.lostKeys, strconv.Quote(c.Info.FirstKey))
		}
	}
	return nil
}

// content returns what the node whose chunks cc checked loses, or nil.
func (p *planner) content(cc *contentCheck) *nodeFix {
	if len(cc.fix.lost) == 0 {
		return nil
	}
	fix := cc.fix
	fix.total = cc.total
	// A table's chunk index records each chunk's length; a file's kept
	// chunks are measured in step 2 unless loading them told already.
	for i, id := range cc.kept {
		if cc.lengths[i] > 0 {
			p.sizes[id] = cc.lengths[i]
		} else if _, ok := p.sizes[id]; !ok {
			p.needed[id] = true
		}
	}
	return &fix
}
