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
