package prune

import (
	"context"
	"fmt"
	"io/fs"

	"strata/index"
	"strata/pack"
	"strata/repo"
)

// marker collects the used blobs: direct holds what snapshots reference
// (trees and content), used adds the delta bases those are stored
// against, along whole chains.
type marker struct {
	r      *repo.Repository
	idx    *index.Index
	direct *index.Marks
	used   *index.Marks
}

func newMarker(r *repo.Repository) *marker {
	idx := r.Index()
	return &marker{r: r, idx: idx, direct: idx.NewMarks(), used: idx.NewMarks()}
}

// missing is the error for a snapshot that needs a blob the index lacks;
// prune must not guess what is still needed, so it stops before changing
// anything.
func missing(sn *repo.Snapshot, what string, id pack.ID) error {
	return fmt.Errorf("prune: snapshot %s needs %s %s, which is not in the index: %w; nothing was changed. "+
		"Run `strata check` to see the damage, then `strata repair index` (if a pack still holds it) or `strata repair snapshots --forget`",
		sn.ID.Short(), what, id, repo.ErrBlobNotFound)
}

// snapshot marks everything snapshot sn needs. A tree blob met before had
// everything below it marked then, so it is not loaded again: consecutive
// snapshots share most trees, so most are met once.
func (m *marker) snapshot(ctx context.Context, sn *repo.Snapshot) error {
	w := repo.Walker{
		Loader: m.r,
		Tree: func(id pack.ID, _ string) error {
			added, err := m.use(sn, "tree", id)
			if err == nil && !added {
				return fs.SkipDir
			}
			return err
		},
		// A page met before had the chunks below it marked then.
		Page: func(id pack.ID, _ string) error {
			added, err := m.use(sn, "page", id)
			if err == nil && !added {
				return fs.SkipDir
			}
			return err
		},
		LoadError: func(_ pack.ID, _ string, err error) error {
			return fmt.Errorf("prune: snapshot %s: %w; nothing was changed", sn.ID.Short(), err)
		},
		Chunk: func(_ string, _ *repo.Node, c repo.ChunkRef) error {
			_, err := m.use(sn, "blob", c.ID)
			return err
		},
		// A change log is a data blob the node references, kept with
		// its delta bases like a chunk; its ops are not needed here.
		Log: func(_ string, _ *repo.Node, id pack.ID) error {
			if _, err := m.use(sn, "change log", id); err != nil {
				return err
			}
			return fs.SkipDir
		},
	}
	if err := w.Walk(ctx, sn.Tree, "/"); err != nil {
		return err
	}
	return ctx.Err()
}

// use marks id as referenced, with its bases, and reports whether it was
// new.
func (m *marker) use(sn *repo.Snapshot, what string, id pack.ID) (bool, error) {
	added, known := m.direct.Mark(id)
	if !known {
		return false, missing(sn, what, id)
	}
	if !added {
		return false, nil
	}
	m.used.Mark(id)
	return true, m.bases(sn, id)
}

// bases marks the bases of every copy of id: a copy that stays in a kept
// pack must stay loadable, whichever copy readers pick.
func (m *marker) bases(sn *repo.Snapshot, id pack.ID) error {
	for _, loc := range m.idx.LookupAll(id) {
		if loc.Compression != pack.Delta {
			continue
		}
		added, known := m.used.Mark(loc.Base)
		if !known {
			return missing(sn, fmt.Sprintf("the delta base of blob %s,", id.Short()), loc.Base)
		}
		if added {
			if err := m.bases(sn, loc.Base); err != nil {
				return err
			}
		}
	}
	return nil
}

// MarkUsed returns the blobs the snapshots sns need: the blobs they
// reference (trees, pages and content) and the delta bases those are
// stored against, along whole chains, as prune marks them. The index
// must be loaded. Package objectlock uses it to find the packs a kept
// snapshot needs.
func MarkUsed(ctx context.Context, r *repo.Repository, sns []*repo.Snapshot) (*index.Marks, error) {
	m := newMarker(r)
	for _, sn := range sns {
		if err := m.snapshot(ctx, sn); err != nil {
			return nil, err
		}
	}
	return m.used, nil
}
