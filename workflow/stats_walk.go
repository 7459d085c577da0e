package workflow

import (
	"context"
	"fmt"
	"io/fs"

	"strata/index"
	"strata/internal/progress"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

// This file holds what the modes of `stats` share: the walk that finds
// the blobs each snapshot needs (its trees, their content blobs and the
// whole delta chain of each), their sizes, and the sizes of the
// repository's files.

// StatsRepository is what stats needs of a repository. *repo.Repository
// implements it.
type StatsRepository interface {
	repo.TreeLoader
	Index() *index.Index
	EachIndexedBlob(ctx context.Context, fn func(packID pack.ID, b pack.Blob) error) error
	Backend() backend.Storage
}

// maxGroups is how many groups of snapshots (tiers, say) one neededBlobs
// tells apart: the bits of its masks.
const maxGroups = 64

// MaxTiers is how many tiers Stats tells apart with ByTier.
const MaxTiers = maxGroups

// neededBlobs records, for every blob some snapshot needs, a mask of the
// groups of snapshots that need it: one bit per group. Memory is one map
// entry per needed blob and one per tree, whatever the number of
// snapshots or groups.
//
// A tree that already carries a group's bit had everything below it marked
// for that group, so it is not walked again for the group: the snapshots
// of consecutive hours, which share most subtrees, cost little more than
// one. A tree is walked at most once per group.
type neededBlobs struct {
	repo   StatsRepository
	groups map[pack.ID]uint64    // blob -> groups that need it
	trees  map[pack.ID]treeTotal // walked tree -> what lies below it
	// content, when not nil, collects the blobs that nodes name as their
	// content (not trees, not delta bases only): plain stats counts their
	// plaintext once as the unique data.
	content map[pack.ID]struct{}
	// patched: the bytes a restore writes of each chunk a change log
	// patches, by chunk and log (unique content that is no blob).
	patched map[[2]pack.ID]uint64
}

// treeTotal is what lies below a walked tree.
type treeTotal struct {
	groups   uint64 // the groups the tree was walked for
	files    uint64 // files, streams and tables; a path is a file
	rawBytes uint64 // their sizes: what a restore writes
}

func newNeededBlobs(r StatsRepository) *neededBlobs {
	return &neededBlobs{repo: r, groups: map[pack.ID]uint64{}, trees: map[pack.ID]treeTotal{}}
}

// addSnapshot marks every blob sn needs as needed by group (0 to
// maxGroups-1) and returns the number of files in sn and their raw bytes.
// added, if not nil, is called once for each blob the group did not need
// before, with its stored bytes (0 when the index lacks the blob).
func (nb *neededBlobs) addSnapshot(ctx context.Context, sn *repo.Snapshot, group int, added func(stored uint64)) (files, rawBytes uint64, err error) {
	if group < 0 || group >= maxGroups {
		return 0, 0, fmt.Errorf("stats: group %d out of range", group)
	}
	w := groupWalk{nb: nb, bit: 1 << group, added: added}
	tt, err := w.tree(ctx, sn.Tree, "/")
	if err != nil {
		return 0, 0, fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
	}
	return tt.files, tt.rawBytes, nil
}

// groupWalk is the walk of one snapshot for one group.
type groupWalk struct {
	nb    *neededBlobs
	bit   uint64
	added func(stored uint64)
}

// tree marks the tree id, whose snapshot path is dir, and everything below
// it, and returns what lies below it. The stack holds the totals of the
// trees on the way down; a tree walked before for the group adds its
// recorded totals to its parent's without being loaded.
func (w *groupWalk) tree(ctx context.Context, root pack.ID, dir string) (treeTotal, error) {
	stack := []*treeTotal{{}}
	add := func(tt treeTotal) {
		top := stack[len(stack)-1]
		top.files += tt.files
		top.rawBytes += tt.rawBytes
	}
	rw := repo.Walker{
		Loader: w.nb.repo,
		Tree: func(id pack.ID, _ string) error {
			w.need(id)
			if tt, ok := w.nb.trees[id]; ok && tt.groups&w.bit != 0 {
				add(tt)
				return fs.SkipDir
			}
			stack = append(stack, &treeTotal{})
			return nil
		},
		TreeDone: func(id pack.ID, _ string) error {
			tt := *stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			tt.groups = w.nb.trees[id].groups | w.bit
			w.nb.trees[id] = tt
			add(tt)
			return nil
		},
		// A page that carries the group's bit had the chunks below it
		// marked for the group.
		Page: func(id pack.ID, _ string) error {
			if w.nb.groups[id]&w.bit != 0 {
				return fs.SkipDir
			}
			w.need(id)
			return nil
		},
		Node: func(_ string, n *repo.Node) error {
			switch n.Kind {
			case repo.NodeDir, repo.NodeSymlink:
			default:
				add(treeTotal{files: 1, rawBytes: n.Size})
			}
			return nil
		},
		// A change log (docs/design.md, "Table change logs") is stored
		// data the node needs, not content: what a restore writes of a
		// chunk it patches is not that chunk's blob either, so only
		// unpatched chunks count as content.
		Log: func(_ string, _ *repo.Node, id pack.ID) error {
			w.need(id)
			return nil
		},
		Chunk: func(_ string, n *repo.Node, c repo.ChunkRef) error {
			w.need(c.ID)
			if w.nb.patched != nil && len(c.Patch) > 0 && n.Log != nil {
				w.nb.patched[[2]pack.ID{c.ID, *n.Log}] = c.Info.Bytes
			}
			if w.nb.content != nil && len(c.Patch) == 0 {
				w.nb.content[c.ID] = struct{}{}
			}
			return nil
		},
	}
	if err := rw.Walk(ctx, root, dir); err != nil {
		return treeTotal{}, err
	}
	return *stack[0], nil
}

// need marks the blob id and, when it is a delta, its chain of bases.
// A blob that already carries the bit has its chain marked too.
func (w *groupWalk) need(id pack.ID) {
	for {
		if w.nb.groups[id]&w.bit != 0 {
			return
		}
		w.nb.groups[id] |= w.bit
		loc, ok := w.nb.repo.Index().Lookup(id)
		if w.added != nil {
			var stored uint64
			if ok {
				stored = uint64(loc.Length) * keptCopies(w.nb.repo.Index(), id, loc)
			}
			w.added(stored)
		}
		if !ok || loc.Compression != pack.Delta {
			return
		}
		id = loc.Base
	}
}

// keptCopies is how many copies of blob id, found at loc, a snapshot
// needs: a tree's copies (docs/design.md, "Tree copies") as far as the
// index holds them, one of a data blob.
func keptCopies(idx *index.Index, id pack.ID, loc index.Location) uint64 {
	return uint64(min(repo.Copies(loc.Type), len(idx.LookupAll(id))))
}

// blobSizes sums the needed blobs.
type blobSizes struct {
	// missing counts needed blobs the index does not hold; they are not
	// in the sums.
	missing int
	// indexedBytes is the stored bytes of every entry of the index files,
	// needed or not, a blob held by two packs twice.
	indexedBytes uint64
}

// eachSize calls fn once for each needed blob the index holds, with its
// ID, the groups that need it, its stored bytes (sealed, compressed or delta, in
// the pack a restore reads it from) and its plaintext bytes. It consumes
// nb: marks are removed as they are counted.
func (nb *neededBlobs) eachSize(ctx context.Context, fn func(id pack.ID, groups, stored, raw uint64)) (blobSizes, error) {
	var s blobSizes
	idx := nb.repo.Index()
	err := nb.repo.EachIndexedBlob(ctx, func(_ pack.ID, b pack.Blob) error {
		s.indexedBytes += uint64(b.Length)
		groups, ok := nb.groups[b.ID]
		if !ok {
			return nil
		}
		delete(nb.groups, b.ID)
		// The pack Lookup picks, not this entry's: a blob held twice
		// counts as restore and addSnapshot see it.
		stored := uint64(b.Length)
		if loc, ok := idx.Lookup(b.ID); ok {
			stored = uint64(loc.Length) * keptCopies(idx, b.ID, loc)
		}
		fn(b.ID, groups, stored, uint64(b.RawLength))
		return nil
	})
	if err != nil {
		return s, err
	}
	s.missing = len(nb.groups)
	return s, nil
}

// repositoryBytes is what the repository's files hold, locks aside.
type repositoryBytes struct {
	packs    uint64 // pack files
	metadata uint64 // config, index, snapshot, key, journal and audit files
}

func (rb repositoryBytes) total() uint64 { return rb.packs + rb.metadata }

func measureRepository(ctx context.Context, be backend.Storage) (repositoryBytes, error) {
	var rb repositoryBytes
	if fi, err := be.Stat(ctx, backend.Handle{Type: backend.ConfigFile}); err == nil {
		rb.metadata += uint64(fi.Size)
	}
	for _, t := range []backend.FileType{backend.PackFile, backend.IndexFile, backend.SnapshotFile, backend.KeyFile, backend.JournalFile, backend.AuditFile} {
		sum := &rb.metadata
		if t == backend.PackFile {
			sum = &rb.packs
		}
		err := be.List(ctx, t, func(fi backend.FileInfo) error {
			*sum += uint64(fi.Size)
			return nil
		})
		if err != nil {
			return rb, fmt.Errorf("listing the %s files: %w", t, err)
		}
	}
	return rb, nil
}

// missingNotice is the warning for needed blobs the index lacks.
func missingNotice(n int) string {
	return fmt.Sprintf("%s the snapshots need %s not in the index; not counted (run `strata check`)", progress.Counted(n, "blob"), map[bool]string{true: "is", false: "are"}[n == 1])
}
