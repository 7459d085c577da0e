package copier

import (
	"bytes"
	"context"
	"slices"

	"strata/pack"
	"strata/repo"
)

// This file finds what an earlier copy stored, without reading data: the
// source snapshot a new one is most like (its parent, else the newest
// earlier one of the same source and host) was copied before, so its tree
// and its copy's tree name the same blobs, each in its own repository's
// IDs, in the same places. Walking both at once pairs them, and a new
// snapshot then reads from the source only what its reference did not
// hold (docs/design.md, "Copying between repositories").

// reference returns a source snapshot like sn that the destination holds
// a copy of, and that copy; nil when there is none. Repaired snapshots
// (either side) are never references: repair rewrites a tree and keeps
// its original.
func reference(sn *repo.Snapshot, all []*repo.Snapshot, sources, held map[pack.ID]*repo.Snapshot) (from, to *repo.Snapshot) {
	usable := func(s *repo.Snapshot) (*repo.Snapshot, bool) {
		if s == nil || s.HasTag(repairedTag) {
			return nil, false
		}
		d, ok := held[Origin(s)]
		return d, ok && !d.HasTag(repairedTag)
	}
	if sn.Parent != nil {
		if p := sources[*sn.Parent]; p != nil {
			if d, ok := usable(p); ok {
				return p, d
			}
		}
	}
	for i := len(all) - 1; i >= 0; i-- {
		s := all[i]
		if s.ID == sn.ID || s.Source != sn.Source || s.Host != sn.Host || s.Time.After(sn.Time) {
			continue
		}
		if d, ok := usable(s); ok {
			return s, d
		}
	}
	return nil, nil
}

// repairedTag is the tag repair snapshots gives the snapshots it writes
// (repair.TagRepaired; named here so that this package does not depend
// on repair).
const repairedTag = "repaired"

// pairTree pairs the source tree s with the destination tree d, a copy of
// it, and what is below them. A tree is paired only when, with the pairs
// of its content, subtrees and pages put in, the source tree encodes to
// exactly the destination's bytes; so a pair is never a guess. A tree
// that cannot be read on either side is not paired: the copy reads it
// and fails or goes on as it would without a reference. Only a cancelled
// context is an error.
func (c *copier) pairTree(ctx context.Context, s, d pack.ID) (bool, error) {
	if to, ok := c.trees[s]; ok {
		return to == d, nil
	}
	st, err := c.src.LoadTree(ctx, s)
	if err != nil {
		return false, ctx.Err()
	}
	dt, err := c.dst.LoadTree(ctx, d)
	if err != nil || len(st.Nodes) != len(dt.Nodes) {
		return false, ctx.Err()
	}
	content := map[pack.ID]pack.ID{}
	for i := range st.Nodes {
		sn, dn := &st.Nodes[i], &dt.Nodes[i]
		if sn.Name != dn.Name || sn.Kind != dn.Kind {
			return false, nil
		}
		switch {
		case sn.Subtree != nil && dn.Subtree != nil:
			ok, err := c.pairTree(ctx, *sn.Subtree, *dn.Subtree)
			if !ok || err != nil {
				return false, err
			}
			sn.Subtree = dn.Subtree
		case sn.Pages != nil && dn.Pages != nil:
			if (sn.Log == nil) != (dn.Log == nil) {
				return false, nil
			}
			ok, err := c.pairPages(ctx, sn, dn)
			if !ok || err != nil {
				return false, err
			}
			if sn.Log != nil {
				if !c.pairLog(ctx, *sn.Log, *dn.Log) {
					return false, ctx.Err()
				}
				sn.Log = dn.Log
			}
			sn.Pages = dn.Pages
		default:
			if len(sn.Content) != len(dn.Content) {
				return false, nil
			}
			for j, id := range sn.Content {
				if to, ok := content[id]; ok && to != dn.Content[j] || !c.dst.HasBlob(dn.Content[j]) {
					return false, nil
				}
				content[id] = dn.Content[j]
				sn.Content[j] = dn.Content[j]
			}
		}
	}
	a, err := repo.EncodeTree(st)
	if err != nil {
		return false, nil
	}
	b, err := repo.EncodeTree(dt)
	if err != nil || !bytes.Equal(a, b) {
		return false, nil
	}
	for id, to := range content {
		c.pairBlob(id, to)
	}
	c.trees[s] = d
	return true, nil
}

// pairPages pairs the chunks of table node sn's chunk list with those of
// dn, its copy: as many chunks, each with the same first key, rows and
// bytes, each stored in the destination. The destination's list is held
// in memory meanwhile (some 60 bytes a chunk beside its first key).
func (c *copier) pairPages(ctx context.Context, sn, dn *repo.Node) (bool, error) {
	if to, ok := c.trees[*sn.Pages]; ok {
		return to == *dn.Pages, nil
	}
	// The bases' chunks, as the pages hold them (a change log is paired
	// on its own).
	sb, db := *sn, *dn
	sb.Log, db.Log = nil, nil
	sn, dn = &sb, &db
	var want []repo.ChunkRef
	w := repo.Walker{Loader: c.dst, Chunk: func(_ string, _ *repo.Node, ref repo.ChunkRef) error {
		want = append(want, ref)
		return nil
	}}
	if err := w.WalkContent(ctx, "/", dn); err != nil {
		return false, ctx.Err()
	}
	var got []repo.ChunkRef
	w = repo.Walker{Loader: c.src, Chunk: func(_ string, _ *repo.Node, ref repo.ChunkRef) error {
		got = append(got, ref)
		return nil
	}}
	if err := w.WalkContent(ctx, "/", sn); err != nil {
		return false, ctx.Err()
	}
	if !slices.EqualFunc(got, want, func(a, b repo.ChunkRef) bool { return a.Info == b.Info && c.dst.HasBlob(b.ID) }) {
		return false, nil
	}
	for i := range got {
		c.pairBlob(got[i].ID, want[i].ID)
	}
	c.trees[*sn.Pages] = *dn.Pages
	return true, nil
}

// pairLog reports whether the destination's change log d is the copy of
// the source's s: the same plaintext (a log names no blob, so a copy
// stores its bytes unchanged), which the destination holds.
func (c *copier) pairLog(ctx context.Context, s, d pack.ID) bool {
	if m, ok := c.blobs[s]; ok {
		return m.id == d
	}
	if !c.dst.HasBlob(d) {
		return false
	}
	plain, err := c.src.LoadBlob(ctx, s)
	if err != nil || c.dst.BlobID(plain) != d {
		return false
	}
	c.pairBlob(s, d)
	return true
}

// pairBlob records that the source's data blob id is the destination's
// blob to.
func (c *copier) pairBlob(id, to pack.ID) {
	if _, ok := c.blobs[id]; !ok {
		c.blobs[id] = mapped{id: to, depth: c.dst.DeltaDepth(to)}
	}
}
