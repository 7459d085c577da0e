package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"strata/dbexport"
	"strata/internal/progress"
	"strata/repo"
	"strata/snapdiff"
)

// changeWriter prints the changes of a table diff as they come.
type changeWriter interface {
	change(c *snapdiff.Change) error
	finish(rep *snapdiff.Report) error
}

// typed reports whether the rows of t are in the typed row encoding.
func typed(t *dbexport.Table) bool {
	enc, _ := t.RowEncodingOf()
	return enc == dbexport.RowEncodingTyped
}

// sideTable is the definition a row of one side is written in.
func sideTable(c *snapdiff.Change, old bool) *dbexport.Table {
	if (old && c.Table.A != nil) || c.Table.B == nil {
		return c.Table.A
	}
	return c.Table.B
}

// showValue is a field as the text format shows it: NULL, a number as
// it is, anything else quoted (so control characters cannot reach the
// terminal).
//
// A SQLite BLOB shows as SQLite writes its literal, x'00', so that it
// differs from the TEXT \x00 (which jsonl writes alike).
func showValue(field []byte, col dbexport.Column, typedRow bool) string {
	if typedRow {
		if tv, err := dbexport.DecodeTyped(field); err == nil && tv.Class == dbexport.ClassBlob {
			return "x'" + hex.EncodeToString(tv.Bytes) + "'"
		}
	}
	v, err := dbexport.FieldJSON(field, col, typedRow)
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	switch v := v.(type) {
	case nil:
		return "NULL"
	case json.Number:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	case json.RawMessage:
		return string(v)
	case string:
		return strconv.Quote(v)
	}
	return fmt.Sprint(v)
}

// textChanges is --format text.
type textChanges struct {
	w      io.Writer
	colour bool
	table  string
}

func newTextChanges(w io.Writer, colour bool) *textChanges {
	return &textChanges{w: w, colour: colour}
}

