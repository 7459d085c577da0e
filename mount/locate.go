package mount

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"strata/pack"
	"strata/repo"
)

// chunkAt is one chunk of a node's content: its data blob, where it
// starts in the content, its length, and (for a table) the number of
// rows before it.
type chunkAt struct {
	id     pack.ID
	start  uint64
	length uint64
	rows   uint64 // rows before the chunk; tables only
	index  int    // its position in the content; files only
	patch  repo.Patch
}

// end is the offset just past the chunk.
func (c chunkAt) end() uint64 { return c.start + c.length }

// locator finds the chunk that holds a byte of a node's content, loading
// only what leads to it: for a table the pages on the way down its chunk
// list (docs/design.md, "Table pages"), whose entries give the bytes
// below them, so a read at any offset costs a page per level; for a file
// or stream, whose chunks record no lengths, the chunks before it, once.
type locator interface {
	// find returns the chunk holding byte off, which is below the
	// content's size.
	find(ctx context.Context, off uint64) (chunkAt, error)
}

// newLocator returns the locator of node n's content.
func newLocator(m *mountFS, n *repo.Node) locator {
	switch {
	case n.Pages != nil:
		return &pageLocator{m: m, root: *n.Pages, log: n.Log, name: n.Name}
	case len(n.Chunks) == len(n.Content) && len(n.Chunks) > 0:
		l := &listLocator{content: n.Content, starts: make([]uint64, len(n.Chunks)+1),
			rows: make([]uint64, len(n.Chunks)+1)}
		for i, c := range n.Chunks {
			l.starts[i+1] = l.starts[i] + c.Bytes
			l.rows[i+1] = l.rows[i] + c.Rows
		}
		return l
	}
	return &fileLocator{m: m, content: n.Content, starts: []uint64{0}}
}

// pageLocator descends a table's pages (from the mount's page cache) by
// the bytes each entry stands for. For a table with a change log those
// are the bytes with the log's patches applied (docs/design.md, "Table
// change logs"): the patched chunks, their indexes and their changes of
// bytes and rows are held, sorted, so an entry's effective sums are its
// own plus those of the patched chunks below it. Without a log nothing
// is patched and the sums are the entries' own.
type pageLocator struct {
	m    *mountFS
	root pack.ID
	log  *pack.ID // nil: the table has no change log
	name string

	once    sync.Once
	err     error
	patched []uint64 // indexes of the patched chunks, ascending
	patches []repo.Patch
	bytes   []int64 // bytes[i]: change of bytes of patched[:i]
	rows    []int64
}

// load reads the change log, once.
func (l *pageLocator) load(ctx context.Context) error {
	l.once.Do(func() {
		l.bytes, l.rows = []int64{0}, []int64{0}
		if l.log == nil {
			return
		}
		lg, err := repo.LoadLog(ctx, blobLoaderFunc(l.m.loadBlob), *l.log)
		if err != nil {
			l.err = fmt.Errorf("the change log of %s: %w", l.name, err)
			return
		}
		ops := lg.Ops()
		for i := 0; i < len(ops); {
			j := i
			var db, dr int64
			for j < len(ops) && ops[j].Chunk == ops[i].Chunk {
				op := &ops[j]
				if op.Kind != repo.LogInsert {
					db -= int64(op.OldLen) + 1
					dr--
				}
				if op.Kind != repo.LogDelete {
					db += int64(len(op.Line)) + 1
					dr++
				}
				j++
			}
			l.patched = append(l.patched, ops[i].Chunk)
			l.patches = append(l.patches, repo.Patch(ops[i:j:j]))
			l.bytes = append(l.bytes, l.bytes[len(l.bytes)-1]+db)
			l.rows = append(l.rows, l.rows[len(l.rows)-1]+dr)
			i = j
		}
	})
	return l.err
}

// delta returns the change of bytes and rows of the chunks [from, to).
func (l *pageLocator) delta(from, to uint64) (int64, int64) {
	i := sort.Search(len(l.patched), func(i int) bool { return l.patched[i] >= from })
	j := sort.Search(len(l.patched), func(i int) bool { return l.patched[i] >= to })
	return l.bytes[j] - l.bytes[i], l.rows[j] - l.rows[i]
}

