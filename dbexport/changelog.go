package dbexport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"strconv"
	"sync/atomic"

	"strata/chunk"
	"strata/pack"
	"strata/repo"
	"strata/repo/archive"
)

// This file writes a table's change log (docs/design.md, "Table change
// logs"): instead of storing the chunks of the export that differ from the
// base (the chunk list of the parent's pages), a backup stores one data
// blob of the rows deleted, replaced and inserted since that base, as a
// delta blob against the parent's log.

// Bounds of a change log: beyond them a backup writes a new base.
const (
	// logBaseShare: a log larger than 1/logBaseShare of the base's bytes.
	logBaseShare = 8
	// maxLogDepth: backups since the base. A base is also written where
	// the parent's log's delta chain is full (Repository.ChainFull: 8 to
	// 16 links with the default max_delta_depth), so that a log is never
	// stored against the first log, which would repeat every change since
	// it. Measured in make bench-db (docs/benchmarks.md, "Table change
	// logs: new bases"): the tables then rebase in different hours, each
	// after 9 to 16 backups, instead of all together every 8.
	maxLogDepth = 16
	// logWindow: base chunks looked ahead for the next unchanged chunk.
	logWindow = 256
	// maxRunBytes: bytes of base and export in one run of changed chunks,
	// which the row diff holds in memory.
	maxRunBytes = 64 << 20
)

var debugLog = false

// errNoLog: the export does not fit a change log; write a new base.
var errNoLog = errors.New("no change log")

// logBase returns whether a backup of t may write a change log against
// parent, with the parent's log (nil: none).
func logBase(ctx context.Context, r Repository, t *Table, parent *repo.Node) (*repo.TableLog, bool) {
	if parent == nil || parent.Pages == nil || parent.Kind != repo.NodeTable {
		return nil, false
	}
	var pt Table
	if err := json.Unmarshal([]byte(parent.Meta[repo.TableMetaTable]), &pt); err != nil {
		return nil, false
	}
	if !reflect.DeepEqual(pt.Columns, t.Columns) || !reflect.DeepEqual(pt.PrimaryKey, t.PrimaryKey) {
		return nil, false // a schema change: a new base
	}
	if parent.Log == nil {
		return nil, true
	}
	if r.ChainFull(*parent.Log) {
		return nil, false // the log's delta would span every change since the first log
	}
	lg, err := repo.LoadLog(ctx, onceLoader{r}, *parent.Log)
	if err != nil || lg.Depth >= maxLogDepth {
		return nil, false
	}
	return lg, true
}

// onceLoader loads blobs without keeping delta bases in the cache.
type onceLoader struct{ r Repository }

func (l onceLoader) LoadBlob(ctx context.Context, id pack.ID) ([]byte, error) {
	return l.r.LoadBlobOnce(ctx, id)
}

// logExport is one table backup that writes a change log.
type logExport struct {
	r        Repository
	t        *Table
	keyCols  []int
	parent   *repo.Node
	plog     *repo.TableLog
	pruns    map[uint64]*repo.LogRun // the parent's runs by first chunk
	base     *baseStream
	limit    uint64 // log bytes allowed
	logBytes uint64
	runs     []repo.LogRun
	rowsOf   map[uint64]uint64 // rows of the base chunks of the open run and the anchor before it
}

