package history

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"strata/dbexport"
	"strata/pack"
	"strata/repo"
	"strata/repo/restore"
)

// ErrNoRow: no snapshot of the window holds a row with the key.
var ErrNoRow = errors.New("no such row")

// Request says which row to follow.
type Request struct {
	Table string   // the table's node name (customers, public.customers)
	Key   []string // the key's fields, as dbexport.ParseKey reads them
	// Since and Until bound the snapshots by time, both included; zero
	// leaves that end open.
	Since, Until time.Time
}

// Op is what an event says of the row.
type Op string

// Ops.
const (
	// OpPresent: the row is in the first snapshot of the window and
	// nothing earlier was read (no --since, or no snapshot before it), so
	// it was inserted before.
	OpPresent Op = "present"
	OpInsert  Op = "insert"
	OpUpdate  Op = "update"
	OpDelete  Op = "delete"
)

// Value is one column's value in one version of the row.
type Value struct {
	Field  []byte          // as stored: (typed) COPY text, escaped
	Column dbexport.Column // its column in that version's table
	Typed  bool            // the row is in the typed row encoding
	JSON   any             // as dump --format jsonl writes it
	// same is the JSON text of the value: versions compare by it, so a
	// SQLite value that changed storage class (3, 3.0, '3') changed,
	// and a value re-encoded (row encoding 1 to 2) did not.
	same string
}

// Column is one column of an event: its values before and after. Old is
// nil for a present or inserted row and for a column the table did not
// have before; New is nil for a deleted row and for a dropped column.
type Column struct {
	Name     string
	Old, New *Value
}

// Event is one version of the row that differs from the one before.
type Event struct {
	Snapshot *repo.Snapshot
	Op       Op
	// Again marks an insert of a key that an earlier snapshot deleted.
	Again bool
	// Columns: every column for present, insert and delete; the changed
	// ones for update.
	Columns []Column
	// Note says why a row is gone with no delete of its own: its table
	// is not in the snapshot.
	Note string
}

// Report is the history of one row.
type Report struct {
	Table      string   // qualified name
	KeyColumns []string // names
	Key        []string // fields as requested
	Events     []Event
	// Snapshots in the window; of those, the ones whose chunk for the key
	// was loaded (ChunksRead counts the chunks: more than one per
	// snapshot only when the key is not KeyOrdered) and the ones skipped
	// because their tree, chunk list or chunk was the previous one's.
	Snapshots, SnapshotsRead, Skipped int
	ChunksRead                        int
	// KeyOrdered is false when the table's key order is not strata's
	// (dbexport.Table.KeyOrdered): every chunk of a changed table is read.
	KeyOrdered  bool
	First, Last *repo.Snapshot // the window's first and last snapshot
	// Baseline is the last snapshot before --since, read (and counted in
	// SnapshotsRead and ChunksRead) to tell an insert in the window from
	// a row present before it; nil without --since or when there is none.
	Baseline *repo.Snapshot
}

// Loader is what history reads of a repository. Its LoadBlob must serve
// tree blobs too: a snapshot's root tree is read only as far as the
// table's node (dbexport.TableNodeReader).
type Loader interface {
	repo.TreeLoader
}

// version is the row as one snapshot holds it.
type version struct {
	table  *dbexport.Table
	values []Value // by column; nil when there is no row
}

