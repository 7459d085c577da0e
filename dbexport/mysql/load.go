package mysql

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"strata/dbexport"
)

// Batches of the multi-row INSERT that loads a table: at most this many
// rows, about this many bytes of values, and never more placeholders than
// a prepared statement may have.
const (
	batchRows         = 1000
	batchBytes        = 1 << 20
	maxPlaceholders   = 65535
	packetOverheadMax = 64 << 10 // room for the statement around the values
)

// loader inserts the COPY text rows of one table in batches.
type loader struct {
	ctx      context.Context
	tx       *sql.Tx
	table    *dbexport.Table
	fields   int       // per row
	cols     []int     // the fields inserted: all but generated columns
	codecs   []codec   // of cols
	enumErr  []bool    // of cols: "" is the ENUM error value (enumerror.go)
	insert   string    // "INSERT INTO `t` (`a`,`b`) VALUES "
	tuple    string    // "(?,?)"
	full     *sql.Stmt // prepared for a batch of perBatch rows
	perBatch int
	maxBytes int // per batch
	maxRow   int // largest row the server accepts

	args  []any
	size  int // bytes of values in args
	rows  int64
	lines int64 // lines read, for errors
}

func newLoader(ctx context.Context, tx *sql.Tx, tab *dbexport.Table, generated map[string]bool, maxPacket int) (*loader, error) {
	l := &loader{ctx: ctx, tx: tx, table: tab, fields: len(tab.Columns)}
	var names []string
	for i, c := range tab.Columns {
		if generated[c.Name] {
			continue
		}
		l.cols = append(l.cols, i)
		names = append(names, quoteIdent(c.Name))
		l.codecs = append(l.codecs, codecOf(c.Type))
		l.enumErr = append(l.enumErr, hasErrorValue(c.Type))
	}
	if len(names) == 0 {
		return nil, errors.New("table has no columns to load")
	}
	l.insert = "INSERT INTO " + quoteIdent(tab.Name) + " (" + strings.Join(names, ",") + ") VALUES "
	l.tuple = "(" + strings.TrimSuffix(strings.Repeat("?,", len(names)), ",") + ")"
	l.perBatch = min(batchRows, maxPlaceholders/len(names))
	l.maxBytes = min(batchBytes, maxPacket/2)
	l.maxRow = max(maxPacket-packetOverheadMax, maxPacket/2)
	var err error
	l.full, err = tx.PrepareContext(ctx, l.statement(l.perBatch))
	if err != nil {
		return nil, fmt.Errorf("prepare insert: %w", err)
	}
	return l, nil
}

func (l *loader) statement(rows int) string {
	var b strings.Builder
	b.Grow(len(l.insert) + rows*(len(l.tuple)+1))
	b.WriteString(l.insert)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.tuple)
	}
	return b.String()
}

func (l *loader) close() { l.full.Close() }

// load reads the table's rows from the snapshot and inserts them.
func (l *loader) load(rows func(context.Context, io.Writer) error) error {
	lw := &lineWriter{line: l.row}
	if err := rows(l.ctx, lw); err != nil {
		return err
	}
	if len(lw.partial) > 0 {
		return fmt.Errorf("row %d does not end in a newline", l.lines+1)
	}
	return l.flush()
}

// row parses one line of COPY text into the batch.
func (l *loader) row(line []byte) error {
	l.lines++
	fields := dbexport.SplitRow(line)
	if len(fields) != l.fields {
		return fmt.Errorf("row %d has %d fields, the table %d columns", l.lines, len(fields), l.fields)
	}
	size := 0
	start := len(l.args)
	var errorValues []string
	for i, col := range l.cols {
		v, ok, err := dbexport.Unescape(fields[col])
		if err != nil {
			return fmt.Errorf("row %d, column %s: %w", l.lines, l.table.Columns[col].Name, err)
		}
		if !ok {
			l.args = append(l.args, nil)
			continue
		}
		arg, err := l.codecs[i].decodeValue(v)
		if err != nil {
			return fmt.Errorf("row %d, column %s: %w", l.lines, l.table.Columns[col].Name, err)
		}
		l.args = append(l.args, arg)
		if s, ok := arg.(string); ok && s == "" && l.enumErr[i] {
			errorValues = append(errorValues, l.table.Columns[col].Name)
		}
		switch a := arg.(type) {
		case string:
			size += len(a)
		case []byte:
			size += len(a)
		default:
			size += 8
		}
	}
	if size > l.maxRow {
		return fmt.Errorf("row %d holds %d bytes, more than the server's max_allowed_packet allows; raise max_allowed_packet", l.lines, size)
	}
	if len(errorValues) > 0 {
		return l.rowWithErrorValues(start, errorValues)
	}
	l.size += size
	if len(l.args) == l.perBatch*len(l.codecs) || l.size >= l.maxBytes {
		return l.flush()
	}
	return nil
}

// rowWithErrorValues inserts the row whose arguments start at start
// alone, after the rows before it.
func (l *loader) rowWithErrorValues(start int, cols []string) error {
	row := slices.Clone(l.args[start:])
	clear(l.args[start:])
	l.args = l.args[:start]
	l.lines--
	if err := l.flush(); err != nil {
		return err
	}
	l.lines++
	if err := l.insertErrorValues(row, cols); err != nil {
		return fmt.Errorf("insert row %d (ENUM error value in %s): %w", l.lines, strings.Join(cols, ", "), err)
	}
	l.rows++
	return nil
}

// flush inserts the batch.
func (l *loader) flush() error {
	n := len(l.args) / len(l.codecs)
	if n == 0 {
		return nil
	}
	var err error
	if n == l.perBatch {
		_, err = l.full.ExecContext(l.ctx, l.args...)
	} else {
		_, err = l.tx.ExecContext(l.ctx, l.statement(n), l.args...)
	}
	if err != nil {
		return fmt.Errorf("insert rows %d to %d: %w", l.lines-int64(n)+1, l.lines, err)
	}
	l.rows += int64(n)
	clear(l.args)
	l.args, l.size = l.args[:0], 0
	return nil
}

// lineWriter calls line for each complete line written to it. The slice
// is only valid during the call.
type lineWriter struct {
	partial []byte
	line    func([]byte) error
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			break
		}
		line := p[:i]
		if len(w.partial) > 0 {
			w.partial = append(w.partial, line...)
			line = w.partial
		}
		if err := w.line(line); err != nil {
			return 0, err
		}
		w.partial = w.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}
