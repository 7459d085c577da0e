package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"

	"strata/pack"
)

// This file holds the one tree walker of the repository: restore, check,
// prune, repair, stats and table export read trees through it, so a new
// kind of tree blob is taught here and nowhere else (docs/design.md,
// "Walking trees").

// TreeLoader is what a walk needs of a repository: blobs by ID, verified
// against their ID, and decoded trees. *Repository implements it.
type TreeLoader interface {
	LoadBlob(ctx context.Context, id pack.ID) ([]byte, error)
	LoadTree(ctx context.Context, id pack.ID) (*Tree, error)
}

// ChunkRef is one content entry of a node, as a walk streams it: the
// data blob, its position in the node's content and, for a table node,
// its entry of the key index.
//
// For a node with a change log (docs/design.md, "Table change logs") each
// ChunkRef is an effective chunk: the base chunk ID with the log's ops that
// fall on it (Patch), and Info's Rows and Bytes those of the chunk with the
// patch applied (FirstKey stays the base chunk's: every row of the
// effective chunk sorts at or after it and before the next chunk's, but
// for inserts before the first chunk). LoadChunk reads its bytes.
type ChunkRef struct {
	ID      pack.ID
	Index   uint64    // position in the node's content, from 0
	Info    ChunkInfo // zero unless HasInfo
	HasInfo bool      // the node records a key index (a table)
	Patch   Patch     // the change log's ops on this chunk; nil: none
}

// Same reports whether c and o are the same effective chunk: the same
// blob with the same patch.
func (c ChunkRef) Same(o ChunkRef) bool {
	if c.ID != o.ID || len(c.Patch) != len(o.Patch) {
		return false
	}
	for i := range c.Patch {
		a, b := &c.Patch[i], &o.Patch[i]
		if a.Kind != b.Kind || a.Row != b.Row || a.OldLen != b.OldLen || !bytes.Equal(a.Line, b.Line) {
			return false
		}
	}
	return true
}

// StartsAtKey reports whether every row of c sorts at or after its first
// key: false only for the first chunk of a node whose change log inserts
// rows before the base's first row.
func (c ChunkRef) StartsAtKey() bool {
	return len(c.Patch) == 0 || c.Patch[0].Kind != LogInsert || c.Patch[0].Row != 0
}

// BlobLoader loads verified blobs.
type BlobLoader interface {
	LoadBlob(ctx context.Context, id pack.ID) ([]byte, error)
}

