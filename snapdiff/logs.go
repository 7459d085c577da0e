package snapdiff

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"

	"strata/pack"
	"strata/repo"
)

// This file diffs a table whose two snapshots share a base, the same
// chunk list, and differ in their change logs (docs/design.md, "Table
// change logs", "Diff"): the base is walked once, each base chunk takes
// A's and B's ops on it, and a chunk whose two patches differ is compared
// by base row position. Only the rows the two patches treat differently
// are compared, and the base chunk is loaded only when one side keeps a
// base row that the other deletes or replaces (its old value).

// spanSource is what the span workers take spans from: an aligner of two
// chunk lists, or a logAligner of one base and two logs.
type spanSource interface {
	// nextSpan returns the next span that differs; ok is false at the
	// end or on an error, which err then returns.
	nextSpan() (sp span, ok bool)
	err() error
	// sharedChunks counts the chunks both sides share, passed over
	// unread, and their bytes on both sides.
	sharedChunks() (chunks, bytes uint64)
}

// sharesBase reports whether the table nodes na and nb have the same base
// and at least one a change log, so the diff can compare their logs.
func sharesBase(na, nb *repo.Node) bool {
	return na != nil && nb != nil && na.Pages != nil && nb.Pages != nil && *na.Pages == *nb.Pages &&
		(na.Log != nil || nb.Log != nil)
}

// countingLoader counts the bytes of the blobs it loads.
type countingLoader struct {
	Loader
	n *atomic.Uint64
}

func (c countingLoader) LoadBlob(ctx context.Context, id pack.ID) ([]byte, error) {
	b, err := c.Loader.LoadBlob(ctx, id)
	c.n.Add(uint64(len(b)))
	return b, err
}

// logAligner streams the chunks of one base with the ops of A's and B's
// logs attached (a nil cursor: that side is the base itself) and cuts
// them into spans of one base chunk each, as the aligner would cut the
// two effective chunk lists: a chunk whose patches are equal is shared,
// and a span ends at the next base chunk, whose first key both sides
// start at.
type logAligner struct {
	base         *chunkStream // the base's chunks, without patches
	la, lb       *repo.LogCursor
	snapA, snapB string
	path         string
	cur          *repo.ChunkRef // the next base chunk
	chunks       uint64         // base chunks streamed
	shared       uint64
	sharedBytes  uint64
	e            error
}

// newLogAligner loads the logs of na and nb, which share a base, and
// starts the walk of the base. logBytes counts the logs' bytes,
// pageBytes the pages'.
func newLogAligner(ctx context.Context, l Loader, snapA, snapB, path string, na, nb *repo.Node, logBytes, pageBytes *atomic.Uint64) (*logAligner, error) {
	al := &logAligner{snapA: snapA, snapB: snapB, path: path}
	cl := countingLoader{Loader: l, n: logBytes}
	// B's log is stored as a delta against A's (or a later one): loaded
	// first, its chain leaves A's in the blob cache.
	for _, side := range []struct {
		n    *repo.Node
		snap string
		cur  **repo.LogCursor
	}{{nb, snapB, &al.lb}, {na, snapA, &al.la}} {
		if side.n.Log == nil {
			continue
		}
		lg, err := repo.LoadLog(ctx, cl, *side.n.Log)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: reading the change log of %s: %w", side.snap, path, err)
		}
		*side.cur = repo.NewLogCursor(lg)
	}
	base := *nb
	base.Log = nil
	al.base = streamChunks(ctx, l, snapB, path, &base, pageBytes)
	al.cur = al.base.next()
	return al, nil
}

// patch returns base chunk c as one side sees it: with the ops of that
// side's log on it, and its effective rows and bytes.
func (al *logAligner) patch(cur *repo.LogCursor, snap string, c repo.ChunkRef) (repo.ChunkRef, error) {
	if cur == nil {
		return c, nil
	}
	var err error
	if c.Patch, c.Info, err = cur.Patch(al.path, c.Index, c.Info); err != nil {
		return c, fmt.Errorf("snapshot %s: %w", snap, err)
	}
	return c, nil
}