// Row follows req's row through sns, the snapshots of one database
// (dbexport.SourceSnapshots), oldest first. It fails with ErrNoRow when no
// snapshot of the window holds the row.
func Row(ctx context.Context, l Loader, sns []*repo.Snapshot, req Request) (*Report, error) {
	rep := &Report{Table: req.Table, Key: req.Key, KeyOrdered: true}
	f := &follower{ctx: ctx, l: l, req: req, rep: rep, nodes: dbexport.TableNodeReader{Loader: l}}
	for i, sn := range sns {
		if !req.Since.IsZero() && sn.Time.Before(req.Since) {
			if i+1 < len(sns) && !sns[i+1].Time.Before(req.Since) {
				// The last snapshot before the window is the baseline: a
				// row it lacks is inserted in the window, not present.
				rep.Baseline = sn
				f.baseline = true
				err := f.snapshot(sn)
				f.baseline = false
				if err != nil {
					return nil, fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
				}
			}
			continue
		}
		if !req.Until.IsZero() && sn.Time.After(req.Until) {
			continue
		}
		rep.Snapshots++
		first := rep.First == nil
		if first {
			rep.First = sn
		}
		rep.Last = sn
		events := len(rep.Events)
		if err := f.snapshot(sn); err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
		}
		if first && len(rep.Events) == events && f.prev.values != nil {
			// The baseline's row, unchanged: the window starts with it.
			f.add(Event{Snapshot: sn, Op: OpPresent, Columns: columns(version{}, f.prev)})
		}
	}
	switch {
	case rep.Snapshots == 0:
		return nil, fmt.Errorf("%w: no snapshot in the time window", repo.ErrSnapshotNotFound)
	case !f.tableSeen:
		return nil, fmt.Errorf("table %s is in none of %s", req.Table, window(rep))
	case len(rep.Events) == 0:
		return nil, fmt.Errorf("%w: table %s has no row with %s in any of %s", ErrNoRow,
			rep.Table, KeyString(rep.KeyColumns, req.Key), window(rep))
	}
	return rep, nil
}

// follower carries the state of one Row from snapshot to snapshot.
type follower struct {
	ctx       context.Context
	l         Loader
	req       Request
	rep       *Report
	nodes     dbexport.TableNodeReader
	seeker    *repo.ChunkSeeker
	tableSeen bool
	deleted   bool // a delete was reported: the next insert comes back
	baseline  bool // reading the baseline: no events

	// What the previous snapshot read: its tree, its chunk list and its
	// chunk for the key (zero when it did not read one), and the row.
	prevTree  pack.ID
	prevPages pack.ID
	prevLog   pack.ID
	prevChunk repo.ChunkRef
	prev      version
	started   bool
	// The blob of the last chunk loaded: while a table's base chunk list
	// stays, a changed change log changes a chunk's patch, not its blob.
	baseID pack.ID
	base   []byte
}

// snapshot reads the row of one snapshot and reports how it changed.
func (f *follower) snapshot(sn *repo.Snapshot) error {
	if f.started && sn.Tree == f.prevTree {
		f.rep.Skipped++
		return nil
	}
	f.prevTree = sn.Tree
	n, t, err := f.nodes.TableNode(f.ctx, sn.Tree, f.req.Table)
	if errors.Is(err, restore.ErrNotFound) {
		f.prevPages, f.prevLog, f.prevChunk = pack.ID{}, pack.ID{}, repo.ChunkRef{}
		f.apply(sn, version{}, fmt.Sprintf("table %s is not in this snapshot", f.req.Table))
		return nil
	}
	if err != nil {
		return err
	}
	var keyCols []string
	for _, k := range t.KeyColumns() {
		keyCols = append(keyCols, t.Columns[k].Name)
	}
	if !f.tableSeen {
		f.tableSeen = true
		f.rep.Table = t.QualifiedName()
		f.rep.KeyColumns = keyCols
	} else if len(t.PrimaryKey) > 0 && !slices.Equal(keyCols, f.rep.KeyColumns) {
		// The same key fields name another row under another key.
		return fmt.Errorf("the primary key of table %s is (%s) in snapshot %s and (%s) before it: history follows a row by one key; give --since or --until to stay on one side of the change",
			t.QualifiedName(), strings.Join(keyCols, ", "), sn.ID.Short(), strings.Join(f.rep.KeyColumns, ", "))
	}
	if len(t.PrimaryKey) == 0 {
		return fmt.Errorf("table %s has no primary key: history follows a row by its key", t.QualifiedName())
	}
	if t.KeyedByRowID() {
		return fmt.Errorf("table %s declares no primary key: history follows a row by its key, and its rowid (which VACUUM renumbers) does not name a row over time", t.QualifiedName())
	}
	if err := t.CheckKey(f.req.Key, "--key"); err != nil {
		return err
	}
	if keyCols := t.KeyColumns(); len(f.req.Key) != len(keyCols) {
		return fmt.Errorf("--key gives %d of the %d fields of the key of table %s: give all of %s",
			len(f.req.Key), len(keyCols), t.QualifiedName(), strings.Join(f.rep.KeyColumns, ", "))
	}
	typedEnc, err := t.RowEncodingOf()
	if err != nil {
		return err
	}
	typed := typedEnc == dbexport.RowEncodingTyped
	var logID pack.ID
	if n.Log != nil {
		logID = *n.Log
	}
	if n.Pages != nil && f.started && *n.Pages == f.prevPages && logID == f.prevLog {
		f.rep.Skipped++ // the same chunk list and change log: the same row
		return nil
	}
	f.prevPages, f.prevLog = pack.ID{}, logID
	if n.Pages != nil {
		f.prevPages = *n.Pages
	}
	var row [][]byte
	if t.KeyOrdered() {
		row, err = f.floorRow(n, t)
	} else {
		f.rep.KeyOrdered = false
		f.prevChunk = repo.ChunkRef{}
		row, err = f.scanRow(n, t)
	}
	if errors.Is(err, errSameChunk) {
		f.rep.Skipped++
		return nil
	}
	if err != nil {
		return fmt.Errorf("table %s: %w", t.QualifiedName(), err)
	}
	f.rep.SnapshotsRead++
	v := version{table: t}
	for i, field := range row {
		val, err := value(t.Columns[i], typed, field)
		if err != nil {
			return fmt.Errorf("table %s, row with %s, column %s: %w", t.QualifiedName(), KeyString(f.rep.KeyColumns, f.req.Key), t.Columns[i].Name, err)
		}
		v.values = append(v.values, val)
	}
	f.apply(sn, v, "")
	return nil
}