// LoadChunk returns the bytes of the effective chunk c: its blob with its
// patch applied (in new memory when there is a patch; the blob's own bytes,
// which the caller must not change, when there is none).
func LoadChunk(ctx context.Context, l BlobLoader, c ChunkRef) ([]byte, error) {
	b, err := l.LoadBlob(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	return EffectiveChunk(c, b)
}

// EffectiveChunk is LoadChunk for a caller that holds c's blob, b,
// already: a reader following one key through snapshots whose base chunk
// stays while its patch changes (history) loads the blob once.
func EffectiveChunk(c ChunkRef, b []byte) ([]byte, error) {
	if len(c.Patch) == 0 {
		return b, nil
	}
	out, err := c.Patch.Apply(b)
	if err != nil {
		return nil, fmt.Errorf("chunk %d (blob %s): %w", c.Index, c.ID.Short(), err)
	}
	return out, nil
}

// LoadLog loads and decodes the change log blob id.
func LoadLog(ctx context.Context, l BlobLoader, id pack.ID) (*TableLog, error) {
	b, err := l.LoadBlob(ctx, id)
	if err != nil {
		return nil, err
	}
	lg, err := DecodeLog(b)
	if err != nil {
		return nil, fmt.Errorf("%w: blob %s: %v", ErrDamaged, id.Short(), err)
	}
	return lg, nil
}

// Walker walks trees depth first, each folder's nodes in name order, and
// streams the content entries of the nodes it meets. Every hook is
// optional. fs.SkipDir from Tree skips that tree blob (it is not loaded);
// from Node, a dir's subtree, or for another node the rest of its folder
// (as in filepath.WalkDir). fs.SkipAll from any hook ends the walk, which
// then returns nil; any other error ends it and is returned unchanged.
type Walker struct {
	// Loader loads the trees the walk reads.
	Loader TreeLoader
	// LoadTree, when set, loads trees instead of Loader (check verifies
	// every copy).
	LoadTree func(ctx context.Context, id pack.ID) (*Tree, error)

	// Tree is called for each tree blob, with the snapshot path of its
	// folder, before it is loaded.
	Tree func(id pack.ID, dir string) error
	// TreeDone is called after the nodes of a tree that was loaded.
	TreeDone func(id pack.ID, dir string) error
	// LoadError is called when a tree blob fails to load or decode (the
	// error matches ErrDamaged when the bytes are bad). Returning nil
	// goes on without it; without the hook the walk ends with the error.
	LoadError func(id pack.ID, p string, err error) error

	// Node is called for each node, path being its snapshot path.
	Node func(p string, n *Node) error
	// NodeDone is called after a dir's subtree or a node's content was
	// walked (not when Node skipped it).
	NodeDone func(p string, n *Node) error
	// Chunk is called for each content entry of a node, in order. Without
	// it, content is not streamed.
	Chunk func(p string, n *Node, c ChunkRef) error
	// Log is called with the change log blob of a table node before its
	// chunks are streamed. fs.SkipDir streams the base's chunks without
	// patches, the log not loaded (for walks that need only the blobs a
	// node references). A log that cannot be loaded goes to LoadError.
	Log func(p string, n *Node, id pack.ID) error

	// Page is called for each page of a node's chunk list before it is
	// loaded; fs.SkipDir skips it and the chunks below it.
	Page func(id pack.ID, p string) error
	// PageDone is called after the entries of a page that was loaded.
	PageDone func(id pack.ID, p string) error
	// LoadPage, when set, loads pages instead of Loader.
	LoadPage func(ctx context.Context, id pack.ID) ([]byte, error)
	// PageError is called for a page that fails to load or decode, or
	// that disagrees with its entry in the page above (want, nil for the
	// root page); returning nil goes on without the chunks below it.
	// Without the hook, LoadError is called.
	PageError func(id pack.ID, p string, want *PageEntry, err error) error
}

// Walk walks the tree root, whose snapshot path is dir ("/" for a
// snapshot's root).
func (w *Walker) Walk(ctx context.Context, root pack.ID, dir string) error {
	return ended(w.tree(ctx, root, dir))
}

// WalkNode walks node n at snapshot path p as Walk would below its
// folder: Node, then its subtree or its content, then NodeDone.
func (w *Walker) WalkNode(ctx context.Context, p string, n *Node) error {
	err := w.node(ctx, p, n)
	if errors.Is(err, fs.SkipDir) {
		return nil
	}
	return ended(err)
}

// ended turns the end of a walk asked for by a hook into success.
func ended(err error) error {
	if errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

func (w *Walker) tree(ctx context.Context, id pack.ID, dir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if w.Tree != nil {
		if err := w.Tree(id, dir); err != nil {
			return skipped(err)
		}
	}
	t, err := w.loadTree(ctx, id, dir)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if w.LoadError != nil {
			return skipped(w.LoadError(id, dir, err))
		}
		return err
	}
	for i := range t.Nodes {
		err := w.node(ctx, path.Join(dir, t.Nodes[i].Name), &t.Nodes[i])
		if errors.Is(err, fs.SkipDir) {
			break // the rest of the folder
		}
		if err != nil {
			return err
		}
	}
	if w.TreeDone != nil {
		return w.TreeDone(id, dir)
	}
	return nil
}

// skipped turns fs.SkipDir, which skipped one blob, into nil.
func skipped(err error) error {
	if errors.Is(err, fs.SkipDir) {
		return nil
	}
	return err
}

// node walks one node. fs.SkipDir from Node on a node that is not a dir
// skips the rest of its folder, as in filepath.WalkDir.
func (w *Walker) node(ctx context.Context, p string, n *Node) error {
	if w.Node != nil {
		err := w.Node(p, n)
		if errors.Is(err, fs.SkipDir) && n.Kind == NodeDir {
			return nil
		}
		if err != nil {
			return err
		}
	}
	if n.Kind == NodeDir {
		if n.Subtree == nil {
			return fmt.Errorf("%s: %w: dir %q has no subtree", p, ErrDamaged, n.Name)
		}
		if err := w.tree(ctx, *n.Subtree, p); err != nil {
			return err
		}
	} else if w.Chunk != nil {
		if err := w.content(ctx, p, n); err != nil {
			return err
		}
	}
	if w.NodeDone != nil {
		return w.NodeDone(p, n)
	}
	return nil
}

// WalkContent calls Chunk for each content entry of node n, whose
// snapshot path is p, in order.
func (w *Walker) WalkContent(ctx context.Context, p string, n *Node) error {
	return ended(w.content(ctx, p, n))
}

// content streams the content entries of node n.
func (w *Walker) content(ctx context.Context, p string, n *Node) error {
	if n.Pages != nil {
		cur := &cursor{}
		if n.Log != nil {
			lg, err := w.log(ctx, p, n)
			if errors.Is(err, errLogLost) {
				return nil // LoadError chose to go on without the content
			}
			if err != nil {
				return err
			}
			if lg != nil {
				cur.log = NewLogCursor(lg)
			}
		}
		if err := w.page(ctx, p, n, *n.Pages, nil, cur); err != nil {
			return err
		}
		return cur.finish(p)
	}
	info := len(n.Chunks) == len(n.Content) && len(n.Chunks) > 0
	for i, id := range n.Content {
		c := ChunkRef{ID: id, Index: uint64(i), HasInfo: info}
		if info {
			c.Info = n.Chunks[i]
		}
		if err := w.Chunk(p, n, c); err != nil {
			return err
		}
	}
	return nil
}

// log loads the change log of node n, nil without error when the Log hook
// asked to skip it (or LoadError to go on without the node's content).
func (w *Walker) log(ctx context.Context, p string, n *Node) (*TableLog, error) {
	if w.Log != nil {
		if err := w.Log(p, n, *n.Log); errors.Is(err, fs.SkipDir) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
	}
	lg, err := LoadLog(ctx, w.Loader, *n.Log)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		err = fmt.Errorf("reading the change log of %s: %w", p, err)
		if w.LoadError != nil {
			if err := w.LoadError(*n.Log, p, err); err != nil && !errors.Is(err, fs.SkipDir) {
				return nil, err
			}
			return nil, errLogLost
		}
		return nil, err
	}
	return lg, nil
}

