package repo

import (
	"context"
	"errors"

	"strata/pack"
)

// PageSaver stores an encoded page and returns its ID. SaveTreeBlob
// stores it as a tree blob, in two copies; repair passes one that only
// computes the ID and queues the page.
type PageSaver func(ctx context.Context, page []byte) (pack.ID, error)

// PageWriter builds the page tree of a table's chunk list as the chunks
// come, in order (docs/design.md, "Table pages"). It holds at most one
// unfinished page per level.
type PageWriter struct {
	save   PageSaver
	levels []*pageLevel
}

// pageLevel is the unfinished page of one level.
type pageLevel struct {
	entries []PageEntry
	size    int    // encoded bytes so far
	prev    string // first key of the last entry
	wrote   bool   // a page of this level was saved
}

// NewPageWriter returns a writer that stores its pages with save.
func NewPageWriter(save PageSaver) *PageWriter {
	return &PageWriter{save: save}
}

// SaveTreeBlob is a PageSaver that stores pages as tree blobs of r.
func (r *Repository) SaveTreeBlob(ctx context.Context, page []byte) (pack.ID, error) {
	res, err := r.SaveBlob(ctx, pack.TreeBlob, page, pack.ID{})
	return res.ID, err
}

// Add appends one chunk to the list.
func (pw *PageWriter) Add(ctx context.Context, id pack.ID, info ChunkInfo) error {
	key := info.FirstKey
	if len(key) > MaxFirstKey {
		key = key[:MaxFirstKey]
	}
	return pw.add(ctx, 0, PageEntry{ID: id, FirstKey: key, Rows: info.Rows, Bytes: info.Bytes, Chunks: 1})
}

// add appends e to the page of level, ending that page after e when e's ID
// is a boundary, and before e when e would not fit.
func (pw *PageWriter) add(ctx context.Context, level int, e PageEntry) error {
	if level > MaxPageLevel {
		return errors.New("table pages: the page tree is too high")
	}
	if level == len(pw.levels) {
		pw.levels = append(pw.levels, &pageLevel{})
	}
	l := pw.levels[level]
	enc := pageEntrySize(level, l.prev, &e)
	if len(l.entries) > 0 && (len(l.entries) == MaxPageEntries || len(PageMagic)+1+3+l.size+enc > MaxPageSize) {
		if err := pw.flush(ctx, level); err != nil {
			return err
		}
		enc = pageEntrySize(level, "", &e)
	}
	l.entries = append(l.entries, e)
	l.size += enc
	l.prev = e.FirstKey
	if pageBoundary(e.ID) {
		return pw.flush(ctx, level)
	}
	return nil
}

// flush saves the unfinished page of level and adds its entry to the
// level above.
func (pw *PageWriter) flush(ctx context.Context, level int) error {
	l := pw.levels[level]
	p := &Page{Level: level, Entries: l.entries}
	id, err := pw.savePage(ctx, p)
	if err != nil {
		return err
	}
	parent := p.Totals()
	parent.ID = id
	l.entries, l.size, l.prev, l.wrote = l.entries[:0], 0, "", true
	return pw.add(ctx, level+1, parent)
}

func (pw *PageWriter) savePage(ctx context.Context, p *Page) (pack.ID, error) {
	b, err := EncodePage(p)
	if err != nil {
		return pack.ID{}, err
	}
	return pw.save(ctx, b)
}

// Finish saves the unfinished pages and returns the root page's ID, or
// nil when no chunk was added. The writer is not used again.
func (pw *PageWriter) Finish(ctx context.Context) (*pack.ID, error) {
	for level := 0; level < len(pw.levels); level++ {
		l := pw.levels[level]
		top := level == len(pw.levels)-1 && !l.wrote
		if !top {
			if len(l.entries) > 0 {
				if err := pw.flush(ctx, level); err != nil {
					return nil, err
				}
			}
			continue
		}
		// Every entry of this level is unfinished: they are the root's.
		switch {
		case len(l.entries) == 0:
			return nil, nil
		case len(l.entries) == 1 && level > 0:
			id := l.entries[0].ID
			return &id, nil
		}
		id, err := pw.savePage(ctx, &Page{Level: level, Entries: l.entries})
		if err != nil {
			return nil, err
		}
		return &id, nil
	}
	return nil, nil
}
