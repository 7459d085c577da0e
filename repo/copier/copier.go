package copier

import (
	"context"
	"errors"
	"fmt"
	"path"

	"strata/pack"
	"strata/repo"
)

// Source is what a copy reads: snapshots, trees and verified blobs, and
// which blobs are stored as deltas against which base.
type Source interface {
	repo.TreeLoader
	Config() repo.Config
	// DeltaBase returns the base of a delta blob, false for other blobs.
	DeltaBase(id pack.ID) (pack.ID, bool)
}

// Destination is what a copy writes: blobs (packs), then the index
// (Flush), then snapshots.
type Destination interface {
	repo.TreeLoader
	Config() repo.Config
	HasBlob(id pack.ID) bool
	Snapshots(ctx context.Context) ([]*repo.Snapshot, error)
	SaveBlob(ctx context.Context, t pack.BlobType, plain []byte, base pack.ID) (repo.SaveResult, error)
	SaveDataBlobOn(ctx context.Context, plain []byte, base pack.ID, basePlain []byte) (repo.SaveResult, error)
	DeltaDepth(id pack.ID) int
	// BlobID is the ID a blob of plaintext plain has here (a change log
	// copied earlier is recognised by it).
	BlobID(plain []byte) pack.ID
	Flush(ctx context.Context) error
	SaveSnapshot(ctx context.Context, sn *repo.Snapshot) error
}

// Options say what to copy.
type Options struct {
	// Snapshots are the source snapshots to copy, in the order to copy
	// them (oldest first, so that each copy's parent is copied before it).
	Snapshots []*repo.Snapshot
	// All are every snapshot of the source, to find the parents of those
	// copied; nil leaves the copies without a parent.
	All []*repo.Snapshot
	// Done, when set, is told about each snapshot as it is copied or
	// skipped.
	Done func(SnapshotCopy)
	// Step, when set, is told the steps of the copy (for -v): which
	// reference each snapshot was paired with, and what that found.
	Step func(msg string)
}

// Counts are what a copy read and stored.
type Counts struct {
	DataBlobs  int    `json:"data_blobs"`  // data blobs stored
	DeltaBlobs int    `json:"delta_blobs"` // of those, stored as delta blobs
	TreeBlobs  int    `json:"tree_blobs"`  // tree blobs stored (trees and table pages), each in two copies
	Present    int    `json:"blobs_present"`
	BytesAdded uint64 `json:"bytes_added"`     // sealed bytes added to packs, tree copies counted twice
	DataRead   int    `json:"data_blobs_read"` // data blobs read from the source (not paired through an earlier copy)
	BytesRead  uint64 `json:"bytes_read"`      // their plaintext bytes
}

func (c *Counts) add(o Counts) {
	c.DataBlobs += o.DataBlobs
	c.DeltaBlobs += o.DeltaBlobs
	c.TreeBlobs += o.TreeBlobs
	c.Present += o.Present
	c.BytesAdded += o.BytesAdded
	c.DataRead += o.DataRead
	c.BytesRead += o.BytesRead
}

// SnapshotCopy is what happened to one source snapshot.
type SnapshotCopy struct {
	Source *repo.Snapshot
	// Copy is the destination's snapshot: written now, or, when Skipped,
	// the one that was already there.
	Copy    *repo.Snapshot
	Skipped bool
	Counts  Counts
}

// Report is what Copy did.
type Report struct {
	Snapshots []SnapshotCopy
	Counts    Counts
	// SameChunker is true when both repositories cut chunks with the same
	// parameters, so that backups into either deduplicate against
	// copies from the other.
	SameChunker bool
}

// Copied is the number of snapshots written.
func (rep *Report) Copied() int {
	n := 0
	for _, s := range rep.Snapshots {
		if !s.Skipped {
			n++
		}
	}
	return n
}

// Origin is the ID that names a snapshot across copies and retaggings: its
// original when it has one, else its own ID.
func Origin(sn *repo.Snapshot) pack.ID {
	if sn.Original != nil {
		return *sn.Original
	}
	return sn.ID
}

// SameChunker reports whether two configs cut the same chunks.
func SameChunker(a, b repo.Config) bool {
	return a.ChunkParams() == b.ChunkParams() && a.TableChunkParams() == b.TableChunkParams()
}

