package repair

import (
	"context"
	"fmt"

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

	// A node with content: which chunks it keeps, by position, and which
	// blobs it loses.
	keep []int
	lost []pack.ID

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
	emptyID  pack.ID      // the empty tree, once a folder is lost
	progress func(string)
}

func newPlanner(r *repo.Repository, blobs *blobChecker, progress func(string)) *planner {
	return &planner{r: r, blobs: blobs, trees: map[pack.ID]*treePlan{},
		sizes: map[pack.ID]uint32{}, needed: map[pack.ID]bool{}, progress: progress}
}

// walk plans the repair of tree id. lost is set when the tree itself
// cannot be loaded; err only when the storage fails or ctx ends.
func (p *planner) walk(ctx context.Context, id pack.ID) (tp *treePlan, lost error, err error) {
	if tp, ok := p.trees[id]; ok {
		return tp, nil, nil
	}
	t, err := p.r.LoadTree(ctx, id)
	switch {
	case ctx.Err() != nil:
		return nil, nil, ctx.Err()
	case err != nil && isDamage(err):
		p.blobs.indexed(id, 0) // notes it when it is not indexed
		return nil, err, nil
	case err != nil:
		return nil, nil, err
	}
	// A tree cannot contain itself (its ID hashes its content), but a
	// damaged repository must not make the walk loop.
	p.trees[id] = intact

	fixes := map[int]*nodeFix{}
	for i := range t.Nodes {
		n := &t.Nodes[i]
		if n.Kind == repo.NodeDir && n.Subtree != nil {
			sub, lostErr, err := p.walk(ctx, *n.Subtree)
			switch {
			case err != nil:
				return nil, nil, err
			case lostErr != nil:
				fixes[i] = &nodeFix{lostTree: true, lostErr: lostErr}
			case sub.changed():
				fixes[i] = &nodeFix{sub: sub}
			}
			continue
		}
		fix, err := p.content(ctx, n)
		if err != nil {
			return nil, nil, err
		}
		if fix != nil {
			fixes[i] = fix
		}
	}
	if len(fixes) == 0 {
		return intact, nil, nil
	}
	tp = &treePlan{tree: t, fixes: fixes}
	p.trees[id] = tp
	return tp, nil, nil
}

// content checks the content blobs of node n, and returns what it loses,
// or nil.
func (p *planner) content(ctx context.Context, n *repo.Node) (*nodeFix, error) {
	if len(n.Content) == 0 {
		return nil, nil
	}
	fix := &nodeFix{}
	lengths := make([]uint32, len(n.Content))
	for i, id := range n.Content {
		ok, length, err := p.blobs.usable(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("checking blob %s of %s: %w", id.Short(), n.Name, err)
		}
		if ok {
			fix.keep = append(fix.keep, i)
			lengths[i] = length
		} else {
			fix.lost = append(fix.lost, id)
		}
	}
	if len(fix.lost) == 0 {
		return nil, nil
	}
	// A table's chunk index records each chunk's length; a file's kept
	// chunks are measured in step 2 unless loading them told already.
	if len(n.Chunks) != len(n.Content) {
		for _, i := range fix.keep {
			id := n.Content[i]
			if lengths[i] > 0 {
				p.sizes[id] = lengths[i]
			} else if _, ok := p.sizes[id]; !ok {
				p.needed[id] = true
			}
		}
	}
	return fix, nil
}