// backupLog exports t and writes its change log against parent's base. It
// returns errNoLog when the table needs a new base instead (nothing was
// stored then).
func backupLog(ctx context.Context, r Repository, src Source, schema *Schema, t *Table, parent *repo.Node, plog *repo.TableLog, counters *archive.Counters) (*repo.Node, error) {
	rowsDone := &counters.Rows
	root, err := r.LoadBlob(ctx, *parent.Pages)
	if err != nil {
		return nil, errNoLog
	}
	pg, err := repo.DecodePage(root)
	if err != nil {
		return nil, errNoLog
	}
	totals := pg.Totals()
	e := &logExport{r: r, t: t, keyCols: t.KeyColumns(), parent: parent, plog: plog, pruns: map[uint64]*repo.LogRun{},
		limit: min(totals.Bytes/logBaseShare, repo.MaxLogSize-1024), rowsOf: map[uint64]uint64{}}
	if plog != nil {
		for i := range plog.Runs {
			e.pruns[plog.Runs[i].FirstChunk] = &plog.Runs[i]
		}
	}
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.base = newBaseStream(bctx, r, parent)
	defer e.base.stop()

	pr, pw := io.Pipe()
	var rows int64
	copyErr := make(chan error, 1)
	go func() {
		n, err := copyOut(ctx, src, t, pw)
		rows = n
		pw.CloseWithError(err)
		copyErr <- err
	}()
	size, counted, err := e.export(ctx, pr, rowsDone, &counters.BytesRead)
	if errors.Is(err, errNoLog) {
		// The new base is exported again on the same snapshot
		// connections, so the engine's query runs to its end: a
		// PostgreSQL COPY whose writer fails closes its connection, and
		// with it the snapshot's transaction (docs/design.md, "Table
		// change logs").
		_, _ = io.Copy(io.Discard, pr)
	}
	pr.CloseWithError(errNoLog)
	cerr := <-copyErr
	if err != nil {
		if counted > 0 {
			rowsDone.Add(^(counted - 1)) // the base export counts them again
		}
		if size > 0 {
			counters.BytesRead.Add(^(size - 1))
		}
		if errors.Is(err, errNoLog) && cerr == nil {
			return nil, errNoLog
		}
		if cerr != nil {
			return nil, fmt.Errorf("exporting table %s: %w", t.QualifiedName(), cerr)
		}
		return nil, fmt.Errorf("saving table %s: %w", t.QualifiedName(), err)
	}
	if cerr != nil {
		return nil, fmt.Errorf("exporting table %s: %w", t.QualifiedName(), cerr)
	}
	t.Rows = rows
	meta, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	node := &repo.Node{
		Name: t.NodeName(), Kind: repo.NodeTable, Mode: 0o600, Size: size, Pages: parent.Pages,
		Meta: map[string]string{
			"engine": schema.Engine, "server_version": schema.ServerVersion, "encoding": schema.Encoding,
			repo.TableMetaRows: strconv.FormatInt(rows, 10), repo.TableMetaTable: string(meta),
		},
	}
	if len(e.runs) == 0 {
		return node, nil // the base itself
	}
	depth := uint64(1)
	if plog != nil {
		depth = plog.Depth + 1
	}
	lg := &repo.TableLog{BaseChunks: totals.Chunks, BaseRows: totals.Rows, Depth: depth, Runs: e.runs}
	b, err := repo.EncodeLog(lg)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t.QualifiedName(), err)
	}
	if uint64(len(b)) > e.limit {
		return nil, errNoLog
	}
	var logBase pack.ID
	if parent.Log != nil {
		logBase = *parent.Log
	}
	res, err := r.SaveBlob(ctx, pack.DataBlob, b, logBase)
	if err != nil {
		return nil, fmt.Errorf("saving the change log of table %s: %w", t.QualifiedName(), err)
	}
	if res.Stored > 0 {
		counters.BytesAdded.Add(uint64(res.Stored))
		counters.BlobsAdded.Add(1)
	}
	node.Log = &res.ID
	return node, nil
}

// chunkFirstKey is the key of a chunk's first row, as the pages record it.
func chunkFirstKey(data []byte, keyCols []int) string {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	}
	return FirstKey(data, keyCols)
}

// copyOut runs the table's COPY into w, batching the engine's writes.
func copyOut(ctx context.Context, src Source, t *Table, w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	n, err := src.CopyOut(ctx, t, bw)
	if err == nil {
		err = bw.Flush()
	}
	return n, err
}

// newChunk is a chunk of the export that is not in the base.
type newChunk struct {
	id   pack.ID
	data []byte
}