// Copy copies opts.Snapshots from src to dst (docs/design.md, "Copying
// between repositories"). The caller holds a shared lock on src and the
// lock a backup takes on dst, and has loaded both indexes under them.
// Each snapshot is written after its blobs are stored and indexed; a
// snapshot that fails (a damaged source blob, say) is not written, and
// the error names it and stops the copy. Snapshots copied before it stay.
func Copy(ctx context.Context, src Source, dst Destination, opts Options) (*Report, error) {
	if src.Config().ID == dst.Config().ID {
		return nil, errors.New("the source and the destination are the same repository")
	}
	rep := &Report{SameChunker: SameChunker(src.Config(), dst.Config())}
	existing, err := dst.Snapshots(ctx)
	if err != nil {
		return rep, fmt.Errorf("listing the destination's snapshots: %w", err)
	}
	// A destination snapshot holds an origin when it is its own (a
	// snapshot copied back to the repository it came from) or its
	// original (a copy, or a retagged copy).
	held := map[pack.ID]*repo.Snapshot{}
	for _, sn := range existing {
		held[sn.ID] = sn
		if sn.Original != nil {
			held[*sn.Original] = sn
		}
	}
	sources := map[pack.ID]*repo.Snapshot{}
	for _, sn := range opts.All {
		sources[sn.ID] = sn
	}
	c := &copier{src: src, dst: dst, maxDepth: dst.Config().MaxDeltaDepth,
		blobs: map[pack.ID]mapped{}, trees: map[pack.ID]pack.ID{}}
	paired := map[pack.ID]bool{}
	for _, sn := range opts.Snapshots {
		sc := SnapshotCopy{Source: sn}
		if have, ok := held[Origin(sn)]; ok {
			sc.Copy, sc.Skipped = have, true
		} else {
			if from, to := reference(sn, opts.All, sources, held); from != nil && !paired[from.ID] {
				paired[from.ID] = true
				trees, blobs := len(c.trees), len(c.blobs)
				ok, err := c.pairTree(ctx, from.Tree, to.Tree)
				if err != nil {
					return rep, err
				}
				if opts.Step != nil {
					opts.Step(fmt.Sprintf("snapshot %s: its reference %s, copied as %s, paired %d trees and pages and %d data blobs (root tree paired: %v)",
						sn.ID.Short(), from.ID.Short(), to.ID.Short(), len(c.trees)-trees, len(c.blobs)-blobs, ok))
				}
			}
			c.counts = Counts{}
			cp, err := c.snapshot(ctx, sn, held, sources)
			sc.Counts = c.counts
			rep.Counts.add(c.counts)
			if err != nil {
				return rep, fmt.Errorf("snapshot %s: %w (not copied)", sn.ID.Short(), err)
			}
			sc.Copy = cp
			held[Origin(sn)] = cp
		}
		rep.Snapshots = append(rep.Snapshots, sc)
		if opts.Done != nil {
			opts.Done(sc)
		}
	}
	return rep, nil
}

// copier copies the blobs of snapshots, keeping what it met: the
// destination ID of every source blob it copied or found, and of every
// tree and page root, so that what several snapshots share is read once.
type copier struct {
	src      Source
	dst      Destination
	maxDepth int
	blobs    map[pack.ID]mapped  // data blobs: source ID -> destination
	trees    map[pack.ID]pack.ID // tree blobs and page roots
	counts   Counts              // of the snapshot being copied
}

// mapped is a data blob's ID in the destination, and the length of its
// chain of delta blobs there.
type mapped struct {
	id    pack.ID
	depth int
}

// snapshot copies the blobs of sn, then writes its copy: packs, then
// index (Flush), then the snapshot.
func (c *copier) snapshot(ctx context.Context, sn *repo.Snapshot, held, sources map[pack.ID]*repo.Snapshot) (*repo.Snapshot, error) {
	root, err := c.tree(ctx, sn.Tree, "/")
	if err != nil {
		return nil, err
	}
	if err := c.dst.Flush(ctx); err != nil {
		return nil, fmt.Errorf("storing its blobs in the destination: %w", err)
	}
	cp := *sn
	cp.ID = pack.ID{}
	cp.Tree = root
	origin := Origin(sn)
	cp.Original = &origin
	cp.Parent = nil
	if sn.Parent != nil {
		if p, ok := sources[*sn.Parent]; ok {
			if pc, ok := held[Origin(p)]; ok {
				id := pc.ID
				cp.Parent = &id
			}
		}
	}
	if err := c.dst.SaveSnapshot(ctx, &cp); err != nil {
		return nil, err
	}
	return &cp, nil
}

// tree copies the tree blob id, of snapshot folder dir, and everything
// below it, and returns its ID in the destination.
func (c *copier) tree(ctx context.Context, id pack.ID, dir string) (pack.ID, error) {
	if to, ok := c.trees[id]; ok {
		return to, nil
	}
	t, err := c.src.LoadTree(ctx, id)
	if err != nil {
		return pack.ID{}, fmt.Errorf("%s: %w", dir, err)
	}
	for i := range t.Nodes {
		n := &t.Nodes[i]
		p := path.Join(dir, n.Name)
		switch {
		case n.Subtree != nil:
			sub, err := c.tree(ctx, *n.Subtree, p)
			if err != nil {
				return pack.ID{}, err
			}
			n.Subtree = &sub
		case n.Pages != nil:
			pages, err := c.pages(ctx, p, n)
			if err != nil {
				return pack.ID{}, err
			}
			n.Pages = pages
			if n.Log != nil {
				// The change log's bytes name no blob: it copies as it
				// is, with its delta bases (the earlier logs) first.
				m, err := c.data(ctx, *n.Log, 0)
				if err != nil {
					return pack.ID{}, fmt.Errorf("%s: change log: %w", p, err)
				}
				n.Log = &m.id
			}
		default:
			for j, b := range n.Content {
				m, err := c.data(ctx, b, 0)
				if err != nil {
					return pack.ID{}, fmt.Errorf("%s: %w", p, err)
				}
				n.Content[j] = m.id
			}
		}
	}
	b, err := repo.EncodeTree(t)
	if err != nil {
		return pack.ID{}, fmt.Errorf("%s: %w", dir, err)
	}
	to, err := c.saveTree(ctx, b)
	if err != nil {
		return pack.ID{}, fmt.Errorf("%s: %w", dir, err)
	}
	c.trees[id] = to
	return to, nil
}