func (al *logAligner) nextSpan() (span, bool) {
	for al.cur != nil && al.e == nil {
		c := *al.cur
		al.chunks++
		ra, err := al.patch(al.la, al.snapA, c)
		if err != nil {
			al.e = err
			break
		}
		rb, err := al.patch(al.lb, al.snapB, c)
		if err != nil {
			al.e = err
			break
		}
		al.cur = al.base.next()
		if ra.Same(rb) {
			al.shared++
			al.sharedBytes += 2 * ra.Info.Bytes
			continue
		}
		sp := span{a: []repo.ChunkRef{ra}, b: []repo.ChunkRef{rb}, base: &c}
		if al.cur != nil {
			sp.end, sp.hasEnd = al.cur.Info.FirstKey, true
		}
		return sp, true
	}
	if al.e == nil && al.base.err == nil {
		// The whole base was streamed: both logs must be of it.
		for _, side := range []struct {
			cur  *repo.LogCursor
			snap string
		}{{al.la, al.snapA}, {al.lb, al.snapB}} {
			if side.cur == nil {
				continue
			}
			if err := side.cur.Finish(al.path, al.chunks); err != nil {
				al.e = fmt.Errorf("snapshot %s: %w", side.snap, err)
				break
			}
		}
	}
	return span{}, false
}

func (al *logAligner) err() error {
	if al.e != nil {
		return al.e
	}
	return al.base.err
}

func (al *logAligner) sharedChunks() (uint64, uint64) { return al.shared, al.sharedBytes }

// baseNeed is a row of a side's lines that is the base chunk's row row,
// filled in once the chunk is loaded.
type baseNeed struct {
	lines *[]line
	i     int
	row   uint64
}

// patchLines returns, for a span of one base chunk, the rows that A's and
// B's patches treat differently, each side's in the order of its
// effective chunk: at each base row position, the inserts of both sides
// unless they are the same, and the row itself unless both keep it, both
// delete it or both replace it with the same line. The rows left out are
// the same rows on both sides, so comparing the rest by key gives the
// changes of the whole chunks. The base chunk is loaded only when a row
// one side keeps is needed.
func (d *tableDiffer) patchLines(ctx context.Context, sp span) (la, lb []line, err error) {
	base, ra, rb := sp.base, &sp.a[0], &sp.b[0]
	pa, pb := ra.Patch, rb.Patch
	rows := base.Info.Rows
	var needs []baseNeed
	version := func(lines *[]line, op *repo.LogOp, ref *repo.ChunkRef, eff int, row uint64) {
		switch {
		case op == nil:
			needs = append(needs, baseNeed{lines: lines, i: len(*lines), row: row})
			*lines = append(*lines, line{chunk: ref, row: eff + 1})
		case op.Kind == repo.LogReplace:
			*lines = append(*lines, line{text: op.Line, chunk: ref, row: eff + 1})
		}
	}
	// i and j are the next ops of A and B; effA and effB the rows of each
	// side's effective chunk before position r.
	i, j := 0, 0
	r := nextOpRow(pa, i, pb, j, rows)
	effA, effB := int(r), int(r)
	for {
		ia, jb := insertsAt(pa, i, r), insertsAt(pb, j, r)
		if !sameLines(pa[i:ia], pb[j:jb]) {
			for k := i; k < ia; k++ {
				la = append(la, line{text: pa[k].Line, chunk: ra, row: effA + k - i + 1})
			}
			for k := j; k < jb; k++ {
				lb = append(lb, line{text: pb[k].Line, chunk: rb, row: effB + k - j + 1})
			}
		}
		effA, effB = effA+ia-i, effB+jb-j
		i, j = ia, jb
		if r >= rows {
			break
		}
		var oa, ob *repo.LogOp
		if i < len(pa) && pa[i].Row == r {
			oa, i = &pa[i], i+1
		}
		if j < len(pb) && pb[j].Row == r {
			ob, j = &pb[j], j+1
		}
		if !sameOp(oa, ob) {
			version(&la, oa, ra, effA, r)
			version(&lb, ob, rb, effB, r)
		}
		if oa == nil || oa.Kind == repo.LogReplace {
			effA++
		}
		if ob == nil || ob.Kind == repo.LogReplace {
			effB++
		}
		next := nextOpRow(pa, i, pb, j, rows)
		effA, effB = effA+int(next-r-1), effB+int(next-r-1)
		r = next
	}
	if i < len(pa) || j < len(pb) {
		return nil, nil, fmt.Errorf("table %s: chunk %d (blob %s): %w: a change log op past the chunk's %d rows", d.name, base.Index, base.ID.Short(), repo.ErrDamaged, rows)
	}
	if len(needs) == 0 {
		return la, lb, nil
	}
	if err := d.baseRows(ctx, base, pa, pb, needs); err != nil {
		return nil, nil, err
	}
	return la, lb, nil
}

// chunkBufs holds the buffers base chunks are loaded into: a chunk is
// read once, the rows needed copied out, and the buffer reused. Unlike a
// sync.Pool, which each garbage collection empties, it keeps its buffers
// for the whole diff: a fresh buffer is grown chunk by chunk to the
// largest, each growth a new allocation cleared first, which cost a fifth
// of a consecutive-hour diff's own CPU (docs/benchmarks.md, "Diff").
type chunkBufs chan *[]byte