// export chunks the COPY text of rd and aligns it with the base, writing a
// run for each stretch of chunks that differ. It returns the bytes read and
// the rows it counted in rowsDone.
func (e *logExport) export(ctx context.Context, rd io.Reader, rowsDone, bytesRead *atomic.Uint64) (uint64, uint64, error) {
	ch := chunk.New(rd, e.r.Config().TableChunkParams())
	var (
		size, counted uint64
		open          bool
		start         uint64 // the open run's first base chunk
		news          []newChunk
		runBytes      uint64
	)
	for {
		data, err := ch.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return size, counted, err
		}
		n := uint64(bytes.Count(data, []byte{'\n'}))
		rowsDone.Add(n)
		counted += n
		size += uint64(len(data))
		bytesRead.Add(uint64(len(data)))
		id := e.r.BlobID(data)
		q, found, err := e.base.find(id)
		if err != nil {
			return size, counted, err
		}
		if !found {
			// A changed chunk that starts at the first key of a base
			// chunk ends the run before it there: runs stay one chunk
			// long where the cuts did not move, and an hour re-reads only
			// the runs it changed.
			if q, ok := e.base.findKey(chunkFirstKey(data, e.keyCols)); ok && (open && q > start || !open) {
				if !open {
					start = e.base.head
				}
				gone := e.base.take(q)
				if len(gone) > 0 || len(news) > 0 {
					if err := e.finish(ctx, start, gone, news); err != nil {
						return size, counted, err
					}
				}
				rows, known := e.rowsOf[q-1]
				clear(e.rowsOf)
				if known {
					e.rowsOf[q-1] = rows
				}
				open, start, news, runBytes = true, q, nil, 0
			}
			if !open {
				open, start = true, e.base.head
			}
			news = append(news, newChunk{id: id, data: bytes.Clone(data)})
			if runBytes += uint64(len(data)); runBytes > maxRunBytes {
				return size, counted, errNoLog
			}
			continue
		}
		if !open && q > e.base.head {
			open, start = true, e.base.head
		}
		gone := e.base.take(q)
		anchor := e.base.pop()
		if open {
			if err := e.finish(ctx, start, gone, news); err != nil {
				return size, counted, err
			}
		}
		open, news, runBytes = false, nil, 0
		clear(e.rowsOf)
		e.rowsOf[anchor.Index] = anchor.Info.Rows
	}
	rest, err := e.base.rest(maxRunBytes - runBytes)
	if err != nil {
		return size, counted, err
	}
	if !open && len(rest) > 0 {
		open, start = true, rest[0].Index
	}
	if open {
		if err := e.finish(ctx, start, rest, news); err != nil {
			return size, counted, err
		}
	}
	if err := e.base.end(); err != nil {
		return size, counted, err
	}
	return size, counted, nil
}

// finish writes the run of base chunks gone (from chunk start) that the
// export's chunks news cover: the parent's run when it is the same, else
// the ops of a row diff.
func (e *logExport) finish(ctx context.Context, start uint64, gone []repo.ChunkRef, news []newChunk) error {
	run := repo.LogRun{FirstChunk: start, BaseCount: uint64(len(gone)), ExportCount: uint64(len(news))}
	h := sha256.New()
	for _, c := range news {
		h.Write(c.id[:])
	}
	copy(run.Export[:], h.Sum(nil))
	var baseBytes uint64
	for _, c := range gone {
		e.rowsOf[c.Index] = c.Info.Rows
		baseBytes += c.Info.Bytes
	}
	if baseBytes > maxRunBytes {
		return errNoLog
	}
	if p := e.pruns[start]; p != nil && p.BaseCount == run.BaseCount && p.ExportCount == run.ExportCount && p.Export == run.Export {
		run.Ops = p.Ops
	} else {
		ops, err := e.diff(ctx, start, gone, news)
		if err != nil {
			return err
		}
		if debugLog {
			var gi []string
			for _, g := range gone {
				gi = append(gi, fmt.Sprintf("%d:%d", g.Index, g.Info.Rows))
			}
			fmt.Printf("run start %d gone %v news %d ops %d\n", start, gi, len(news), len(ops))
			for _, op := range ops {
				fmt.Printf("  op %d %d/%d\n", op.Kind, op.Chunk, op.Row)
			}
		}
		run.Ops = ops
	}
	for i := range run.Ops {
		e.logBytes += uint64(len(run.Ops[i].Line)) + 8
	}
	e.logBytes += 48
	if e.logBytes > e.limit {
		return errNoLog
	}
	e.runs = append(e.runs, run)
	return nil
}

// baseRow is one row of the base: its chunk, its row in the chunk, its line.
type baseRow struct {
	chunk, row uint64
	line       []byte
}