// value decodes one stored field.
func value(c dbexport.Column, typed bool, field []byte) (Value, error) {
	j, err := dbexport.FieldJSON(field, c, typed)
	if err != nil {
		return Value{}, err
	}
	same, err := json.Marshal(j)
	if err != nil {
		return Value{}, err
	}
	// JSON writes a BLOB as the string of its \x hex, as it writes the
	// TEXT of those characters: a BLOB is marked apart.
	if isBlob(field, c, typed) {
		same = append([]byte("blob "), same...)
	}
	return Value{Field: bytes.Clone(field), Column: c, Typed: typed, JSON: j, same: string(same)}, nil
}

// isBlob reports whether a field holds a BLOB (bytea, a SQLite BLOB): by
// its storage class in a typed row, else by its column.
func isBlob(field []byte, c dbexport.Column, typed bool) bool {
	if !typed {
		return c.Kind == dbexport.KindBytes
	}
	tv, err := dbexport.DecodeTyped(field)
	return err == nil && tv.Class == dbexport.ClassBlob
}

// errSameChunk: the snapshot's chunk for the key is the previous one's.
var errSameChunk = errors.New("the same chunk")

// floorRow loads the chunk whose first key is the greatest at or below
// the key and returns the row with the key, or nil.
func (f *follower) floorRow(n *repo.Node, t *dbexport.Table) ([][]byte, error) {
	if f.seeker == nil {
		f.seeker = repo.NewChunkSeeker(f.l, n, dbexport.CompareKeys)
	}
	f.seeker.SetNode(n)
	c, ok, err := f.seeker.FloorRef(f.ctx, strings.Join(f.req.Key, "\t"))
	if err != nil {
		return nil, err
	}
	if !ok {
		f.prevChunk = repo.ChunkRef{}
		return nil, nil // no rows
	}
	if f.started && c.Same(f.prevChunk) {
		return nil, errSameChunk
	}
	f.prevChunk = c
	if f.base == nil || c.ID != f.baseID {
		b, err := f.l.LoadBlob(f.ctx, c.ID)
		if err != nil {
			return nil, err
		}
		f.baseID, f.base = c.ID, b
	}
	data, err := repo.EffectiveChunk(c, f.base)
	if err != nil {
		return nil, err
	}
	f.rep.ChunksRead++
	return findRow(data, t, f.req.Key)
}

