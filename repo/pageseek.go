package repo

import (
	"context"
	"fmt"
	"sort"

	"strata/pack"
)

// ChunkSeeker finds chunks of one node by first key: table export asks it
// for the delta base of each new chunk, the parent's chunk whose first key
// is the greatest at or below the new chunk's (docs/design.md, "Chunks,
// the key index and delta bases"). Over pages it descends from the root by
// first key, keeping the last page it decoded on each level, so the
// ascending keys of one export load each page about once. Memory is one
// page per level.
type ChunkSeeker struct {
	loader  TreeLoader
	node    *Node
	compare func(a, b string) int
	cached  map[int]cachedPage // by level
	// The change log of node, when it has one, as patches by chunk.
	logID   pack.ID
	patches map[uint64]Patch
}

// Patches returns the change log's patches of the seeker's node by chunk
// index (nil without a log), loading the log once per node.
func (s *ChunkSeeker) Patches(ctx context.Context) (map[uint64]Patch, error) {
	n := s.node
	if n.Log == nil {
		return nil, nil
	}
	if s.patches != nil && s.logID == *n.Log {
		return s.patches, nil
	}
	lg, err := LoadLog(ctx, s.loader, *n.Log)
	if err != nil {
		return nil, fmt.Errorf("the change log of %s: %w", n.Name, err)
	}
	ops := lg.Ops()
	s.patches = map[uint64]Patch{}
	for i := 0; i < len(ops); {
		j := i
		for j < len(ops) && ops[j].Chunk == ops[i].Chunk {
			j++
		}
		s.patches[ops[i].Chunk] = Patch(ops[i:j:j])
		i = j
	}
	s.logID = *n.Log
	return s.patches, nil
}

type cachedPage struct {
	id   pack.ID
	page *Page
}

// NewChunkSeeker returns a seeker over the chunks of n, whose first keys
// compare with compare (negative, zero, positive as for strings.Compare).
func NewChunkSeeker(loader TreeLoader, n *Node, compare func(a, b string) int) *ChunkSeeker {
	return &ChunkSeeker{loader: loader, node: n, compare: compare, cached: map[int]cachedPage{}}
}

// SetNode makes the seeker seek in the chunks of n from now on, keeping
// the pages it decoded: a reader that follows one key through the
// snapshots of a table (history) loads again only the pages that changed.
func (s *ChunkSeeker) SetNode(n *Node) { s.node = n }

// Floor returns the chunk whose first key is the greatest at or below key,
// the first chunk when key sorts before all of them; ok is false when the
// node has no chunks with first keys.
func (s *ChunkSeeker) Floor(ctx context.Context, key string) (id pack.ID, ok bool, err error) {
	n := s.node
	if n.Pages == nil {
		if len(n.Chunks) != len(n.Content) || len(n.Content) == 0 {
			return pack.ID{}, false, nil
		}
		i := sort.Search(len(n.Chunks), func(i int) bool { return s.compare(n.Chunks[i].FirstKey, key) > 0 })
		return n.Content[max(i-1, 0)], true, nil
	}
	id = *n.Pages
	for depth := 0; depth <= MaxPageLevel; depth++ {
		pg, err := s.load(ctx, id, depth)
		if err != nil {
			return pack.ID{}, false, fmt.Errorf("page %s of %s: %w", id.Short(), n.Name, err)
		}
		es := pg.Entries
		i := sort.Search(len(es), func(i int) bool { return s.compare(es[i].FirstKey, key) > 0 })
		id = es[max(i-1, 0)].ID
		if pg.Level == 0 {
			return id, true, nil
		}
	}
	return pack.ID{}, false, fmt.Errorf("chunk list of %s: %w: pages deeper than %d levels", n.Name, ErrDamaged, MaxPageLevel)
}

// FloorRef is Floor returning the effective chunk (its position, key index
// entry and, when the node has a change log, its patch).
func (s *ChunkSeeker) FloorRef(ctx context.Context, key string) (ChunkRef, bool, error) {
	n := s.node
	if n.Pages == nil {
		if len(n.Chunks) != len(n.Content) || len(n.Content) == 0 {
			return ChunkRef{}, false, nil
		}
		i := sort.Search(len(n.Chunks), func(i int) bool { return s.compare(n.Chunks[i].FirstKey, key) > 0 })
		i = max(i-1, 0)
		return ChunkRef{ID: n.Content[i], Index: uint64(i), Info: n.Chunks[i], HasInfo: true}, true, nil
	}
	patches, err := s.Patches(ctx)
	if err != nil {
		return ChunkRef{}, false, err
	}
	id := *n.Pages
	var index uint64
	for depth := 0; depth <= MaxPageLevel; depth++ {
		pg, err := s.load(ctx, id, depth)
		if err != nil {
			return ChunkRef{}, false, fmt.Errorf("page %s of %s: %w", id.Short(), n.Name, err)
		}
		es := pg.Entries
		i := sort.Search(len(es), func(i int) bool { return s.compare(es[i].FirstKey, key) > 0 })
		i = max(i-1, 0)
		for _, e := range es[:i] {
			index += e.Chunks
		}
		e := es[i]
		if pg.Level > 0 {
			id = e.ID
			continue
		}
		c := ChunkRef{ID: e.ID, Index: index, HasInfo: true, Info: ChunkInfo{FirstKey: e.FirstKey, Rows: e.Rows, Bytes: e.Bytes}}
		if pt := patches[index]; pt != nil {
			rows, size, err := pt.Effective(index, c.Info.Rows, c.Info.Bytes)
			if err != nil {
				return ChunkRef{}, false, fmt.Errorf("the change log of %s: %w", n.Name, err)
			}
			c.Patch, c.Info.Rows, c.Info.Bytes = pt, rows, size
		}
		return c, true, nil
	}
	return ChunkRef{}, false, fmt.Errorf("chunk list of %s: %w: pages deeper than %d levels", n.Name, ErrDamaged, MaxPageLevel)
}