const (
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

func (t *textChanges) paint(code, s string) string {
	if !t.colour {
		return s
	}
	return code + s + ansiReset
}

// changeKey is the key of a changed row as the text format shows it:
// column=value for each of its fields.
func changeKey(c *snapdiff.Change) string {
	tab := sideTable(c, c.Op == snapdiff.OpDelete)
	parts := make([]string, len(c.Key))
	for i, k := range c.Table.Key {
		parts[i] = c.Table.Columns[k].Name + "=" + showValue(c.Key[i], c.Table.Columns[k], typed(tab))
	}
	return strings.Join(parts, " ")
}

func (t *textChanges) change(c *snapdiff.Change) error {
	if c.Table.Name != t.table {
		t.table = c.Table.Name
		if _, err := fmt.Fprintln(t.w, t.paint(ansiBold, "table "+c.Table.Name)); err != nil {
			return err
		}
	}
	var line string
	switch c.Op {
	case snapdiff.OpInsert:
		line = t.paint(ansiGreen, "+ "+changeKey(c)) + t.rest(c, c.New, sideTable(c, false))
	case snapdiff.OpDelete:
		line = t.paint(ansiRed, "- "+changeKey(c)) + t.rest(c, c.Old, sideTable(c, true))
	case snapdiff.OpUpdate:
		var b strings.Builder
		b.WriteString(t.paint(ansiYellow, "M "+changeKey(c)))
		ta, tb := typed(c.Table.A), typed(c.Table.B)
		for _, col := range c.Changed {
			cd := c.Table.Columns[col]
			fmt.Fprintf(&b, "\n    %s: %s -> %s", cd.Name,
				t.paint(ansiRed, showValue(c.Old[col], cd, ta)), t.paint(ansiGreen, showValue(c.New[col], cd, tb)))
		}
		line = b.String()
	}
	_, err := fmt.Fprintln(t.w, line)
	return err
}

// rest shows the columns of an inserted or deleted row beyond its key.
func (t *textChanges) rest(c *snapdiff.Change, row [][]byte, tab *dbexport.Table) string {
	if !c.Table.Keyed {
		return "" // the key is the whole row
	}
	isKey := map[int]bool{}
	for _, k := range c.Table.Key {
		isKey[k] = true
	}
	var parts []string
	for i, col := range c.Table.Columns {
		if isKey[i] || row[i] == nil {
			continue
		}
		parts = append(parts, col.Name+"="+showValue(row[i], col, typed(tab)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "  " + strings.Join(parts, " ")
}

func (t *textChanges) finish(*snapdiff.Report) error { return nil }

// jsonChanges is --format jsonl: one object per change.
type jsonChanges struct {
	enc *json.Encoder
}

func newJSONChanges(w io.Writer) *jsonChanges {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonChanges{enc: enc}
}

// changeJSON is one line of --format jsonl. Objects keep the table's
// column order.
type changeJSON struct {
	Table string               `json:"table"`
	Op    string               `json:"op"`
	Key   dbexport.OrderedJSON `json:"key"`
	Old   dbexport.OrderedJSON `json:"old,omitempty"`
	New   dbexport.OrderedJSON `json:"new,omitempty"`
}

func (j *jsonChanges) change(c *snapdiff.Change) error {
	line := changeJSON{Table: c.Table.Name, Op: string(c.Op)}
	tabKey := sideTable(c, c.Op == snapdiff.OpDelete)
	var err error
	// add appends the columns cols of a side's values: field(i) is the
	// value of cols[i], nil when that side lacks the column.
	add := func(obj *dbexport.OrderedJSON, cols []int, field func(i int) []byte, tab *dbexport.Table) {
		for i, col := range cols {
			f := field(i)
			if f == nil {
				continue
			}
			v, ferr := dbexport.FieldJSON(f, c.Table.Columns[col], typed(tab))
			if ferr != nil && err == nil {
				err = fmt.Errorf("table %s column %s: %w", c.Table.Name, c.Table.Columns[col].Name, ferr)
			}
			*obj = append(*obj, dbexport.JSONField{Name: c.Table.Columns[col].Name, Value: v})
		}
	}
	of := func(row [][]byte, cols []int) func(int) []byte { return func(i int) []byte { return row[cols[i]] } }
	line.Key = dbexport.OrderedJSON{}
	add(&line.Key, c.Table.Key, func(i int) []byte { return c.Key[i] }, tabKey)
	all := make([]int, len(c.Table.Columns))
	for i := range all {
		all[i] = i
	}
	switch c.Op {
	case snapdiff.OpInsert:
		add(&line.New, all, of(c.New, all), c.Table.B)
	case snapdiff.OpDelete:
		add(&line.Old, all, of(c.Old, all), c.Table.A)
	case snapdiff.OpUpdate:
		add(&line.Old, c.Changed, of(c.Old, c.Changed), c.Table.A)
		add(&line.New, c.Changed, of(c.New, c.Changed), c.Table.B)
	}
	if err != nil {
		return err
	}
	if err := j.enc.Encode(line); err != nil {
		return fmt.Errorf("table %s row %s: %w", c.Table.Name, changeKey(c), err)
	}
	return nil
}

func (j *jsonChanges) finish(*snapdiff.Report) error { return nil }

// readSummary says how much of the two snapshots a diff read.
func readSummary(rep *snapdiff.Report, took time.Duration) string {
	parts := counted(rep.ChunksRead, "chunk") + " and " + progress.Bytes(rep.PageBytes) + " of pages"
	if rep.LogBytes > 0 {
		parts = counted(rep.ChunksRead, "chunk") + ", " + progress.Bytes(rep.PageBytes) + " of pages and " + progress.Bytes(rep.LogBytes) + " of change logs"
	}
	return fmt.Sprintf("read %s (%s) of the %s of table data in the two snapshots, %s from packs; %s both share not read; %s",
		progress.Bytes(rep.BytesRead), parts, progress.Bytes(rep.Bytes),
		progress.Bytes(rep.PackBytesRead), counted(rep.ChunksShared, "chunk"), progress.Duration(took))
}

// printStat prints the --stat report.
func printStat(w io.Writer, a, b *repo.Snapshot, rep *snapdiff.Report, took time.Duration) error {
	fmt.Fprintf(w, "snapshot %s (%s) -> %s (%s)\n", a.ID.Short(), showTime(a.Time), b.ID.Short(), showTime(b.Time))
	t := newTable(w, "Table", "Rows before", "Rows after", "Added", "Deleted", "Modified", "Cells")
	same := 0
	var notInRange []string
	for _, d := range rep.Tables {
		if d.NotInRange && d.A != nil && d.B != nil {
			notInRange = append(notInRange, d.Name)
			continue
		}
		if !d.Changed() {
			same++
			continue
		}
		before, after := fmt.Sprint(d.RowsBefore), fmt.Sprint(d.RowsAfter)
		name := d.Name
		switch {
		case d.Added():
			before, name = "-", name+" (new)"
		case d.Dropped():
			after, name = "-", name+" (dropped)"
		}
		t.row(name, before, after, fmt.Sprint(d.Inserted), fmt.Sprint(d.Deleted), fmt.Sprint(d.Updated), fmt.Sprint(d.CellsUpdated))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if same > 0 {
		fmt.Fprintf(w, "%s unchanged\n", counted(same, "table"))
	}
	if len(notInRange) > 0 {
		fmt.Fprintf(w, "%s not compared (no primary key for --key-range): %s\n", counted(len(notInRange), "table"), strings.Join(notInRange, ", "))
	}
	var schema []string
	for _, d := range rep.Tables {
		for _, s := range d.Schema {
			schema = append(schema, d.Name+": "+s)
		}
	}
	schema = append(schema, rep.Schema...)
	if len(schema) > 0 {
		fmt.Fprintln(w, "schema changes:")
		for _, s := range schema {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	if moved := positionsMoved(rep); len(moved) > 0 {
		fmt.Fprintf(w, "sequence positions moved: %s\n", strings.Join(moved, ", "))
	}
	_, err := fmt.Fprintln(w, readSummary(rep, took))
	return err
}

// positionsMoved names the tables and sequences whose sequence or
// auto-increment position moved: state a restore brings back, not a
// schema change.
func positionsMoved(rep *snapdiff.Report) []string {
	var out []string
	for _, d := range rep.Tables {
		if d.PositionsMoved {
			out = append(out, d.Name)
		}
	}
	return append(out, rep.SequencesMoved...)
}

// statJSONReport is diff --stat --json.
type statJSONReport struct {
	A      diffSnapJSON    `json:"a"`
	B      diffSnapJSON    `json:"b"`
	Tables []tableStatJSON `json:"tables"`
	Schema []string        `json:"schema_changes"`
	// Positions names the tables and sequences whose sequence or
	// auto-increment position moved.
	Positions    []string `json:"sequence_positions_moved"`
	BytesRead    uint64   `json:"bytes_read"`
	PageBytes    uint64   `json:"page_bytes_read"`
	LogBytes     uint64   `json:"log_bytes_read"`
	PackBytes    uint64   `json:"pack_bytes_read"`
	Bytes        uint64   `json:"bytes"`
	BytesShared  uint64   `json:"bytes_shared"`
	ChunksRead   uint64   `json:"chunks_read"`
	ChunksShared uint64   `json:"chunks_shared"`
	Seconds      float64  `json:"seconds"`
}

type diffSnapJSON struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
}

type tableStatJSON struct {
	Table        string   `json:"table"`
	Status       string   `json:"status"` // same, changed, added, dropped, not compared
	RowsBefore   *int64   `json:"rows_before"`
	RowsAfter    *int64   `json:"rows_after"`
	Added        uint64   `json:"rows_added"`
	Deleted      uint64   `json:"rows_deleted"`
	Modified     uint64   `json:"rows_modified"`
	Cells        uint64   `json:"cells_modified"`
	Schema       []string `json:"schema_changes"`
	Positions    bool     `json:"sequence_positions_moved"`
	ChunksRead   uint64   `json:"chunks_read"`
	ChunksShared uint64   `json:"chunks_shared"`
}

func statJSON(a, b *repo.Snapshot, rep *snapdiff.Report, took time.Duration) statJSONReport {
	out := statJSONReport{
		A: diffSnapJSON{a.ID.String(), a.Time}, B: diffSnapJSON{b.ID.String(), b.Time},
		Tables: []tableStatJSON{}, Schema: append([]string{}, rep.Schema...), Positions: append([]string{}, positionsMoved(rep)...),
		BytesRead: rep.BytesRead, PageBytes: rep.PageBytes, LogBytes: rep.LogBytes, PackBytes: rep.PackBytesRead, Bytes: rep.Bytes, BytesShared: rep.BytesShared,
		ChunksRead: rep.ChunksRead, ChunksShared: rep.ChunksShared, Seconds: took.Seconds(),
	}
	for _, d := range rep.Tables {
		t := tableStatJSON{
			Table: d.Name, Status: "same", Added: d.Inserted, Deleted: d.Deleted, Modified: d.Updated, Cells: d.CellsUpdated,
			Schema: append([]string{}, d.Schema...), Positions: d.PositionsMoved, ChunksRead: d.ChunksRead, ChunksShared: d.ChunksShared,
		}
		if d.A != nil {
			t.RowsBefore = &d.RowsBefore
		}
		if d.B != nil {
			t.RowsAfter = &d.RowsAfter
		}
		switch {
		case d.NotInRange && d.A != nil && d.B != nil:
			t.Status = "not compared" // no primary key for --key-range
		case d.Added():
			t.Status = "added"
		case d.Dropped():
			t.Status = "dropped"
		case d.Changed():
			t.Status = "changed"
		}
		out.Tables = append(out.Tables, t)
	}
	return out
}

// sqlChanges is --format sql.
type sqlChanges struct {
	*snapdiff.SQLWriter
}

// newSQLChanges writes SQL in the dialect of snapshot a's database,
// which engine, when given, must name: the values are in that engine's
// text forms.
func newSQLChanges(w io.Writer, engine string, a *repo.Snapshot) (*sqlChanges, error) {
	d, err := dbexport.ParseDSN(a.Source)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", a.ID.Short(), err)
	}
	if engine != "" && engine != d.Engine {
		return nil, fmt.Errorf("--engine %s: the snapshots are of a %s database, and --format sql writes their own dialect (restore B into a %s database with strata restore instead)", engine, d.Engine, engine)
	}
	engine = d.Engine
	sw, err := snapdiff.NewSQLWriter(w, engine)
	if err != nil {
		return nil, err
	}
	return &sqlChanges{sw}, nil
}

func (s *sqlChanges) change(c *snapdiff.Change) error { return s.Change(c) }
func (s *sqlChanges) finish(*snapdiff.Report) error   { return s.Finish() }