func (l *pageLocator) find(ctx context.Context, off uint64) (chunkAt, error) {
	if err := l.load(ctx); err != nil {
		return chunkAt{}, err
	}
	id, start, rows, index := l.root, uint64(0), uint64(0), uint64(0)
	var want *repo.PageEntry
	level := -1
	for depth := 0; depth <= repo.MaxPageLevel; depth++ {
		pg, err := l.m.page(ctx, id)
		if err == nil && want != nil {
			err = repo.CheckPage(pg, level-1, want)
		}
		if err != nil {
			return chunkAt{}, fmt.Errorf("the chunk list of %s: page %s: %w", l.name, id.Short(), err)
		}
		var e *repo.PageEntry
		var size uint64
		for i := range pg.Entries {
			en := &pg.Entries[i]
			db, dr := l.delta(index, index+en.Chunks)
			size = uint64(int64(en.Bytes) + db)
			if off < start+size || i == len(pg.Entries)-1 {
				e = en
				break
			}
			start += size
			rows += uint64(int64(en.Rows) + dr)
			index += en.Chunks
		}
		if off >= start+size {
			return chunkAt{}, fmt.Errorf("the chunk list of %s: %w: byte %d is past its end", l.name, repo.ErrDamaged, off)
		}
		if pg.Level == 0 {
			c := chunkAt{id: e.ID, start: start, length: size, rows: rows}
			if i := sort.Search(len(l.patched), func(i int) bool { return l.patched[i] >= index }); i < len(l.patched) && l.patched[i] == index {
				c.patch = l.patches[i]
			}
			return c, nil
		}
		id, want, level = e.ID, e, pg.Level
	}
	return chunkAt{}, fmt.Errorf("the chunk list of %s: %w: pages deeper than %d levels", l.name, repo.ErrDamaged, repo.MaxPageLevel)
}

// blobLoaderFunc makes a function a repo.BlobLoader.
type blobLoaderFunc func(ctx context.Context, id pack.ID) ([]byte, error)

func (f blobLoaderFunc) LoadBlob(ctx context.Context, id pack.ID) ([]byte, error) { return f(ctx, id) }

// listLocator searches the inline chunk list of a table written before
// table pages.
type listLocator struct {
	content []pack.ID
	starts  []uint64 // starts[i] is where chunk i starts; the last is the size
	rows    []uint64 // rows before chunk i
}

func (l *listLocator) find(_ context.Context, off uint64) (chunkAt, error) {
	i := sort.Search(len(l.content), func(i int) bool { return l.starts[i+1] > off })
	if i == len(l.content) {
		return chunkAt{}, fmt.Errorf("%w: byte %d is past the end of the chunk list", repo.ErrDamaged, off)
	}
	return chunkAt{id: l.content[i], start: l.starts[i], length: l.starts[i+1] - l.starts[i], rows: l.rows[i]}, nil
}

// fileLocator learns the lengths of a file's chunks as it loads them,
// in order: a read at an offset past those known loads the chunks up to
// it (through the chunk cache, so a sequential reader loads each once).
type fileLocator struct {
	m       *mountFS
	content []pack.ID

	mu     sync.Mutex
	starts []uint64 // starts[i] is where chunk i starts, for the chunks known, and one past them
}

func (l *fileLocator) find(ctx context.Context, off uint64) (chunkAt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		known := len(l.starts) - 1 // chunks whose length is known
		if off < l.starts[known] {
			i := sort.Search(known, func(i int) bool { return l.starts[i+1] > off })
			return chunkAt{id: l.content[i], start: l.starts[i], length: l.starts[i+1] - l.starts[i], index: i}, nil
		}
		if known == len(l.content) {
			return chunkAt{}, fmt.Errorf("%w: the content ends at byte %d, before its recorded size", repo.ErrDamaged, l.starts[known])
		}
		data, err := l.m.chunks.get(ctx, l.content[known])
		if err != nil {
			return chunkAt{}, err
		}
		l.starts = append(l.starts, l.starts[known]+uint64(len(data)))
	}
}
