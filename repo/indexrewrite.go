package repo

import (
	"context"

	"strata/index"
	"strata/pack"
	"strata/repo/backend"
)

// IndexRewriter writes a new index that replaces the old index files, as
// prune and repair index do (docs/design.md, "Superseding"). It gathers
// pack entries into files of about a bounded number of entries; the files
// it stores before Finish supersede nothing, so a kill while it runs only
// adds entries, and the last one supersedes the old files. A pack is never
// split across files.
type IndexRewriter struct {
	r     *Repository
	max   int
	f     index.File
	blobs int // entries in f

	written []pack.ID
	entries int
}

// NewIndexRewriter returns a rewriter storing files of about maxEntries
// entries; a bound above index.MaxFileEntries (or not above 0) is taken
// as index.MaxFileEntries, so no file outgrows index.MaxFileSize.
func (r *Repository) NewIndexRewriter(maxEntries int) *IndexRewriter {
	if maxEntries <= 0 || maxEntries > index.MaxFileEntries {
		maxEntries = index.MaxFileEntries
	}
	return &IndexRewriter{r: r, max: maxEntries}
}

// Add appends the entries of one pack and stores the file once it holds
// the bound or more.
func (w *IndexRewriter) Add(ctx context.Context, p index.PackBlobs) error {
	w.f.Packs = append(w.f.Packs, p)
	w.blobs += len(p.Blobs)
	if w.blobs < w.max {
		return nil
	}
	return w.save(ctx)
}

// Finish stores the last file, which supersedes the files in supersedes.
// It is written even without entries when there are files to supersede.
func (w *IndexRewriter) Finish(ctx context.Context, supersedes []pack.ID) error {
	w.f.Supersedes = supersedes
	return w.save(ctx)
}

// TakePending removes and returns the entries added but not yet stored,
// so the caller can change them and add them again.
func (w *IndexRewriter) TakePending() []index.PackBlobs {
	pending := w.f.Packs
	w.f.Packs, w.blobs = nil, 0
	return pending
}

// Written returns the IDs of the files stored so far.
func (w *IndexRewriter) Written() []pack.ID { return w.written }

// Entries returns the number of entries stored so far.
func (w *IndexRewriter) Entries() int { return w.entries }

func (w *IndexRewriter) save(ctx context.Context) error {
	if len(w.f.Packs) == 0 && len(w.f.Supersedes) == 0 {
		return nil
	}
	id, err := w.r.SaveFile(ctx, backend.IndexFile, index.Encode(&w.f))
	if err != nil {
		return err
	}
	w.written = append(w.written, id)
	w.entries += w.blobs
	w.f, w.blobs = index.File{}, 0
	return nil
}
