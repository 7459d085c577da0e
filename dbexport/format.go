package dbexport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"strata/pack"
	"strata/repo"
	"strata/repo/restore"
)

// Dump formats.
const (
	FormatTSV   = "tsv"   // the stored COPY text, unchanged
	FormatCSV   = "csv"   // RFC 4180 with a header, as PostgreSQL's CSV: NULL is an empty field, the empty string ""
	FormatJSONL = "jsonl" // one JSON object per row; NULL is null
)

// DumpTable writes one table of a snapshot to w in format.
func DumpTable(ctx context.Context, l restore.BlobLoader, root pack.ID, name, format string, w io.Writer) error {
	_, err := DumpTableWith(ctx, l, root, name, DumpOptions{Format: format}, w)
	return err
}

// DumpOptions says what DumpTableWith writes.
type DumpOptions struct {
	Format string // FormatTSV (also when empty), FormatCSV or FormatJSONL
	// Keys, when not nil, selects the rows whose primary key lies in the
	// range (docs/design.md, "Dumps and guard").
	Keys *KeyRange
}

// DumpStats says what a dump with a key range read.
type DumpStats struct {
	Chunks     uint64 // chunks of the table
	ChunksRead uint64 // of those, chunks loaded
	Rows       uint64 // rows written
	// KeyOrdered is false when the table's key order is not strata's
	// (Table.KeyOrdered): every chunk was read and filtered.
	KeyOrdered bool
}

// DumpTableWith writes one table of a snapshot to w as opts says. With a
// key range it loads only the chunks that may hold keys in it (found by
// first key through the table's pages) when the table is KeyOrdered, and
// writes the rows in range from them.
func DumpTableWith(ctx context.Context, l restore.BlobLoader, root pack.ID, name string, opts DumpOptions, w io.Writer) (DumpStats, error) {
	n, t, err := TableNode(ctx, l, root, name)
	if err != nil {
		return DumpStats{}, err
	}
	rw, err := newRowWriter(t, opts.Format, w)
	if err != nil {
		return DumpStats{}, err
	}
	if opts.Keys == nil {
		if rw.plain() {
			return DumpStats{}, restore.Dump(ctx, l, root, "/"+rw.name, w)
		}
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(restore.Dump(ctx, l, root, "/"+rw.name, pw)) }()
		defer pr.Close()
		if err := rw.header(); err != nil {
			return DumpStats{}, err
		}
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 256<<20)
		for sc.Scan() {
			if err := rw.row(sc.Bytes()); err != nil {
				return DumpStats{}, err
			}
		}
		if err := sc.Err(); err != nil {
			return DumpStats{}, fmt.Errorf("table %s: %w", rw.name, err)
		}
		return DumpStats{}, rw.flush()
	}
	return dumpKeyRange(ctx, l, n, t, *opts.Keys, rw)
}

// dumpKeyRange writes the rows of node n (table t) whose key lies in kr.
func dumpKeyRange(ctx context.Context, l restore.BlobLoader, n *repo.Node, t *Table, kr KeyRange, rw *rowWriter) (DumpStats, error) {
	if len(t.PrimaryKey) == 0 {
		return DumpStats{}, fmt.Errorf("table %s has no primary key: --key-range selects rows by primary key (dump it whole)", t.QualifiedName())
	}
	for _, b := range []struct {
		fields []string
		what   string
	}{{kr.From, "FROM"}, {kr.To, "TO"}} {
		if err := t.CheckKey(b.fields, b.what); err != nil {
			return DumpStats{}, err
		}
	}
	st := DumpStats{KeyOrdered: t.KeyOrdered()}
	keyCols := t.KeyColumns()
	bounds := repo.KeyBounds{}
	if st.KeyOrdered {
		bounds = kr.Bounds(len(keyCols))
	}
	if err := rw.header(); err != nil {
		return st, err
	}
	var err error
	st.Chunks, err = ChunksInRange(ctx, l, n, bounds, func(c repo.ChunkRef, data []byte) error {
		st.ChunksRead++
		return eachLine(data, func(line []byte) error {
			key, err := KeyValues(SplitRow(line), keyCols)
			if err != nil {
				return fmt.Errorf("table %s chunk %d: %w", rw.name, c.Index, err)
			}
			if !kr.Contains(key) {
				return nil
			}
			st.Rows++
			return rw.row(line)
		})
	})
	if err != nil {
		return st, fmt.Errorf("table %s: %w", rw.name, err)
	}
	return st, rw.flush()
}