// diff returns the ops that turn the rows of the base chunks gone into the
// rows of news. Rows match by key (the primary key's fields, or the whole
// row), in order: a base row is matched to the first new row of its key
// after the last match; unmatched base rows are deleted, unmatched new
// rows inserted, matched rows that differ replaced.
func (e *logExport) diff(ctx context.Context, start uint64, gone []repo.ChunkRef, news []newChunk) ([]repo.LogOp, error) {
	var brows []baseRow
	for _, c := range gone {
		data, err := e.r.LoadBlobOnce(ctx, c.ID)
		if err != nil {
			return nil, errNoLog // an unreadable base: write a new one
		}
		var row uint64
		for len(data) > 0 {
			nl := bytes.IndexByte(data, '\n')
			if nl < 0 {
				return nil, errNoLog
			}
			brows = append(brows, baseRow{chunk: c.Index, row: row, line: data[:nl]})
			data = data[nl+1:]
			row++
		}
	}
	byKey := map[string][]int{}
	for i := range brows {
		k := FirstKey(brows[i].line, e.keyCols)
		byKey[k] = append(byKey[k], i)
	}
	var ops []repo.LogOp
	var pending [][]byte
	bi, last := 0, -1
	insertAt := func(b int) (uint64, uint64) {
		if b < len(brows) {
			r := brows[b]
			if r.row > 0 || r.chunk == 0 {
				return r.chunk, r.row
			}
			return r.chunk - 1, e.rowsOf[r.chunk-1]
		}
		// After the run's last base row.
		switch {
		case len(gone) > 0:
			c := gone[len(gone)-1].Index
			return c, e.rowsOf[c]
		case start > 0:
			return start - 1, e.rowsOf[start-1]
		}
		return 0, 0
	}
	flush := func(b int) {
		c, r := insertAt(b)
		for _, l := range pending {
			ops = append(ops, repo.LogOp{Kind: repo.LogInsert, Chunk: c, Row: r, Line: l})
		}
		pending = pending[:0]
	}
	for _, nc := range news {
		data := nc.data
		for len(data) > 0 {
			nl := bytes.IndexByte(data, '\n')
			if nl < 0 {
				return nil, errNoLog
			}
			line := data[:nl]
			data = data[nl+1:]
			k := FirstKey(line, e.keyCols)
			cands := byKey[k]
			for len(cands) > 0 && cands[0] <= last {
				cands = cands[1:]
			}
			if len(cands) == 0 {
				byKey[k] = cands
				pending = append(pending, line)
				continue
			}
			b := cands[0]
			byKey[k] = cands[1:]
			for ; bi < b; bi++ {
				ops = append(ops, repo.LogOp{Kind: repo.LogDelete, Chunk: brows[bi].chunk, Row: brows[bi].row, OldLen: uint64(len(brows[bi].line))})
			}
			flush(b)
			if !bytes.Equal(brows[b].line, line) {
				ops = append(ops, repo.LogOp{Kind: repo.LogReplace, Chunk: brows[b].chunk, Row: brows[b].row, OldLen: uint64(len(brows[b].line)), Line: line})
			}
			bi, last = b+1, b
		}
	}
	for ; bi < len(brows); bi++ {
		ops = append(ops, repo.LogOp{Kind: repo.LogDelete, Chunk: brows[bi].chunk, Row: brows[bi].row, OldLen: uint64(len(brows[bi].line))})
	}
	flush(len(brows))
	// The lines point into the export's chunks: copy them out, so that
	// the log holds its rows only, not the run's chunks.
	n := 0
	for i := range ops {
		n += len(ops[i].Line)
	}
	arena := make([]byte, 0, n)
	for i := range ops {
		if ops[i].Line != nil {
			start := len(arena)
			arena = append(arena, ops[i].Line...)
			ops[i].Line = arena[start:len(arena):len(arena)]
		}
	}
	return ops, nil
}

// baseStream streams the chunks of the base (the parent's pages, without
// its log) with a window of lookahead.
type baseStream struct {
	ch     chan repo.ChunkRef
	errc   chan error
	cancel context.CancelFunc
	win    []repo.ChunkRef // the chunks from head on that were received
	byID   map[pack.ID][]uint64
	byKey  map[string][]uint64 // the window's chunks by first key
	head   uint64              // index of the next base chunk not yet aligned
	ended  bool
	err    error
}

