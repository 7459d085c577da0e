package snapdiff

import (
	"context"
	"fmt"
	"path"
	"slices"

	"strata/pack"
	"strata/repo"
)

// This file compares two file snapshots as restic diff does: path by
// path, passing over folders whose tree blobs are the same.

// File change marks, as restic diff prints them.
const (
	FileAdded    = '+'
	FileRemoved  = '-'
	FileModified = 'M' // content changed
	FileType     = 'T' // the kind changed (a file became a folder, ...)
	FileMeta     = 'U' // only metadata changed: mode, time, target
)

// FileChange is one path that differs.
type FileChange struct {
	Mark byte
	Path string
	Kind string // B's kind (A's for a removed path)
}

// FileOptions describe a diff of two file snapshots.
type FileOptions struct {
	// Emit receives each change, in path order (a folder before what is
	// in it).
	Emit func(FileChange) error
	// BlobSize returns the stored size of a data blob, for the bytes
	// added and removed; nil counts none.
	BlobSize func(id pack.ID) (uint64, bool)
}

// FileCounts counts paths by kind.
type FileCounts struct{ Files, Dirs, Others uint64 }

func (c *FileCounts) add(k string) {
	switch k {
	case repo.NodeDir:
		c.Dirs++
	case repo.NodeFile, repo.NodeStream:
		c.Files++
	default:
		c.Others++
	}
}

// FileReport sums a file diff. Blobs and bytes are those of the data
// blobs only one side references, within the folders that differ.
type FileReport struct {
	Added, Removed, Changed  FileCounts
	BlobsAdded, BlobsRemoved uint64
	BytesAdded, BytesRemoved uint64
	TreesRead, TreesShared   uint64
	blobsA, blobsB           map[pack.ID]bool
}

// Files compares the file snapshots whose root trees are rootA and rootB.
func Files(ctx context.Context, l Loader, rootA, rootB pack.ID, opts FileOptions) (*FileReport, error) {
	rep := &FileReport{blobsA: map[pack.ID]bool{}, blobsB: map[pack.ID]bool{}}
	fd := &fileDiffer{l: l, opts: opts, rep: rep}
	if err := fd.trees(ctx, "/", &rootA, &rootB); err != nil {
		return nil, err
	}
	for id := range rep.blobsB {
		if !rep.blobsA[id] {
			rep.BlobsAdded++
			rep.BytesAdded += fd.size(id)
		}
	}
	for id := range rep.blobsA {
		if !rep.blobsB[id] {
			rep.BlobsRemoved++
			rep.BytesRemoved += fd.size(id)
		}
	}
	return rep, nil
}

type fileDiffer struct {
	l    Loader
	opts FileOptions
	rep  *FileReport
}

func (fd *fileDiffer) size(id pack.ID) uint64 {
	if fd.opts.BlobSize == nil {
		return 0
	}
	n, _ := fd.opts.BlobSize(id)
	return n
}

func (fd *fileDiffer) emit(mark byte, p string, k string) error {
	if fd.opts.Emit == nil {
		return nil
	}
	return fd.opts.Emit(FileChange{Mark: mark, Path: p, Kind: k})
}

// load loads a folder's tree; nil gives an empty folder.
func (fd *fileDiffer) load(ctx context.Context, id *pack.ID, dir string) ([]repo.Node, error) {
	if id == nil {
		return nil, nil
	}
	t, err := fd.l.LoadTree(ctx, *id)
	if err != nil {
		return nil, fmt.Errorf("reading the tree of %s: %w", dir, err)
	}
	fd.rep.TreesRead++
	return t.Nodes, nil
}

