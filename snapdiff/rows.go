package snapdiff

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"strata/dbexport"
	"strata/repo"
)

// This file compares the rows of one span: both sides' chunks are
// loaded, A's rows are keyed in a map and B's rows looked up in it.

// Op is what a change does to a row.
type Op string

// Ops.
const (
	OpInsert Op = "insert"
	OpUpdate Op = "update"
	OpDelete Op = "delete"
)

// Change is one row inserted, updated or deleted between A and B. Rows
// are raw COPY text fields (escaped, as stored), one per column of
// Table.Columns; a field is nil where that side lacks the column.
type Change struct {
	Table *TableDiff
	Op    Op
	Key   [][]byte // the key fields (every field for a table without a primary key)
	Old   [][]byte // A's row: for updates and deletes
	New   [][]byte // B's row: for inserts and updates
	// Changed are the columns (indexes into Table.Columns) whose values
	// differ, for an update.
	Changed []int
}

// KeyText is the key as COPY text fields joined by tabs, as first keys
// are written.
func (c *Change) KeyText() string { return string(bytes.Join(c.Key, []byte{'\t'})) }

// rowLayout maps the rows of both sides onto the columns compared.
type rowLayout struct {
	columns []dbexport.Column // the columns compared: B's (A's if B lacks the table)
	aIdx    []int             // per compared column, its field in an A row, -1 when A lacks it
	bIdx    []int             // the same for B
	key     []int             // the key columns (indexes into columns)
	keyed   bool              // the table has a primary key; else key is every column
	aFields int               // fields of an A row
	bFields int               // fields of a B row
	same    bool              // A's and B's rows have the same columns in the same order
	// unordered is true when the rows are not stored in the order of
	// the key (a SQLite table keyed by its values, stored by rowid).
	unordered bool
}

// keyOf returns the key fields of a row of side a (true) or b.
func (l *rowLayout) keyOf(fields [][]byte, a bool) [][]byte {
	k := make([][]byte, len(l.key))
	for i, c := range l.key {
		k[i] = l.field(fields, c, a)
	}
	return k
}

// field returns the field of column c in a row of one side; nil when that
// side lacks the column.
func (l *rowLayout) field(fields [][]byte, c int, a bool) []byte {
	idx := l.bIdx
	if a {
		idx = l.aIdx
	}
	if idx[c] < 0 {
		return nil
	}
	return fields[idx[c]]
}

// remap lays a row of side a (true) or b out as the compared columns.
func (l *rowLayout) remap(fields [][]byte, a bool) [][]byte {
	out := make([][]byte, len(l.columns))
	for c := range l.columns {
		out[c] = l.field(fields, c, a)
	}
	return out
}

// spanRows compares the rows of one span and returns its changes sorted
// by key. Lines equal on both sides at the span's start and end are the
// same rows and are passed over unsplit (when both sides lay their rows
// out alike). Rows of a table without a primary key are counted: n equal
// rows in A and m in B give |n-m| deletes or inserts.
//
// A span of one base chunk that both sides share (span.base) compares
// only the rows their patches treat differently (patchLines).
func (d *tableDiffer) spanRows(ctx context.Context, sp span) ([]Change, error) {
	var la, lb []line
	var err error
	if sp.base != nil {
		la, lb, err = d.patchLines(ctx, sp)
	} else {
		la, err = d.lines(ctx, sp.a, d.snapA)
		if err == nil {
			lb, err = d.lines(ctx, sp.b, d.snapB)
		}
	}
	if err != nil {
		return nil, err
	}
	if d.layout.same {
		for len(la) > 0 && len(lb) > 0 && bytes.Equal(la[0].text, lb[0].text) {
			la, lb = la[1:], lb[1:]
		}
		for len(la) > 0 && len(lb) > 0 && bytes.Equal(la[len(la)-1].text, lb[len(lb)-1].text) {
			la, lb = la[:len(la)-1], lb[:len(lb)-1]
		}
	}
	type rowA struct {
		fields [][]byte
		n      int // equal rows of a table without a key
	}
	inA := make(map[string]*rowA, len(la))
	var order []string // A's keys in their order, for the deletes
	for _, l := range la {
		fields, err := d.split(l, d.layout.aFields, d.snapA)
		if err != nil {
			return nil, err
		}
		k := string(bytes.Join(d.layout.keyOf(fields, true), []byte{'\t'}))
		if r, ok := inA[k]; ok {
			if d.layout.keyed {
				return nil, fmt.Errorf("table %s, snapshot %s: %w: key %q occurs twice", d.name, d.snapA, repo.ErrDamaged, k)
			}
			r.n++
			continue
		}
		inA[k] = &rowA{fields: fields, n: 1}
		order = append(order, k)
	}
	var out []Change
	for _, l := range lb {
		fields, err := d.split(l, d.layout.bFields, d.snapB)
		if err != nil {
			return nil, err
		}
		key := d.layout.keyOf(fields, false)
		r, ok := inA[string(bytes.Join(key, []byte{'\t'}))]
		if !ok || r.n == 0 {
			out = append(out, Change{Table: d.TableDiff, Op: OpInsert, Key: key, New: d.layout.remap(fields, false)})
			continue
		}
		r.n--
		if !d.layout.keyed {
			continue // the whole row is the key: equal
		}
		if changed := d.changedColumns(r.fields, fields); len(changed) > 0 {
			out = append(out, Change{Table: d.TableDiff, Op: OpUpdate, Key: key, Old: d.layout.remap(r.fields, true), New: d.layout.remap(fields, false), Changed: changed})
		}
	}
	for _, k := range order {
		r := inA[k]
		for ; r.n > 0; r.n-- {
			out = append(out, Change{Table: d.TableDiff, Op: OpDelete, Key: d.layout.keyOf(r.fields, true), Old: d.layout.remap(r.fields, true)})
		}
	}
	slices.SortStableFunc(out, func(x, y Change) int { return dbexport.CompareKeys(x.KeyText(), y.KeyText()) })
	return out, nil
}