// load returns page id, the depth-th on the way down.
func (s *ChunkSeeker) load(ctx context.Context, id pack.ID, depth int) (*Page, error) {
	if c, ok := s.cached[depth]; ok && c.id == id {
		return c.page, nil
	}
	b, err := s.loader.LoadBlob(ctx, id)
	if err != nil {
		return nil, err
	}
	pg, err := DecodePage(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	s.cached[depth] = cachedPage{id: id, page: pg}
	return pg, nil
}

// KeyBounds is a range of keys for ChunkSeeker.Range, given by two tests
// of a first key, each monotone in the keys' order (After false, then
// true for all greater keys; EndsBefore true, then false): After reports
// whether key sorts after the range, EndsBefore whether every key below
// key sorts before the range (so a chunk that ends where a chunk starting
// at key begins holds nothing of it). A nil test leaves that end open.
type KeyBounds struct {
	EndsBefore func(key string) bool
	After      func(key string) bool
}

// Range calls fn, in order, for each chunk that may hold a key within b:
// chunk i holds the keys from its first key up to the next chunk's, so
// it is left out when its first key is after the range, or when every key
// below the next chunk's first key is before it. Over pages it descends only into the
// entries whose keys overlap the range, and checks each page it loads
// against its entry in the page above as walks do (ErrDamaged). ChunkRef
// carries the chunk's position and key index entry. It returns the number
// of chunks of the node.
func (s *ChunkSeeker) Range(ctx context.Context, b KeyBounds, fn func(ChunkRef) error) (chunks uint64, err error) {
	after := func(k string) bool { return b.After != nil && b.After(k) }
	before := func(k string) bool { return b.EndsBefore != nil && b.EndsBefore(k) }
	n := s.node
	if n.Pages == nil {
		if len(n.Chunks) != len(n.Content) {
			return 0, fmt.Errorf("chunk list of %s: %w: %d key index entries for %d chunks", n.Name, ErrDamaged, len(n.Chunks), len(n.Content))
		}
		chunks = uint64(len(n.Chunks))
		for i, c := range n.Chunks {
			if after(c.FirstKey) {
				return chunks, nil
			}
			if i+1 < len(n.Chunks) && before(n.Chunks[i+1].FirstKey) {
				continue
			}
			if err := fn(ChunkRef{ID: n.Content[i], Index: uint64(i), Info: c, HasInfo: true}); err != nil {
				return chunks, err
			}
		}
		return chunks, nil
	}
	patches, err := s.Patches(ctx)
	if err != nil {
		return 0, err
	}
	rs := &rangeSeek{ctx: ctx, walker: &Walker{Loader: s.loader}, node: n, after: after, before: before, fn: fn, patches: patches}
	_, err = rs.page(*n.Pages, nil, nil, 0)
	return rs.chunks, err
}

// rangeSeek is one Range over pages.
type rangeSeek struct {
	ctx           context.Context
	walker        *Walker // loads and checks pages
	node          *Node
	after, before func(string) bool
	fn            func(ChunkRef) error
	chunks        uint64 // of the node: the root page's sum
	patches       map[uint64]Patch
}

// page visits the entries of page id that overlap the range; next is the
// first key after the page's last chunk (nil: none), index the position
// of its first chunk. done is true once a first key after the range was
// met: no later chunk can be in it. Each page's level is one less than its
// parent's (loadPage checks it), so the recursion is at most MaxPageLevel
// deep.
func (rs *rangeSeek) page(id pack.ID, want *pageWant, next *string, index uint64) (done bool, err error) {
	if err := rs.ctx.Err(); err != nil {
		return false, err
	}
	pg, err := rs.walker.loadPage(rs.ctx, id, want)
	if err != nil {
		return false, fmt.Errorf("reading the chunk list of %s: page %s: %w", rs.node.Name, id.Short(), err)
	}
	if want == nil {
		rs.chunks = pg.Totals().Chunks
	}
	for i := range pg.Entries {
		e := &pg.Entries[i]
		if rs.after(e.FirstKey) && !(index == 0 && !(ChunkRef{Patch: rs.patches[0]}).StartsAtKey()) {
			// (The first chunk may hold rows a change log inserted
			// before its first key.)
			return true, nil
		}
		following := next
		if i+1 < len(pg.Entries) {
			following = &pg.Entries[i+1].FirstKey
		}
		if following != nil && rs.before(*following) {
			index += e.Chunks
			continue
		}
		if pg.Level > 0 {
			done, err := rs.page(e.ID, &pageWant{level: pg.Level - 1, entry: *e}, following, index)
			if done || err != nil {
				return done, err
			}
			index += e.Chunks
			continue
		}
		c := ChunkRef{ID: e.ID, Index: index, HasInfo: true, Info: ChunkInfo{FirstKey: e.FirstKey, Rows: e.Rows, Bytes: e.Bytes}}
		if pt := rs.patches[index]; pt != nil {
			rows, size, err := pt.Effective(index, c.Info.Rows, c.Info.Bytes)
			if err != nil {
				return false, fmt.Errorf("the change log of %s: %w", rs.node.Name, err)
			}
			c.Patch, c.Info.Rows, c.Info.Bytes = pt, rows, size
		}
		index++
		if err := rs.fn(c); err != nil {
			return false, err
		}
	}
	return false, nil
}