// eachLine calls fn for each line of a chunk, without its newline. A
// table's chunks are cut at row boundaries, so a chunk is whole lines.
func eachLine(data []byte, fn func(line []byte) error) error {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return fmt.Errorf("a chunk ends inside a row")
		}
		if err := fn(data[:i]); err != nil {
			return err
		}
		data = data[i+1:]
	}
	return nil
}

// RowFormat turns rows of a table's stored COPY text into one dump
// format, row by row: DumpTable writes with it, and a mount converts
// the chunks it reads with it.
type RowFormat struct {
	t      *Table
	name   string
	format string
	typed  bool
	buf    bytes.Buffer
	enc    *json.Encoder
	obj    OrderedJSON
}

// NewRowFormat returns the converter of t's rows into format (FormatTSV
// when empty).
func NewRowFormat(t *Table, format string) (*RowFormat, error) {
	rowEnc, err := t.RowEncodingOf()
	if err != nil {
		return nil, err
	}
	if format == "" {
		format = FormatTSV
	}
	if format != FormatTSV && format != FormatCSV && format != FormatJSONL {
		return nil, fmt.Errorf("unknown format %q: want csv, tsv or jsonl", format)
	}
	f := &RowFormat{t: t, name: t.NodeName(), format: format, typed: rowEnc == RowEncodingTyped}
	f.enc = json.NewEncoder(&f.buf)
	f.enc.SetEscapeHTML(false)
	return f, nil
}

// Stored reports whether the format is the stored COPY text itself (TSV
// of a table whose rows are not typed), which needs no conversion.
func (f *RowFormat) Stored() bool { return f.format == FormatTSV && !f.typed }

// Header is what the format writes before the first row: the CSV header
// line of column names, else nothing.
func (f *RowFormat) Header() []byte {
	if f.format != FormatCSV {
		return nil
	}
	var line []byte
	for i, c := range f.t.Columns {
		if i > 0 {
			line = append(line, ',')
		}
		line = appendCSVField(line, []byte(c.Name))
	}
	return append(line, '\n')
}