// changedColumns lists the compared columns whose fields differ between
// an A row and a B row; a column one side lacks is not compared.
func (d *tableDiffer) changedColumns(a, b [][]byte) []int {
	var changed []int
	for c := range d.layout.columns {
		if d.layout.aIdx[c] < 0 || d.layout.bIdx[c] < 0 {
			continue
		}
		if !bytes.Equal(a[d.layout.aIdx[c]], b[d.layout.bIdx[c]]) {
			changed = append(changed, c)
		}
	}
	return changed
}

// line is one row of a chunk, unsplit, with where it came from for
// errors.
type line struct {
	text  []byte
	chunk *repo.ChunkRef
	row   int // in its chunk, from 1
}

// lines loads the chunks of one side of a span and returns their rows.
// Rows keep pointing into the chunks' bytes.
func (d *tableDiffer) lines(ctx context.Context, chunks []repo.ChunkRef, snap string) ([]line, error) {
	var out []line
	for i := range chunks {
		c := &chunks[i]
		data, err := repo.LoadChunk(ctx, d.l, *c)
		if err != nil {
			return nil, fmt.Errorf("table %s, snapshot %s: chunk %s: %w", d.name, snap, c.ID.Short(), err)
		}
		d.bytesRead.Add(uint64(len(data)))
		d.chunksRead.Add(1)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			return nil, fmt.Errorf("table %s, snapshot %s: chunk %s: %w: it does not end at the end of a row", d.name, snap, c.ID.Short(), repo.ErrDamaged)
		}
		for row := 1; len(data) > 0; row++ {
			i := bytes.IndexByte(data, '\n')
			out = append(out, line{text: data[:i], chunk: c, row: row})
			data = data[i+1:]
		}
	}
	return out, nil
}

// split splits a row into its fields, which must be fields many.
func (d *tableDiffer) split(l line, fields int, snap string) ([][]byte, error) {
	f := dbexport.SplitRow(l.text)
	if len(f) != fields {
		return nil, fmt.Errorf("table %s, snapshot %s: chunk %s row %d: %w: %d fields for %d columns", d.name, snap, l.chunk.ID.Short(), l.row, repo.ErrDamaged, len(f), fields)
	}
	return f, nil
}

// newLayout lines up the columns of A's and B's definitions by name
// (either may be nil: a table one side lacks). Rows are keyed by the
// primary key when both sides have the same one, else by every column
// both have.
func newLayout(a, b *dbexport.Table) *rowLayout {
	l := &rowLayout{}
	main, other := b, a
	if b == nil {
		main, other = a, nil
	}
	pos := func(t *dbexport.Table, name string) int {
		if t == nil {
			return -1
		}
		for i, c := range t.Columns {
			if c.Name == name {
				return i
			}
		}
		return -1
	}
	// A SQLite table that declares no primary key is compared by its
	// values: its hidden rowid, which VACUUM renumbers, is neither key
	// nor compared column.
	byValue := main.KeyedByRowID() || (other != nil && other.KeyedByRowID())
	for _, c := range main.Columns {
		if byValue && c.RowID {
			continue
		}
		l.columns = append(l.columns, c)
		if main == b {
			l.aIdx, l.bIdx = append(l.aIdx, pos(other, c.Name)), append(l.bIdx, pos(b, c.Name))
		} else {
			l.aIdx, l.bIdx = append(l.aIdx, pos(a, c.Name)), append(l.bIdx, -1)
		}
	}
	if a != nil && main == b {
		// A's columns that B dropped: kept so a delete shows them.
		for _, c := range a.Columns {
			if pos(b, c.Name) < 0 && !(byValue && c.RowID) {
				l.columns = append(l.columns, c)
				l.aIdx, l.bIdx = append(l.aIdx, pos(a, c.Name)), append(l.bIdx, -1)
			}
		}
	}
	if a != nil {
		l.aFields = len(a.Columns)
	}
	if b != nil {
		l.bFields = len(b.Columns)
	}
	l.same = a != nil && b != nil && l.aFields == l.bFields && len(l.columns) == l.bFields
	for i := 0; l.same && i < l.bFields; i++ {
		l.same = l.aIdx[i] == i && l.bIdx[i] == i
	}
	samePK := a == nil || b == nil || strings.EqualFold(strings.Join(a.PrimaryKey, "\x00"), strings.Join(b.PrimaryKey, "\x00"))
	if len(main.PrimaryKey) > 0 && samePK && !byValue {
		l.keyed = true
		for _, k := range main.PrimaryKey {
			for i, c := range l.columns {
				if strings.EqualFold(c.Name, k) {
					l.key = append(l.key, i)
					break
				}
			}
		}
		return l
	}
	for i := range l.columns {
		if (a == nil || l.aIdx[i] >= 0) && (b == nil || l.bIdx[i] >= 0) {
			l.key = append(l.key, i)
		}
	}
	// Rows stored in rowid order are not in the order of their values:
	// spans cannot end at a first key.
	l.unordered = byValue
	return l
}
