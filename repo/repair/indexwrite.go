package repair

import (
	"context"

	"strata/index"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

// indexWriter gathers pack entries into index files of about max entries
// each. The files it writes before finish supersede nothing, so a kill
// while it runs only adds entries; the last one supersedes the old files.
type indexWriter struct {
	r     *repo.Repository
	max   int
	f     index.File
	blobs int // entries in f

	written []pack.ID
	total   int // entries written
}

func newIndexWriter(r *repo.Repository, max int) *indexWriter {
	return &indexWriter{r: r, max: max}
}

// add appends the entries of one pack, and stores the file once it holds
// max entries or more (a pack is never split across files).
func (w *indexWriter) add(ctx context.Context, p index.PackBlobs) error {
	w.f.Packs = append(w.f.Packs, p)
	w.blobs += len(p.Blobs)
	if w.blobs < w.max {
		return nil
	}
	return w.save(ctx)
}

// finish stores the last file, which supersedes the files in supersedes.
// It is written even without entries when there are files to supersede.
func (w *indexWriter) finish(ctx context.Context, supersedes []pack.ID) error {
	w.f.Supersedes = supersedes
	return w.save(ctx)
}

func (w *indexWriter) save(ctx context.Context) error {
	if len(w.f.Packs) == 0 && len(w.f.Supersedes) == 0 {
		return nil
	}
	id, err := w.r.SaveFile(ctx, backend.IndexFile, index.Encode(&w.f))
	if err != nil {
		return err
	}
	w.written = append(w.written, id)
	w.total += w.blobs
	w.f, w.blobs = index.File{}, 0
	return nil
}
