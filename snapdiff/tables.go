package snapdiff

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"strata/dbexport"
	"strata/pack"
	"strata/repo"
	"strata/verify"
)

// Options describe a diff of two table snapshots.
type Options struct {
	// Tables and Exclude are globs on table names, as backup and restore
	// take them; empty Tables: every table.
	Tables, Exclude []string
	// KeyRange keeps the rows whose keys lie in it; the zero range keeps
	// every row.
	KeyRange dbexport.KeyRange
	// Columns, when set, keeps only updates that change one of these
	// columns, and compares only them.
	Columns []string
	// Limit, when above 0, stops after that many changes (Report.Limited).
	Limit int
	// Rows asks for the rows compared (changes counted and emitted);
	// without it only the definitions and row counts are compared and no
	// chunk is read.
	Rows bool
	// Emit, when set, receives each change, per table in key order. The
	// change and its fields are valid during the call only.
	Emit func(*Change) error
	// Workers is how many spans are loaded and compared at once; 0 means
	// 4.
	Workers int
	// Order, when set, is called with the tables to compare (sorted by
	// name) and both snapshots' schemas (every table, whatever the
	// filters), and returns the tables in the order they are compared
	// in, or an error that ends the diff before any row is read.
	Order func(tables []*TableDiff, a, b *dbexport.Schema) ([]*TableDiff, error)
}

// TableDiff is how one table differs between A and B.
type TableDiff struct {
	Name string          // qualified name
	A, B *dbexport.Table // the definitions; nil on the side that lacks the table
	// Columns are the columns compared: B's, then those only A has.
	Columns []dbexport.Column
	// Key are the key columns (indexes into Columns); Keyed is false for
	// a table without a primary key (or whose key changed), whose rows are
	// keyed by every column both sides have.
	Key   []int
	Keyed bool

	RowsBefore, RowsAfter      int64
	Inserted, Updated, Deleted uint64
	CellsUpdated               uint64 // columns changed, summed over the updated rows
	// Schema lists the changes of the table's definition (columns,
	// types, constraints, indexes), empty when it is the same.
	Schema []string
	// NotInRange is true when Options.KeyRange was set and the table has
	// no primary key to apply it to: its rows were not compared.
	NotInRange bool
	// PositionsMoved is true when a sequence or auto-increment position
	// the table's definition records moved (rows were inserted): state,
	// not a schema change, and not a change of the table's rows.
	PositionsMoved bool

	ChunksRead, ChunksShared uint64
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return 4
}

// Added and Dropped say whether one side lacks the table.
func (t *TableDiff) Added() bool   { return t.A == nil }
func (t *TableDiff) Dropped() bool { return t.B == nil }

// Changed reports whether the table differs at all.
func (t *TableDiff) Changed() bool {
	return t.A == nil || t.B == nil || len(t.Schema) > 0 || t.Inserted+t.Updated+t.Deleted > 0
}

// Report is the result of a diff of two table snapshots.
type Report struct {
	Engine string
	Tables []*TableDiff
	// Schema lists the changes beyond tables: views, sequences,
	// routines, triggers.
	Schema []string
	// SequencesMoved are the sequences (beyond those tables own) whose
	// position moved, which Schema leaves out.
	SequencesMoved []string
	// BytesRead counts the bytes of the chunks, pages and change logs
	// loaded (PageBytes and LogBytes those of the pages and logs); Bytes
	// the bytes of both snapshots' tables; BytesShared the bytes of the
	// chunks both hold, passed over unread (counted on both sides).
	BytesRead, PageBytes, LogBytes, Bytes, BytesShared uint64
	ChunksRead, ChunksShared                           uint64
	// PackBytesRead is for the caller to fill in: the stored bytes read
	// from packs (repo.Repository.PackBytesRead), delta bases included.
	PackBytesRead uint64
	// Limited is true when Options.Limit stopped the diff.
	Limited bool
}

// DiffWording names A and B "before" and "after" in schema changes.
var DiffWording = verify.Wording{
	A: "before", B: "after",
	OnlyA: "dropped", OnlyB: "added",
	StmtA: "dropped", StmtB: "added",
}

// errLimit ends a diff at Options.Limit.
var errLimit = errors.New("limit reached")

