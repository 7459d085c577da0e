package snapdiff

import (
	"context"
	"fmt"
	"sync/atomic"

	"strata/pack"
	"strata/repo"
)

// This file walks the chunk lists of one table in two snapshots side by
// side and cuts them into ranges (docs/design.md, "Diff").

// Loader is what a diff reads of a repository: blobs (chunks and pages)
// and trees; and base chunks that it reads once and keeps a few rows of,
// appended to a buffer it reuses (repo.Repository.LoadBlobOnceInto).
type Loader interface {
	LoadBlob(ctx context.Context, id pack.ID) ([]byte, error)
	LoadTree(ctx context.Context, id pack.ID) (*repo.Tree, error)
	LoadBlobOnceInto(ctx context.Context, id pack.ID, dst []byte) ([]byte, error)
}

// chunkStream streams the chunk list of one table node, read through
// repo.Walker in a goroutine, so memory is one page per level.
type chunkStream struct {
	ch   chan repo.ChunkRef
	errc chan error
	err  error
}

// streamChunks starts the walk of n's chunk list; a nil n is an empty
// list (a table one side lacks). pageBytes counts the bytes of the pages
// loaded. snap names the snapshot in the walk's error.
func streamChunks(ctx context.Context, l Loader, snap, path string, n *repo.Node, pageBytes *atomic.Uint64) *chunkStream {
	return streamChunksLog(ctx, l, snap, path, n, pageBytes, nil)
}

// streamChunksLog is streamChunks that counts the bytes of n's change log,
// when it has one, in logBytes.
func streamChunksLog(ctx context.Context, l Loader, snap, path string, n *repo.Node, pageBytes, logBytes *atomic.Uint64) *chunkStream {
	s := &chunkStream{ch: make(chan repo.ChunkRef, 64), errc: make(chan error, 1)}
	if n == nil {
		close(s.ch)
		s.errc <- nil
		return s
	}
	var tl repo.TreeLoader = l
	if logBytes != nil {
		tl = countingLoader{Loader: l, n: logBytes}
	}
	w := repo.Walker{
		Loader: tl,
		LoadPage: func(ctx context.Context, id pack.ID) ([]byte, error) {
			b, err := l.LoadBlob(ctx, id)
			pageBytes.Add(uint64(len(b)))
			return b, err
		},
		Chunk: func(_ string, _ *repo.Node, c repo.ChunkRef) error {
			select {
			case s.ch <- c:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	}
	go func() {
		err := w.WalkContent(ctx, path, n)
		if err != nil && ctx.Err() == nil {
			err = fmt.Errorf("snapshot %s: %w", snap, err)
		}
		close(s.ch)
		s.errc <- err
	}()
	return s
}

// next returns the next chunk, or nil at the end of the list or on an
// error, which err then returns.
func (s *chunkStream) next() *repo.ChunkRef {
	c, ok := <-s.ch
	if !ok {
		if s.errc != nil {
			s.err = <-s.errc
			s.errc = nil
		}
		return nil
	}
	return &c
}

// span is one range: the chunks of A and of B that hold the same keys,
// from a first key both sides start at (or the start) to the next one
// (or the end). end is the first key after the range; hasEnd is false
// when the range runs to the end of both lists.
//
// base is set for a span of a logAligner: a and b are then one effective
// chunk each, base with A's and B's patches, and base the chunk without
// them.
type span struct {
	a, b   []repo.ChunkRef
	end    string
	hasEnd bool
	base   *repo.ChunkRef
}

// aligner cuts two chunk lists into shared chunks and spans.
type aligner struct {
	sa, sb  *chunkStream
	a, b    *repo.ChunkRef
	compare func(a, b string) int
	keyed   bool // both lists record first keys
	// unordered is set when the rows are not stored in the order of the
	// diff's key (rowLayout.unordered): every chunk that differs is then
	// one span, so that equal rows meet wherever each side stores them.
	unordered bool
	shared    uint64
	// sharedBytes counts the bytes of the chunks passed over unread.
	sharedBytes uint64
}

func newAligner(sa, sb *chunkStream, compare func(a, b string) int) *aligner {
	al := &aligner{sa: sa, sb: sb, compare: compare, keyed: true}
	al.a, al.b = sa.next(), sb.next()
	return al
}

// alignable reports whether two chunks start at the same key, which ends
// a span: the rows before them are the same keys on both sides, since
// both lists are in the same order. A first key cut at repo.MaxFirstKey
// names no key, only a prefix.
func alignable(a, b *repo.ChunkRef) bool {
	if !a.StartsAtKey() || !b.StartsAtKey() {
		return false
	}
	if a.ID == b.ID {
		return true
	}
	return a.HasInfo && b.HasInfo && a.Info.FirstKey == b.Info.FirstKey && len(a.Info.FirstKey) < repo.MaxFirstKey
}

// nextSpan passes over the chunks both lists share and returns the next
// span of chunks that differ; ok is false at the end of both lists.
//
// The lists advance by first key, compared with compare; a compare that
// disagrees with the order the rows were exported in (a collation)
// only misses alignments and makes spans longer, never wrong: a span
// ends only where both lists start a chunk at the same key.
func (al *aligner) nextSpan() (sp span, ok bool) {
	for al.a != nil && al.b != nil && al.a.Same(*al.b) {
		al.shared++
		al.sharedBytes += 2 * al.a.Info.Bytes
		al.a, al.b = al.sa.next(), al.sb.next()
	}
	if al.a == nil && al.b == nil {
		return span{}, false
	}
	for al.a != nil || al.b != nil {
		a, b := al.a, al.b
		if al.unordered && a != nil && b != nil && a.Same(*b) {
			// The same rows on both sides: nothing to compare.
			al.shared++
			al.sharedBytes += 2 * a.Info.Bytes
			al.a, al.b = al.sa.next(), al.sb.next()
			continue
		}
		if !al.unordered && a != nil && b != nil && (len(sp.a) > 0 || len(sp.b) > 0) && alignable(a, b) {
			sp.end, sp.hasEnd = a.Info.FirstKey, true
			return sp, true
		}
		c := 0
		switch {
		case b == nil:
			c = -1
		case a == nil:
			c = 1
		case !a.HasInfo || !b.HasInfo:
			// A list without first keys (a snapshot older than the key
			// index) cannot be aligned: the rest is one span.
			al.keyed = false
		default:
			c = al.compare(a.Info.FirstKey, b.Info.FirstKey)
		}
		if c <= 0 && a != nil {
			sp.a = append(sp.a, *a)
			al.a = al.sa.next()
		}
		if c >= 0 && b != nil {
			sp.b = append(sp.b, *b)
			al.b = al.sb.next()
		}
	}
	return sp, true
}

// err is the first error of either walk.
func (al *aligner) err() error {
	if al.sa.err != nil {
		return al.sa.err
	}
	return al.sb.err
}

func (al *aligner) sharedChunks() (uint64, uint64) { return al.shared, al.sharedBytes }