func newBaseStream(ctx context.Context, r Repository, parent *repo.Node) *baseStream {
	ctx, cancel := context.WithCancel(ctx)
	s := &baseStream{ch: make(chan repo.ChunkRef, 64), errc: make(chan error, 1), cancel: cancel, byID: map[pack.ID][]uint64{}, byKey: map[string][]uint64{}}
	base := *parent
	base.Log = nil
	go func() {
		w := repo.Walker{Loader: r, Chunk: func(_ string, _ *repo.Node, c repo.ChunkRef) error {
			select {
			case s.ch <- c:
				return nil
			case <-ctx.Done():
				return fs.SkipAll
			}
		}}
		err := w.WalkContent(ctx, base.Name, &base)
		close(s.ch)
		s.errc <- err
	}()
	return s
}

func (s *baseStream) stop() {
	s.cancel()
	for range s.ch {
	}
}

// fill receives chunks until the window holds n or the base ended.
func (s *baseStream) fill(n int) {
	for len(s.win) < n && !s.ended {
		c, ok := <-s.ch
		if !ok {
			s.ended = true
			s.err = <-s.errc
			return
		}
		s.win = append(s.win, c)
		s.byID[c.ID] = append(s.byID[c.ID], c.Index)
		if k := c.Info.FirstKey; len(k) < repo.MaxFirstKey {
			s.byKey[k] = append(s.byKey[k], c.Index)
		}
	}
}

// findKey returns the index of the first chunk at or after head within
// the window whose first key is key (a key cut at repo.MaxFirstKey names
// none).
func (s *baseStream) findKey(key string) (uint64, bool) {
	if len(key) >= repo.MaxFirstKey {
		return 0, false
	}
	s.fill(logWindow)
	idx := s.byKey[key]
	for len(idx) > 0 && idx[0] < s.head {
		idx = idx[1:]
	}
	if len(idx) == 0 {
		delete(s.byKey, key)
		return 0, false
	}
	s.byKey[key] = idx
	return idx[0], true
}

// forget drops chunk c, which left the window, from byID, so that it
// holds the window's chunks only.
func (s *baseStream) forget(c repo.ChunkRef) {
	idx := s.byID[c.ID]
	if len(idx) > 0 && idx[0] == c.Index {
		idx = idx[1:]
	}
	if len(idx) == 0 {
		delete(s.byID, c.ID)
	} else {
		s.byID[c.ID] = idx
	}
	k := c.Info.FirstKey
	if keys := s.byKey[k]; len(keys) > 0 && keys[0] == c.Index {
		if len(keys) == 1 {
			delete(s.byKey, k)
		} else {
			s.byKey[k] = keys[1:]
		}
	}
}

// find returns the index of the first chunk at or after head within the
// window whose ID is id.
func (s *baseStream) find(id pack.ID) (uint64, bool, error) {
	s.fill(logWindow)
	if s.err != nil {
		return 0, false, errNoLog
	}
	idx := s.byID[id]
	for len(idx) > 0 && idx[0] < s.head {
		idx = idx[1:]
	}
	if len(idx) == 0 {
		delete(s.byID, id)
		return 0, false, nil
	}
	s.byID[id] = idx
	return idx[0], true, nil
}

// take removes and returns the chunks from head up to q.
func (s *baseStream) take(q uint64) []repo.ChunkRef {
	n := q - s.head
	out := append([]repo.ChunkRef(nil), s.win[:n]...)
	for _, c := range out {
		s.forget(c)
	}
	s.win = s.win[n:]
	s.head = q
	return out
}

// pop removes and returns the chunk at head.
func (s *baseStream) pop() repo.ChunkRef {
	c := s.win[0]
	s.forget(c)
	s.win = s.win[1:]
	s.head++
	return c
}

// rest returns every chunk not yet aligned, failing with errNoLog past
// limit bytes.
func (s *baseStream) rest(limit uint64) ([]repo.ChunkRef, error) {
	var out []repo.ChunkRef
	var size uint64
	for {
		s.fill(1)
		if s.err != nil {
			return nil, errNoLog
		}
		if len(s.win) == 0 {
			return out, nil
		}
		c := s.pop()
		if size += c.Info.Bytes; size > limit {
			return nil, errNoLog
		}
		out = append(out, c)
	}
}

// end reports a base walk that failed.
func (s *baseStream) end() error {
	if s.err != nil {
		return errNoLog
	}
	return nil
}