// pages copies the chunk list of table node n and writes its pages anew:
// page boundaries follow the chunks' IDs, which differ in the
// destination, so the destination gets the pages its own backup of the
// same chunks would have written.
func (c *copier) pages(ctx context.Context, p string, n *repo.Node) (*pack.ID, error) {
	if to, ok := c.trees[*n.Pages]; ok {
		return &to, nil
	}
	pw := repo.NewPageWriter(c.saveTree)
	base := *n // the base's chunks, as the pages hold them
	base.Log = nil
	n = &base
	w := repo.Walker{Loader: c.src, Chunk: func(p string, _ *repo.Node, ref repo.ChunkRef) error {
		m, err := c.data(ctx, ref.ID, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		return pw.Add(ctx, m.id, ref.Info)
	}}
	if err := w.WalkContent(ctx, p, n); err != nil {
		return nil, err
	}
	root, err := pw.Finish(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: writing the chunk list: %w", p, err)
	}
	if root != nil {
		c.trees[*n.Pages] = *root
	}
	return root, nil
}

// saveTree stores a tree blob (a tree or a page) in the destination.
func (c *copier) saveTree(ctx context.Context, b []byte) (pack.ID, error) {
	res, err := c.dst.SaveBlob(ctx, pack.TreeBlob, b, pack.ID{})
	if err != nil {
		return res.ID, err
	}
	c.stored(res, pack.TreeBlob)
	return res.ID, nil
}

func (c *copier) stored(res repo.SaveResult, t pack.BlobType) {
	switch {
	case res.Stored == 0:
		c.counts.Present++
	case t == pack.TreeBlob:
		c.counts.TreeBlobs++
		c.counts.BytesAdded += uint64(res.Stored) * uint64(repo.TreeCopies)
	default:
		c.counts.DataBlobs++
		c.counts.BytesAdded += uint64(res.Stored)
		if res.Compression == pack.Delta {
			c.counts.DeltaBlobs++
		}
	}
}

// maxChain bounds the recursion along a chain of bases; a longer chain
// (a cycle in a damaged index) fails to load in the source anyway.
const maxChain = 64

// data copies the data blob id unless it was met before, its base first
// when the source stores it as a delta blob, so that it stays one in the
// destination (unless the chain would outgrow the destination's
// max_delta_depth: then it starts a new chain, stored whole).
func (c *copier) data(ctx context.Context, id pack.ID, depth int) (mapped, error) {
	if m, ok := c.blobs[id]; ok {
		return m, nil
	}
	if depth > maxChain {
		return mapped{}, fmt.Errorf("blob %s: %w: chain of delta bases longer than %d", id, repo.ErrDamaged, maxChain)
	}
	base, delta := c.src.DeltaBase(id)
	var baseTo mapped
	if delta {
		var err error
		if baseTo, err = c.data(ctx, base, depth+1); err != nil {
			return mapped{}, fmt.Errorf("base of blob %s: %w", id.Short(), err)
		}
	}
	plain, err := c.src.LoadBlob(ctx, id)
	if err != nil {
		return mapped{}, err
	}
	c.counts.DataRead++
	c.counts.BytesRead += uint64(len(plain))
	var res repo.SaveResult
	if delta && baseTo.depth < c.maxDepth {
		// The load above resolved the base through the blob cache.
		basePlain, err := c.src.LoadBlob(ctx, base)
		if err != nil {
			return mapped{}, fmt.Errorf("base %s of blob %s: %w", base.Short(), id.Short(), err)
		}
		res, err = c.dst.SaveDataBlobOn(ctx, plain, baseTo.id, basePlain)
		if err != nil {
			return mapped{}, err
		}
	} else if res, err = c.dst.SaveBlob(ctx, pack.DataBlob, plain, pack.ID{}); err != nil {
		return mapped{}, err
	}
	c.stored(res, pack.DataBlob)
	m := mapped{id: res.ID}
	switch {
	case res.Stored == 0:
		m.depth = c.dst.DeltaDepth(res.ID)
	case res.Compression == pack.Delta:
		m.depth = baseTo.depth + 1
	}
	c.blobs[id] = m
	return m, nil
}