// scanRow reads every chunk of the table for the row with the key.
func (f *follower) scanRow(n *repo.Node, t *dbexport.Table) ([][]byte, error) {
	var found [][]byte
	_, err := dbexport.ChunksInRange(f.ctx, f.l, n, repo.KeyBounds{}, func(c repo.ChunkRef, data []byte) error {
		f.rep.ChunksRead++
		row, err := findRow(data, t, f.req.Key)
		if row != nil && err == nil {
			found = row
		}
		return err
	})
	return found, err
}

// findRow returns the fields of the row of data (whole lines of COPY
// text) whose key is key, or nil.
func findRow(data []byte, t *dbexport.Table, key []string) ([][]byte, error) {
	keyCols := t.KeyColumns()
	// Only the fields up to the last key column are split off each row
	// (the rest stays one field): the row with the key is split whole.
	lead := 0
	for _, k := range keyCols {
		lead = max(lead, k+2)
	}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil, fmt.Errorf("a chunk ends inside a row")
		}
		line := data[:i]
		data = data[i+1:]
		k, err := dbexport.KeyValues(bytes.SplitN(line, []byte{'\t'}, lead), keyCols)
		if err != nil {
			return nil, err
		}
		if dbexport.KeyEqual(k, key) {
			fields := dbexport.SplitRow(line)
			if len(fields) != len(t.Columns) {
				return nil, fmt.Errorf("the row with key %s has %d fields for %d columns", strings.Join(key, ","), len(fields), len(t.Columns))
			}
			return fields, nil
		}
	}
	return nil, nil
}

// apply compares the version of snapshot sn with the one before and
// records the event, if any. The first snapshot sets the start.
func (f *follower) apply(sn *repo.Snapshot, v version, note string) {
	first := !f.started
	f.started = true
	prev := f.prev
	f.prev = v
	switch {
	case f.baseline:
	case prev.values == nil && v.values == nil:
	case prev.values == nil:
		op := OpInsert
		if first {
			op = OpPresent
		}
		f.add(Event{Snapshot: sn, Op: op, Again: f.deleted && op == OpInsert, Columns: columns(version{}, v)})
	case v.values == nil:
		f.deleted = true
		f.add(Event{Snapshot: sn, Op: OpDelete, Columns: columns(prev, version{}), Note: note})
	default:
		var changed []Column
		for _, c := range columns(prev, v) {
			if c.Old == nil || c.New == nil || c.Old.same != c.New.same {
				changed = append(changed, c)
			}
		}
		if len(changed) > 0 {
			f.add(Event{Snapshot: sn, Op: OpUpdate, Columns: changed})
		}
	}
}

func (f *follower) add(e Event) { f.rep.Events = append(f.rep.Events, e) }

// columns pairs the columns of two versions by name: the new version's in
// its order, then those only the old one has.
func columns(old, cur version) []Column {
	var out []Column
	seen := map[string]bool{}
	if cur.values != nil {
		for i, c := range cur.table.Columns {
			seen[c.Name] = true
			out = append(out, Column{Name: c.Name, Old: old.value(c.Name), New: &cur.values[i]})
		}
	}
	if old.values != nil {
		for _, c := range old.table.Columns {
			if !seen[c.Name] {
				out = append(out, Column{Name: c.Name, Old: old.value(c.Name)})
			}
		}
	}
	return out
}

// value is the version's value of the column named name, or nil.
func (v version) value(name string) *Value {
	if v.values == nil {
		return nil
	}
	for i, c := range v.table.Columns {
		if c.Name == name {
			return &v.values[i]
		}
	}
	return nil
}

// window names the snapshots of the window for messages.
func window(rep *Report) string {
	if rep.Snapshots == 1 {
		return "the 1 snapshot, at " + rep.First.Time.Format(time.RFC3339)
	}
	return fmt.Sprintf("the %d snapshots from %s to %s", rep.Snapshots, rep.First.Time.Format(time.RFC3339), rep.Last.Time.Format(time.RFC3339))
}

// KeyString shows a key as column=value pairs: id=42, or cust=7, seq=2.
func KeyString(cols, key []string) string {
	parts := make([]string, len(key))
	for i, k := range key {
		name := fmt.Sprintf("key%d", i+1)
		if i < len(cols) {
			name = cols[i]
		}
		parts[i] = name + "=" + k
	}
	return strings.Join(parts, ", ")
}