// AppendRow appends the row stored as COPY text line (without its
// "\n"), the row-th of the table from 1 (for errors), in the format,
// with its line end.
func (f *RowFormat) AppendRow(dst, line []byte, row int64) ([]byte, error) {
	if f.Stored() {
		return append(append(dst, line...), '\n'), nil
	}
	fields := SplitRow(line)
	t := f.t
	if len(fields) != len(t.Columns) {
		return dst, fmt.Errorf("table %s row %d: %d fields for %d columns", f.name, row, len(fields), len(t.Columns))
	}
	switch f.format {
	case FormatTSV:
		// Typed rows as plain COPY text: without the TEXT tags.
		for i, fd := range fields {
			if i > 0 {
				dst = append(dst, '\t')
			}
			dst = append(dst, UntagText(fd)...)
		}
		return append(dst, '\n'), nil
	case FormatCSV:
		for i, fd := range fields {
			v, ok, err := Unescape(fd)
			if err != nil {
				return dst, fmt.Errorf("table %s row %d column %s: %w", f.name, row, t.Columns[i].Name, err)
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			if ok { // NULL stays an empty, unquoted field
				dst = appendCSVField(dst, v)
			}
		}
		return append(dst, '\n'), nil
	}
	obj := f.obj[:0]
	for i, fd := range fields {
		if f.typed {
			tv, err := DecodeTyped(fd)
			if err != nil {
				return dst, fmt.Errorf("table %s row %d column %s: %w", f.name, row, t.Columns[i].Name, err)
			}
			obj = append(obj, JSONField{Name: t.Columns[i].Name, Value: typedJSON(tv)})
			continue
		}
		v, ok, err := Unescape(fd)
		if err != nil {
			return dst, fmt.Errorf("table %s row %d column %s: %w", f.name, row, t.Columns[i].Name, err)
		}
		obj = append(obj, JSONField{Name: t.Columns[i].Name, Value: jsonValue(v, ok, t.Columns[i].Kind)})
	}
	f.obj = obj
	f.buf.Reset()
	if err := f.enc.Encode(obj); err != nil {
		return dst, fmt.Errorf("table %s row %d: %w", f.name, row, err)
	}
	return append(dst, f.buf.Bytes()...), nil
}

// rowWriter writes rows of one table in a dump format, through a
// RowFormat.
type rowWriter struct {
	rf   *RowFormat
	name string
	bw   *bufio.Writer
	line []byte
	rows int64
}

func newRowWriter(t *Table, format string, w io.Writer) (*rowWriter, error) {
	rf, err := NewRowFormat(t, format)
	if err != nil {
		return nil, err
	}
	return &rowWriter{rf: rf, name: t.NodeName(), bw: bufio.NewWriterSize(w, 64<<10)}, nil
}

// plain reports whether rows are written as stored: TSV of untyped rows.
func (rw *rowWriter) plain() bool { return rw.rf.Stored() }

// header writes the CSV header row.
func (rw *rowWriter) header() error {
	_, err := rw.bw.Write(rw.rf.Header())
	return err
}

// row writes one row, given as a line of (typed) COPY text.
func (rw *rowWriter) row(text []byte) error {
	rw.rows++
	var err error
	if rw.line, err = rw.rf.AppendRow(rw.line[:0], text, rw.rows); err != nil {
		return err
	}
	_, err = rw.bw.Write(rw.line)
	return err
}

func (rw *rowWriter) flush() error { return rw.bw.Flush() }

// appendCSVField appends a non-NULL value as PostgreSQL's COPY ... (FORMAT
// csv) writes it, so NULL (an empty, unquoted field) and the empty string
// ("") stay apart: quoted when it is empty, is \., or holds a comma, a
// quote, CR or LF; quotes inside are doubled.
func appendCSVField(b, v []byte) []byte {
	if len(v) > 0 && string(v) != `\.` && !bytes.ContainsAny(v, ",\"\r\n") {
		return append(b, v...)
	}
	b = append(b, '"')
	for _, c := range v {
		if c == '"' {
			b = append(b, '"')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

// JSONField is one member of an OrderedJSON object.
type JSONField struct {
	Name  string
	Value any
}

// OrderedJSON is a JSON object whose members keep their order: a row's
// columns in the table's order (jsonl exports), a diff's or history's key
// and columns. encoding/json sorts a map's keys, which would not.
type OrderedJSON []JSONField

// MarshalJSON writes the members in order, with &, < and > as they are
// (json.Marshal would write \u0026, \u003c, \u003e: an encoder that
// escapes HTML still does so when it writes the object out).
func (o OrderedJSON) MarshalJSON() ([]byte, error) {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	out.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			out.WriteByte(',')
		}
		if err := enc.Encode(f.Name); err != nil {
			return nil, err
		}
		out.Truncate(out.Len() - 1) // Encode's newline
		out.WriteByte(':')
		if err := enc.Encode(f.Value); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		out.Truncate(out.Len() - 1)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// typedJSON is a typed value in JSON: numbers as numbers (infinities,
// which JSON lacks, as the strings Infinity and -Infinity), a BLOB as its
// \x hex text.
func typedJSON(v TypedValue) any {
	switch v.Class {
	case ClassNull:
		return nil
	case ClassInteger:
		return v.Int
	case ClassReal:
		if math.IsInf(v.Real, 0) {
			return string(AppendReal(nil, v.Real))
		}
		return json.Number(AppendReal(nil, v.Real))
	case ClassBlob:
		return string(AppendBlobText(v.Bytes))
	}
	return string(v.Bytes)
}

// jsonValue types a field by its column kind: numbers stay numbers (as
// written, so no precision is lost), booleans become true/false, JSON
// columns are embedded, everything else is a string.
func jsonValue(v []byte, ok bool, kind string) any {
	if !ok {
		return nil
	}
	s := string(v)
	switch kind {
	case KindInt, KindNumeric, KindFloat:
		// Only a JSON number literal is a number: PostgreSQL's numeric
		// and float NaN, Infinity and -Infinity are strings.
		if isJSONNumber(v) {
			return json.Number(s)
		}
	case KindBool:
		switch s {
		case "t", "true", "1":
			return true
		case "f", "false", "0":
			return false
		}
	case KindJSON:
		if json.Valid(v) {
			return json.RawMessage(v)
		}
	}
	return s
}

// isJSONNumber reports whether v is a number literal of JSON (RFC 8259,
// section 6): -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. All its
// digits are written, so a value beyond float64's 53 bits stays exact
// in the text.
func isJSONNumber(v []byte) bool {
	i := 0
	if i < len(v) && v[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
			n++
		}
		return n
	}
	start := i
	if n := digits(); n == 0 || (n > 1 && v[start] == '0') {
		return false
	}
	if i < len(v) && v[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(v)
}

// FieldJSON is one stored field as dump --format jsonl writes it: typed
// (a field of a RowEncodingTyped row) by its storage class, else by its
// column's kind.
func FieldJSON(field []byte, c Column, typed bool) (any, error) {
	if typed {
		tv, err := DecodeTyped(field)
		if err != nil {
			return nil, err
		}
		return typedJSON(tv), nil
	}
	v, ok, err := Unescape(field)
	if err != nil {
		return nil, err
	}
	return jsonValue(v, ok, c.Kind), nil
}