// trees compares the folders dir of A (tree a, nil when A lacks it) and
// B. Equal tree IDs are the same folder and are not loaded.
func (fd *fileDiffer) trees(ctx context.Context, dir string, a, b *pack.ID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a != nil && b != nil && *a == *b {
		fd.rep.TreesShared++
		return nil
	}
	na, err := fd.load(ctx, a, dir)
	if err != nil {
		return err
	}
	nb, err := fd.load(ctx, b, dir)
	if err != nil {
		return err
	}
	i, j := 0, 0
	for i < len(na) || j < len(nb) {
		switch {
		case j == len(nb) || (i < len(na) && na[i].Name < nb[j].Name):
			if err := fd.node(ctx, path.Join(dir, na[i].Name), &na[i], nil); err != nil {
				return err
			}
			i++
		case i == len(na) || nb[j].Name < na[i].Name:
			if err := fd.node(ctx, path.Join(dir, nb[j].Name), nil, &nb[j]); err != nil {
				return err
			}
			j++
		default:
			if err := fd.node(ctx, path.Join(dir, na[i].Name), &na[i], &nb[j]); err != nil {
				return err
			}
			i, j = i+1, j+1
		}
	}
	return nil
}

// node compares one path: a node of A, of B, or of both.
func (fd *fileDiffer) node(ctx context.Context, p string, a, b *repo.Node) error {
	switch {
	case b == nil:
		fd.rep.Removed.add(a.Kind)
		fd.content(a, fd.rep.blobsA)
		if err := fd.emit(FileRemoved, p, a.Kind); err != nil {
			return err
		}
		if a.Kind == repo.NodeDir {
			return fd.trees(ctx, p, a.Subtree, nil)
		}
		return nil
	case a == nil:
		fd.rep.Added.add(b.Kind)
		fd.content(b, fd.rep.blobsB)
		if err := fd.emit(FileAdded, p, b.Kind); err != nil {
			return err
		}
		if b.Kind == repo.NodeDir {
			return fd.trees(ctx, p, nil, b.Subtree)
		}
		return nil
	case a.Kind != b.Kind:
		fd.rep.Changed.add(b.Kind)
		fd.content(a, fd.rep.blobsA)
		fd.content(b, fd.rep.blobsB)
		if err := fd.emit(FileType, p, b.Kind); err != nil {
			return err
		}
		var sa, sb *pack.ID
		if a.Kind == repo.NodeDir {
			sa = a.Subtree
		}
		if b.Kind == repo.NodeDir {
			sb = b.Subtree
		}
		if sa != nil || sb != nil {
			return fd.trees(ctx, p, sa, sb)
		}
		return nil
	}
	if a.Kind == repo.NodeDir {
		if !sameMeta(a, b) {
			fd.rep.Changed.add(b.Kind)
			if err := fd.emit(FileMeta, p, b.Kind); err != nil {
				return err
			}
		}
		return fd.trees(ctx, p, a.Subtree, b.Subtree)
	}
	switch {
	case !slices.Equal(a.Content, b.Content) || !samePages(a, b) || a.Size != b.Size:
		fd.rep.Changed.add(b.Kind)
		fd.content(a, fd.rep.blobsA)
		fd.content(b, fd.rep.blobsB)
		return fd.emit(FileModified, p, b.Kind)
	case !sameMeta(a, b):
		fd.rep.Changed.add(b.Kind)
		return fd.emit(FileMeta, p, b.Kind)
	}
	return nil
}

// content adds the data blobs of a node's content to set.
func (fd *fileDiffer) content(n *repo.Node, set map[pack.ID]bool) {
	for _, id := range n.Content {
		set[id] = true
	}
}

func samePages(a, b *repo.Node) bool {
	if a.Pages == nil || b.Pages == nil {
		return a.Pages == nil && b.Pages == nil
	}
	return *a.Pages == *b.Pages
}

// sameMeta reports whether two nodes of one kind have the same metadata
// (restic's U): mode, modification time and symlink target.
func sameMeta(a, b *repo.Node) bool {
	return a.Mode == b.Mode && a.ModTime.Equal(b.ModTime) && a.Target == b.Target
}