// errLogLost: a change log failed to load and LoadError went on.
var errLogLost = errors.New("change log not loaded")

// cursor is where a walk of a node's chunk list stands: the next chunk's
// position and, with a change log, the ops not yet attached.
type cursor struct {
	next    uint64
	skipped bool // a page was skipped: no totals to check
	log     *LogCursor
}

// LogCursor attaches the ops of a change log to the chunks of its base as
// they are streamed in order (docs/design.md, "Table change logs"): the
// walker uses one per node, and a reader that walks a base once for two
// logs (diff of two snapshots that share it) one per log.
type LogCursor struct {
	log  *TableLog
	ops  []LogOp
	rows uint64 // base rows passed
	// Skipped, when set, lets chunks be passed over (a page skipped or
	// lost): their ops are dropped and Finish checks no totals.
	Skipped bool
}

// NewLogCursor returns a cursor at the first chunk of lg's base.
func NewLogCursor(lg *TableLog) *LogCursor { return &LogCursor{log: lg, ops: lg.Ops()} }

// Patch returns the ops on base chunk index, whose key index entry is
// info (checking them against it), and the chunk's effective info. p
// names the node in errors. Chunks come in increasing order.
func (c *LogCursor) Patch(p string, index uint64, info ChunkInfo) (Patch, ChunkInfo, error) {
	c.rows += info.Rows
	for len(c.ops) > 0 && c.ops[0].Chunk < index {
		if !c.Skipped {
			return nil, info, fmt.Errorf("reading the change log of %s: %w: an op on chunk %d, which the walk passed", p, ErrDamaged, c.ops[0].Chunk)
		}
		c.ops = c.ops[1:]
	}
	i := 0
	for i < len(c.ops) && c.ops[i].Chunk == index {
		i++
	}
	if i == 0 {
		return nil, info, nil
	}
	pt := Patch(c.ops[:i:i])
	c.ops = c.ops[i:]
	rows, size, err := pt.Effective(index, info.Rows, info.Bytes)
	if err != nil {
		return nil, info, fmt.Errorf("reading the change log of %s: %w", p, err)
	}
	info.Rows, info.Bytes = rows, size
	return pt, info, nil
}

// Finish checks, after the whole base of chunks chunks was streamed, that
// the change log was made for it.
func (c *LogCursor) Finish(p string, chunks uint64) error {
	if c.Skipped {
		return nil
	}
	if len(c.ops) > 0 || c.log.BaseChunks != chunks || c.log.BaseRows != c.rows {
		return fmt.Errorf("reading the change log of %s: %w: it is of a base of %d chunks and %d rows, the pages hold %d and %d",
			p, ErrDamaged, c.log.BaseChunks, c.log.BaseRows, chunks, c.rows)
	}
	return nil
}

// finish checks, after a whole chunk list was walked, that the change log
// was made for it.
func (c *cursor) finish(p string) error {
	if c.log == nil || c.skipped {
		return nil
	}
	return c.log.Finish(p, c.next)
}

// skip records that chunks were passed over.
func (c *cursor) skip() {
	c.skipped = true
	if c.log != nil {
		c.log.Skipped = true
	}
}

// loadTree loads the tree blob id of folder dir.
func (w *Walker) loadTree(ctx context.Context, id pack.ID, dir string) (*Tree, error) {
	load := w.Loader.LoadTree
	if w.LoadTree != nil {
		load = w.LoadTree
	}
	t, err := load(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reading the tree of %s: %w", dir, err)
	}
	return t, nil
}

