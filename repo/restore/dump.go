package restore

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"strata/pack"
	"strata/repo"
)

// Dump writes the node at snapshot path p below the tree root to w: the
// bytes of a file, stream or table, or a tar archive of a dir (its entries
// named from the dir's own name, "data/a.csv" for "/tmp/data"; "/" gives
// the whole snapshot). Blobs are verified as they load; on an error the
// output stops short and the error says where, so a caller writing to a
// file should remove it. A missing path is an error matching ErrNotFound.
func Dump(ctx context.Context, loader BlobLoader, root pack.ID, p string, w io.Writer) error {
	p = cleanPath(p)
	n, err := FindNode(ctx, loader, root, p)
	if err != nil {
		return err
	}
	switch {
	case hasContent(n):
		err = runPipeline(ctx, loader, DefaultWorkers,
			func(ctx context.Context, v visitor) error { return v.leaf(p, n) },
			func(ctx context.Context, pl *pipeline, e entry) error {
				_, err := pl.readContent(ctx, e, func(b []byte) error {
					_, err := w.Write(b)
					return err
				})
				return err
			})
		if err != nil {
			return fmt.Errorf("dumping %s: %w", p, err)
		}
		return nil
	case n.Kind == repo.NodeSymlink:
		return fmt.Errorf("dumping %s: it is a symlink to %q; dump its target instead", p, n.Target)
	}
	return dumpTar(ctx, loader, p, n, w)
}

// dumpTar writes the dir n at snapshot path p as a tar archive.
func dumpTar(ctx context.Context, loader BlobLoader, p string, n *repo.Node, w io.Writer) error {
	tw := tar.NewWriter(w)
	d := &tarDumper{tw: tw, base: p}
	if p != "/" {
		if err := d.writeHeader(p, n); err != nil {
			return fmt.Errorf("dumping %s: %w", p, err)
		}
	}
	err := runPipeline(ctx, loader, DefaultWorkers,
		func(ctx context.Context, v visitor) error {
			return (&walker{loader: loader, v: v}).walk(ctx, *n.Subtree, p)
		},
		d.consume)
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("dumping %s: %w", p, err)
	}
	return nil
}

// tarDumper writes the entries of a walk as tar entries.
type tarDumper struct {
	tw   *tar.Writer
	base string // snapshot path of the dumped dir
}

func (d *tarDumper) consume(ctx context.Context, p *pipeline, e entry) error {
	if e.kind == leaveDir {
		return nil
	}
	if err := d.writeHeader(e.path, e.node); err != nil {
		return fmt.Errorf("dumping %s: %w", e.path, err)
	}
	if e.blobs == nil {
		return nil
	}
	size, err := p.readContent(ctx, e, func(b []byte) error {
		_, err := d.tw.Write(b)
		return err
	})
	if err == nil && size != e.node.Size {
		err = fmt.Errorf("content is %d bytes, the snapshot records %d", size, e.node.Size)
	}
	if err != nil {
		return fmt.Errorf("dumping %s: %w", e.path, err)
	}
	return nil
}

// writeHeader writes the tar header of the node at snapshot path p.
func (d *tarDumper) writeHeader(p string, n *repo.Node) error {
	h := &tar.Header{
		Name:    d.name(p),
		Mode:    int64(n.Mode & 0o7777),
		ModTime: n.ModTime,
	}
	if n.Mode == 0 {
		h.Mode = int64(fileMode(n).Perm())
	}
	switch {
	case n.Kind == repo.NodeDir:
		h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
	case n.Kind == repo.NodeSymlink:
		h.Typeflag, h.Linkname = tar.TypeSymlink, n.Target
	default:
		h.Typeflag, h.Size = tar.TypeReg, int64(n.Size)
	}
	return d.tw.WriteHeader(h)
}

// name is the tar name of snapshot path p: relative to the parent of the
// dumped dir, so "/tmp/data/a.csv" is "data/a.csv" when dumping
// "/tmp/data", and "tmp/data/a.csv" when dumping "/".
func (d *tarDumper) name(p string) string {
	if d.base == "/" {
		return p[1:]
	}
	return path.Join(path.Base(d.base), strings.TrimPrefix(p, d.base))
}