// Tables compares the table snapshots whose root trees are rootA and
// rootB. snapA and snapB name them in errors.
func Tables(ctx context.Context, l Loader, rootA, rootB pack.ID, snapA, snapB string, opts Options) (*Report, error) {
	sa, err := dbexport.LoadSchema(ctx, l, rootA)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", snapA, err)
	}
	sb, err := dbexport.LoadSchema(ctx, l, rootB)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", snapB, err)
	}
	if sa.Engine != sb.Engine {
		return nil, fmt.Errorf("snapshot %s is of a %s database, %s of a %s one: a diff compares two snapshots of one engine", snapA, sa.Engine, snapB, sb.Engine)
	}
	all := append(append([]*dbexport.Table{}, sa.Tables...), sb.Tables...)
	if err := dbexport.CheckIncludes(all, opts.Tables, "the two snapshots"); err != nil {
		return nil, err
	}
	rep := &Report{Engine: sb.Engine}
	rep.Schema, rep.SequencesMoved = schemaObjectChanges(sa, sb)
	tables := pairTables(sa, sb, opts)
	if opts.Order != nil {
		if tables, err = opts.Order(tables, sa, sb); err != nil {
			return nil, err
		}
	}
	if err := checkColumns(tables, opts.Columns); err != nil {
		return nil, err
	}
	count := 0
	bufs := newChunkBufs(2 * opts.workers())
	for _, t := range tables {
		rep.Tables = append(rep.Tables, t)
		if !opts.Rows {
			continue
		}
		if ranged(opts.KeyRange) && !t.Keyed {
			t.NotInRange = true
			continue
		}
		err := diffTable(ctx, l, rootA, rootB, snapA, snapB, t, opts, bufs, rep, &count)
		if errors.Is(err, errLimit) {
			rep.Limited = true
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// pairTables lines up the tables of both schemas that opts selects, by
// qualified name, sorted by it.
func pairTables(sa, sb *dbexport.Schema, opts Options) []*TableDiff {
	byName := map[string]*TableDiff{}
	for _, t := range sa.Tables {
		if dbexport.Selected(t, opts.Tables, opts.Exclude) {
			byName[dbexport.EncodeNodeName(t.Schema, t.Name)] = &TableDiff{Name: t.QualifiedName(), A: t, RowsBefore: t.Rows}
		}
	}
	for _, t := range sb.Tables {
		if !dbexport.Selected(t, opts.Tables, opts.Exclude) {
			continue
		}
		// Paired by encoded name: "a.b".c and a."b.c" are two tables,
		// whether or not an older snapshot recorded their node names.
		id := dbexport.EncodeNodeName(t.Schema, t.Name)
		d := byName[id]
		if d == nil {
			d = &TableDiff{Name: t.QualifiedName()}
			byName[id] = d
		}
		d.B, d.RowsAfter = t, t.Rows
	}
	out := make([]*TableDiff, 0, len(byName))
	for _, d := range byName {
		if d.A != nil && d.B != nil {
			tableSchemaChanges(d)
		}
		l := newLayout(d.A, d.B)
		d.Columns, d.Key, d.Keyed = l.columns, l.key, l.keyed
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// tableDiffer compares the rows of one table.
type tableDiffer struct {
	*TableDiff
	l            Loader
	name         string
	snapA, snapB string
	layout       *rowLayout
	bufs         chunkBufs
	bytesRead    atomic.Uint64
	chunksRead   atomic.Uint64
}

// diffTable compares the rows of table t; bufs are the buffers its base
// chunks are loaded into, shared by the tables of one diff.
func diffTable(ctx context.Context, l Loader, rootA, rootB pack.ID, snapA, snapB string, t *TableDiff, opts Options, bufs chunkBufs, rep *Report, count *int) error {
	d := &tableDiffer{TableDiff: t, l: l, name: t.Name, snapA: snapA, snapB: snapB, layout: newLayout(t.A, t.B), bufs: bufs}
	var na, nb *repo.Node
	var err error
	if t.A != nil {
		if na, err = tableNode(ctx, l, rootA, t.A.NodeName(), snapA); err != nil {
			return err
		}
		rep.Bytes += na.Size
	}
	if t.B != nil {
		if nb, err = tableNode(ctx, l, rootB, t.B.NodeName(), snapB); err != nil {
			return err
		}
		rep.Bytes += nb.Size
	}
	for _, side := range []*dbexport.Table{t.A, t.B} {
		if side != nil {
			if _, err := side.RowEncodingOf(); err != nil {
				return err
			}
		}
	}
	columns := columnFilter(t, opts.Columns)
	skip := newSpanSkipper(opts.KeyRange, t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var pageBytes, logBytes atomic.Uint64
	var al spanSource
	path := "/" + t.Name
	if sharesBase(na, nb) && d.layout.same {
		// One base, two logs: compared by base row position.
		if al, err = newLogAligner(ctx, l, snapA, snapB, path, na, nb, &logBytes, &pageBytes); err != nil {
			return fmt.Errorf("table %s: %w", t.Name, err)
		}
	} else {
		ca := newAligner(streamChunksLog(ctx, l, snapA, path, na, &pageBytes, &logBytes),
			streamChunksLog(ctx, l, snapB, path, nb, &pageBytes, &logBytes), dbexport.CompareKeys)
		ca.unordered = d.layout.unordered
		al = ca
	}
	defer func() {
		shared, sharedBytes := al.sharedChunks()
		rep.PageBytes += pageBytes.Load()
		rep.LogBytes += logBytes.Load()
		rep.BytesRead += d.bytesRead.Load() + pageBytes.Load() + logBytes.Load()
		rep.ChunksRead += d.chunksRead.Load()
		rep.ChunksShared += shared
		rep.BytesShared += sharedBytes
		t.ChunksRead, t.ChunksShared = d.chunksRead.Load(), shared
	}()
	emit := func(changes []Change) error {
		for i := range changes {
			c := &changes[i]
			if !holds(opts.KeyRange, c) {
				continue
			}
			if columns != nil && c.Op == OpUpdate {
				if c.Changed = keep(c.Changed, columns); len(c.Changed) == 0 {
					continue
				}
			}
			switch c.Op {
			case OpInsert:
				t.Inserted++
			case OpDelete:
				t.Deleted++
			case OpUpdate:
				t.Updated++
				t.CellsUpdated += uint64(len(c.Changed))
			}
			if opts.Emit != nil {
				if err := opts.Emit(c); err != nil {
					return err
				}
			}
			if *count++; opts.Limit > 0 && *count >= opts.Limit {
				return errLimit
			}
		}
		return nil
	}
	if err := d.spans(ctx, al, skip, opts.workers(), emit); err != nil {
		return err
	}
	if err := al.err(); err != nil {
		return fmt.Errorf("table %s: %w", t.Name, err)
	}
	return nil
}

// spans compares the spans of al on workers goroutines, loading the
// chunks of several spans at once, and hands each span's changes to emit
// in span order. At most 2 x workers spans are in flight, so memory is
// bounded by that many spans.
func (d *tableDiffer) spans(ctx context.Context, al spanSource, skip spanSkipper, workers int, emit func([]Change) error) error {
	type job struct {
		seq int
		sp  span
	}
	type result struct {
		seq     int
		changes []Change
	}
	g, gctx := errgroup.WithContext(ctx)
	jobs, results := make(chan job), make(chan result, workers)
	tokens := make(chan struct{}, 2*workers)
	g.Go(func() error {
		defer close(jobs)
		for seq := 0; ; {
			sp, ok := al.nextSpan()
			if !ok || skip.after(sp) {
				return nil
			}
			if skip.before(sp) {
				continue
			}
			select {
			case tokens <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			select {
			case jobs <- job{seq, sp}:
				seq++
			case <-gctx.Done():
				return gctx.Err()
			}
		}
	})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		g.Go(func() error {
			defer wg.Done()
			for j := range jobs {
				changes, err := d.spanRows(gctx, j.sp)
				if err != nil {
					return err
				}
				select {
				case results <- result{j.seq, changes}:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	g.Go(func() error {
		pending := map[int][]Change{}
		next := 0
		for r := range results {
			pending[r.seq] = r.changes
			for {
				changes, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				<-tokens
				if err := emit(changes); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return g.Wait()
}

// tableNode finds the node of table name in a snapshot's root tree.
func tableNode(ctx context.Context, l Loader, root pack.ID, name, snap string) (*repo.Node, error) {
	n, _, err := dbexport.TableNode(ctx, l, root, name)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", snap, err)
	}
	return n, nil
}

// columnFilter returns the set of compared columns (indexes) that names
// selects, nil for every column.
func columnFilter(t *TableDiff, names []string) map[int]bool {
	if len(names) == 0 {
		return nil
	}
	keepCols := map[int]bool{}
	for _, n := range names {
		for i, c := range t.Columns {
			if c.Name == n {
				keepCols[i] = true
			}
		}
	}
	return keepCols
}

// checkColumns refuses a column name that no compared table has: a typo
// would otherwise hide every update.
func checkColumns(tables []*TableDiff, names []string) error {
	for _, n := range names {
		found := false
		for _, t := range tables {
			for _, c := range t.Columns {
				found = found || c.Name == n
			}
		}
		if !found {
			return fmt.Errorf("--columns %s: no table compared has a column %q", n, n)
		}
	}
	return nil
}

func keep(cols []int, set map[int]bool) []int {
	var out []int
	for _, c := range cols {
		if set[c] {
			out = append(out, c)
		}
	}
	return out
}