// page streams the chunks below page id of node n's chunk list. want is
// the page's entry in the page above (nil for the root page), whose level
// is one more than the page's and whose sums the page must match; next is
// the position of the next chunk.
func (w *Walker) page(ctx context.Context, p string, n *Node, id pack.ID, want *pageWant, cur *cursor) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if w.Page != nil {
		if err := w.Page(id, p); err != nil {
			if errors.Is(err, fs.SkipDir) {
				if want != nil {
					cur.next += want.entry.Chunks
				}
				cur.skip()
				return nil
			}
			return err
		}
	}
	pg, err := w.loadPage(ctx, id, want)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		err = fmt.Errorf("reading the chunk list of %s: page %s: %w", p, id.Short(), err)
		var entry *PageEntry
		if want != nil {
			cur.next += want.entry.Chunks
			entry = &want.entry
		}
		cur.skip()
		if w.PageError != nil {
			return skipped(w.PageError(id, p, entry, err))
		}
		if w.LoadError != nil {
			return skipped(w.LoadError(id, p, err))
		}
		return err
	}
	for i := range pg.Entries {
		e := &pg.Entries[i]
		if pg.Level > 0 {
			if err := w.page(ctx, p, n, e.ID, &pageWant{level: pg.Level - 1, entry: *e}, cur); err != nil {
				return err
			}
			continue
		}
		c := ChunkRef{ID: e.ID, Index: cur.next, HasInfo: true,
			Info: ChunkInfo{FirstKey: e.FirstKey, Rows: e.Rows, Bytes: e.Bytes}}
		cur.next++
		if cur.log != nil {
			var err error
			if c.Patch, c.Info, err = cur.log.Patch(p, c.Index, c.Info); err != nil {
				return err
			}
		}
		if err := w.Chunk(p, n, c); err != nil {
			return err
		}
	}
	if w.PageDone != nil {
		return w.PageDone(id, p)
	}
	return nil
}

// pageWant is what a page's parent says of it.
type pageWant struct {
	level int
	entry PageEntry
}

// loadPage loads and decodes page id, and checks it against want.
func (w *Walker) loadPage(ctx context.Context, id pack.ID, want *pageWant) (*Page, error) {
	load := w.Loader.LoadBlob
	if w.LoadPage != nil {
		load = w.LoadPage
	}
	b, err := load(ctx, id)
	if err != nil {
		return nil, err
	}
	pg, err := DecodePage(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	if want != nil {
		if err := CheckPage(pg, want.level, &want.entry); err != nil {
			return nil, err
		}
	}
	return pg, nil
}

// CheckPage checks a page against its entry in the page above (want, of
// a page on level level+1): its level must be level, and its first key
// and sums those of want (ErrDamaged otherwise). Every reader that
// descends pages checks each page so.
func CheckPage(pg *Page, level int, want *PageEntry) error {
	got := pg.Totals()
	if pg.Level != level || got.FirstKey != want.FirstKey || got.Rows != want.Rows ||
		got.Bytes != want.Bytes || got.Chunks != want.Chunks {
		return fmt.Errorf("%w: level %d, %d chunks, %d rows, %d bytes from %q; the page above says level %d, %d chunks, %d rows, %d bytes from %q",
			ErrDamaged, pg.Level, got.Chunks, got.Rows, got.Bytes, got.FirstKey,
			level, want.Chunks, want.Rows, want.Bytes, want.FirstKey)
	}
	return nil
}

// CheckLog checks the change log of table node n, at snapshot path p,
// against its base as every reader that applies it does (docs/design.md,
// "Table change logs"): it loads and decodes the log and walks the base's
// pages with it, so an op on a chunk or row the base does not have, and
// totals that differ from the pages', are found without loading a chunk.
// The error matches ErrDamaged when the log cannot be read or does not
// fit its base. based is false when a page of the base could not be read
// (the walk of the snapshot reports that page): the log was then not
// checked. A node without a log has nothing to check.
func CheckLog(ctx context.Context, l TreeLoader, p string, n *Node) (based bool, err error) {
	if n.Log == nil || n.Pages == nil {
		return true, nil
	}
	w := Walker{
		Loader: l,
		Chunk:  func(string, *Node, ChunkRef) error { return nil },
		PageError: func(_ pack.ID, _ string, _ *PageEntry, err error) error {
			if !IsDamage(err) {
				return err
			}
			return errBaseUnreadable
		},
	}
	err = w.WalkContent(ctx, p, n)
	if errors.Is(err, errBaseUnreadable) {
		return false, nil
	}
	return true, err
}

// errBaseUnreadable: a page of a change log's base could not be read.
var errBaseUnreadable = errors.New("a page of the base cannot be read")