// newChunkBufs keeps up to n buffers, one per span in flight.
func newChunkBufs(n int) chunkBufs { return make(chunkBufs, n) }

// get returns a kept buffer, or a new one with room for a chunk of size
// bytes.
func (c chunkBufs) get(size uint64) *[]byte {
	select {
	case b := <-c:
		return b
	default:
		b := make([]byte, 0, max(size, chunkBufSize))
		return &b
	}
}

// put keeps buf, unless n are kept already, with the larger of its own
// backing array and used's (what was loaded into it: a new array when the
// chunk did not fit). used's capacity says nothing of buf's: a blob's
// plaintext comes back capped just past its length (pack.Decoder.Decode),
// so keeping used whole would shrink the buffer to each chunk in turn.
func (c chunkBufs) put(buf *[]byte, used []byte) {
	if cap(used) > cap(*buf) {
		*buf = used[:0]
	}
	select {
	case c <- buf:
	default:
	}
}

// chunkBufSize is a new buffer's room: twice the average chunk, so most
// chunks fit without growing it.
const chunkBufSize = 128 << 10

// baseRows loads a base chunk, checks the rows the ops of both patches
// name against it, and fills in the rows needs asks for (copied: the
// chunk's buffer is reused).
func (d *tableDiffer) baseRows(ctx context.Context, base *repo.ChunkRef, pa, pb repo.Patch, needs []baseNeed) error {
	buf := d.bufs.get(base.Info.Bytes)
	data, err := d.l.LoadBlobOnceInto(ctx, base.ID, (*buf)[:0])
	if err != nil {
		d.bufs.put(buf, (*buf)[:0])
		return fmt.Errorf("table %s, snapshots %s and %s: chunk %s: %w", d.name, d.snapA, d.snapB, base.ID.Short(), err)
	}
	defer d.bufs.put(buf, data)
	d.bytesRead.Add(uint64(len(data)))
	d.chunksRead.Add(1)
	starts := make([]int, 0, base.Info.Rows+1)
	for off := 0; off < len(data); {
		starts = append(starts, off)
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			return fmt.Errorf("table %s, snapshots %s and %s: chunk %s: %w: it does not end at the end of a row", d.name, d.snapA, d.snapB, base.ID.Short(), repo.ErrDamaged)
		}
		off += nl + 1
	}
	starts = append(starts, len(data))
	n := uint64(len(starts) - 1)
	if n != base.Info.Rows {
		return fmt.Errorf("table %s: chunk %d (blob %s): %w: %d rows, its entry in the chunk list says %d",
			d.name, base.Index, base.ID.Short(), repo.ErrDamaged, n, base.Info.Rows)
	}
	for _, p := range []repo.Patch{pa, pb} {
		for k := range p {
			op := &p[k]
			if op.Kind != repo.LogInsert && uint64(starts[op.Row+1]-starts[op.Row]-1) != op.OldLen {
				return fmt.Errorf("table %s: chunk %d (blob %s): %w: the change log says row %d has %d bytes, the chunk's has %d",
					d.name, base.Index, base.ID.Short(), repo.ErrDamaged, op.Row, op.OldLen, starts[op.Row+1]-starts[op.Row]-1)
			}
		}
	}
	size := 0
	for _, nd := range needs {
		size += starts[nd.row+1] - starts[nd.row] - 1
	}
	rows := make([]byte, 0, size)
	for _, nd := range needs {
		from := len(rows)
		rows = append(rows, data[starts[nd.row]:starts[nd.row+1]-1]...)
		(*nd.lines)[nd.i].text = rows[from:len(rows):len(rows)]
	}
	return nil
}

// nextOpRow is the lowest row of the next op of either patch, or rows
// when both have none left.
func nextOpRow(pa repo.Patch, i int, pb repo.Patch, j int, rows uint64) uint64 {
	r := rows
	if i < len(pa) {
		r = min(r, pa[i].Row)
	}
	if j < len(pb) {
		r = min(r, pb[j].Row)
	}
	return r
}

// insertsAt returns the end of the inserts at row r that start at op i.
func insertsAt(p repo.Patch, i int, r uint64) int {
	for i < len(p) && p[i].Row == r && p[i].Kind == repo.LogInsert {
		i++
	}
	return i
}

// sameLines reports whether two runs of inserts insert the same lines.
func sameLines(a, b repo.Patch) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !bytes.Equal(a[k].Line, b[k].Line) {
			return false
		}
	}
	return true
}

// sameOp reports whether two sides do the same to a base row: both keep
// it (no op), both delete it, or both replace it with the same line.
func sameOp(a, b *repo.LogOp) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Kind == b.Kind && bytes.Equal(a.Line, b.Line)
}
