package sqlite

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	sqlite3 "modernc.org/sqlite/lib"

	"strata/dbexport"
)

// Options tune a Source.
type Options struct {
	// Jobs is the number of connections that read tables side by side
	// (--jobs); below 1 means 1. The connections after the first join its
	// read transaction (see join); one that cannot is not used, so Jobs
	// is an upper bound.
	Jobs int
}

// Source is one read transaction on a SQLite database, on one connection
// or on several that see the same snapshot.
type Source struct {
	path  string
	conns []*conn
	free  chan *conn // connections not running a query
}

// Open starts a read transaction on the database file d.Path.
func Open(ctx context.Context, d dbexport.DSN, opts Options) (*Source, error) {
	if _, err := os.Stat(d.Path); err != nil {
		return nil, fmt.Errorf("sqlite database %s: %w", d.Path, err)
	}
	c, err := openConn(d.Path)
	if err != nil {
		return nil, err
	}
	if err := c.begin(ctx); err != nil {
		c.close()
		return nil, fmt.Errorf("starting a read transaction on %s: %w", d.Path, err)
	}
	s := &Source{path: d.Path, conns: []*conn{c}}
	if opts.Jobs > 1 {
		s.join(ctx, opts.Jobs-1)
	}
	s.free = make(chan *conn, len(s.conns))
	for _, c := range s.conns {
		s.free <- c
	}
	return s, nil
}

// Jobs is the number of connections reading the snapshot.
func (s *Source) Jobs() int { return len(s.conns) }

// Close ends the read transaction.
func (s *Source) Close() error {
	for _, c := range s.conns {
		c.close()
	}
	return nil
}

// acquire takes a connection that no query is using; release returns it.
func (s *Source) acquire(ctx context.Context) (*conn, error) {
	select {
	case c := <-s.free:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Source) release(c *conn) { s.free <- c }

// Schema reads tables, columns, keys, indexes, triggers, views and
// AUTOINCREMENT positions from the catalog.
func (s *Source) Schema(ctx context.Context) (*dbexport.Schema, error) {
	c, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer s.release(c)
	sc := &dbexport.Schema{Engine: dbexport.EngineSQLite, Database: s.path, Encoding: "UTF-8"}
	if err := c.query(ctx, "SELECT sqlite_version()", func(r *row) error {
		sc.ServerVersion = r.string(0)
		return nil
	}); err != nil {
		return nil, err
	}
	type object struct{ kind, name, table, sql string }
	var objects []object
	err = c.query(ctx, `SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name`, func(r *row) error {
		objects = append(objects, object{r.string(0), r.string(1), r.string(2), r.string(3)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the catalog of %s: %w", s.path, err)
	}
	kinds, err := tableKinds(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("reading the catalog of %s: %w", s.path, err)
	}
	warn := func(t *dbexport.Table, w string, lost bool) {
		if t != nil {
			t.Warning = strings.TrimPrefix(t.Warning+"; "+w, "; ")
		}
		sc.Warnings = append(sc.Warnings, w)
		if lost {
			sc.NotCaptured = append(sc.NotCaptured, w)
		}
	}
	tables := map[string]*dbexport.Table{}
	views := map[string]int{}
	for _, o := range objects {
		if o.kind != "table" || kinds[o.name].kind == "shadow" {
			continue // a virtual table's shadow tables are its own, made by its DDL
		}
		t, rowIDLost, err := table(ctx, c, o.name, o.sql, kinds[o.name])
		if err != nil {
			if kinds[o.name].kind == "virtual" {
				warn(nil, fmt.Sprintf("virtual table %s is not saved: %v", o.name, err), true)
				continue
			}
			return nil, err
		}
		tables[o.name] = t
		sc.Tables = append(sc.Tables, t)
		if len(t.PrimaryKey) == 0 {
			warn(t, fmt.Sprintf("table %s has no primary key: its rows are ordered by all columns", t.Name), false)
		}
		if rowIDLost {
			warn(t, fmt.Sprintf("table %s: its rowid is not saved (columns named rowid, _rowid_ and oid hide it): restored rows get new rowids", t.Name), true)
		}
		if kinds[o.name].kind == "virtual" {
			if contentless(o.sql) {
				warn(t, fmt.Sprintf("virtual table %s keeps no content (content=''): its index is not saved, and is empty after a restore", t.Name), true)
			}
			settings, err := fts5Settings(ctx, c, o.name, kinds)
			if err != nil {
				return nil, err
			}
			if len(settings) > 0 {
				warn(t, fmt.Sprintf("the settings of full-text table %s (%s) are not saved: set them again after a restore", t.Name, strings.Join(settings, ", ")), true)
			}
		}
	}
	for _, o := range objects {
		switch {
		case (o.kind == "index" || o.kind == "trigger") && o.sql != "":
			if t := tables[o.table]; t != nil {
				t.PostDDL = append(t.PostDDL, o.sql)
			}
		case o.kind == "view":
			views[o.name] = len(sc.Views)
			sc.Views = append(sc.Views, dbexport.View{Name: o.name, DDL: o.sql})
		}
	}
	for _, o := range objects {
		// Triggers on a view (INSTEAD OF) are created with it.
		if i, ok := views[o.table]; ok && o.kind == "trigger" {
			sc.Views[i].PostDDL = append(sc.Views[i].PostDDL, o.sql)
		}
	}
	if sc.Pragmas, err = pragmas(ctx, c); err != nil {
		return nil, err
	}
	if err := statistics(ctx, c, func(w string) { warn(nil, w, true) }); err != nil {
		return nil, err
	}
	if err := autoincrement(ctx, c, tables); err != nil {
		return nil, err
	}
	return sc, nil
}

// table reads a table's definition; rowIDLost says that it is a rowid
// table whose rowids the snapshot cannot keep (see addRowID).
func table(ctx context.Context, c *conn, name, ddl string, kind tableKind) (t *dbexport.Table, rowIDLost bool, err error) {
	t = &dbexport.Table{Name: name, DDL: ddl, Consistent: true, Checks: checkExpressions(ddl), RowEncoding: dbexport.RowEncodingTyped}
	type pkCol struct {
		pos  int64
		name string
	}
	var pks []pkCol
	q := fmt.Sprintf(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(%s) ORDER BY cid`, quoteString(name))
	err = c.query(ctx, q, func(r *row) error {
		col := dbexport.Column{Name: r.string(0), Type: r.string(1), NotNull: r.int64(2) != 0}
		if !r.null(3) {
			dflt := r.string(3)
			col.Default = &dflt
		}
		col.Kind = kindOf(col.Type)
		if pk := r.int64(4); pk > 0 {
			pks = append(pks, pkCol{pk, col.Name})
		}
		t.Columns = append(t.Columns, col)
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("reading columns of %s: %w", name, err)
	}
	sort.Slice(pks, func(i, j int) bool { return pks[i].pos < pks[j].pos })
	for _, p := range pks {
		t.PrimaryKey = append(t.PrimaryKey, p.name)
	}
	if !kind.withoutRowID {
		alias, err := hasRowIDAlias(ctx, c, t)
		if err != nil {
			return nil, false, err
		}
		if !alias {
			added, err := addRowID(ctx, c, t)
			if err != nil {
				return nil, false, err
			}
			rowIDLost = !added
		}
	}
	byID := map[int64]*dbexport.ForeignKey{}
	var order []int64
	q = fmt.Sprintf(`SELECT id, "table", "from", coalesce("to", ''), on_delete, on_update FROM pragma_foreign_key_list(%s) ORDER BY id, seq`, quoteString(name))
	err = c.query(ctx, q, func(r *row) error {
		id := r.int64(0)
		fk := byID[id]
		if fk == nil {
			fk = &dbexport.ForeignKey{RefTable: r.string(1), OnDelete: r.string(4), OnUpdate: r.string(5)}
			byID[id] = fk
			order = append(order, id)
		}
		fk.Columns = append(fk.Columns, r.string(2))
		fk.RefColumns = append(fk.RefColumns, r.string(3))
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("reading foreign keys of %s: %w", name, err)
	}
	for _, id := range order {
		t.ForeignKeys = append(t.ForeignKeys, *byID[id])
	}
	return t, rowIDLost, nil
}

// autoincrement records each AUTOINCREMENT table's sqlite_sequence value,
// so restored tables hand out the same next IDs.
func autoincrement(ctx context.Context, c *conn, tables map[string]*dbexport.Table) error {
	var exists int64
	if err := c.query(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'`, func(r *row) error {
		exists = r.int64(0)
		return nil
	}); err != nil || exists == 0 {
		return err
	}
	return c.query(ctx, `SELECT name, seq FROM sqlite_sequence ORDER BY name`, func(r *row) error {
		name := r.string(0)
		if t := tables[name]; t != nil {
			t.PostDDL = append(t.PostDDL,
				fmt.Sprintf("DELETE FROM sqlite_sequence WHERE name = %s", quoteString(name)),
				fmt.Sprintf("INSERT INTO sqlite_sequence(name, seq) VALUES (%s, %d)", quoteString(name), r.int64(1)))
		}
		return nil
	})
}

const copyBatch = 64 << 10

// CopyOut writes t's rows as COPY text ordered by primary key, each value
// as SQLite stores it (docs/design.md, "Canonical row encoding").
func (s *Source) CopyOut(ctx context.Context, t *dbexport.Table, w io.Writer) (int64, error) {
	c, err := s.acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer s.release(c)
	// Rows go to w in batches of about copyBatch bytes, not one Write per
	// row.
	var n int64
	buf := make([]byte, 0, copyBatch+4<<10)
	err = c.query(ctx, selectRows(t), func(r *row) error {
		buf = appendRow(buf, r)
		n++
		if len(buf) < copyBatch {
			return nil
		}
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	})
	if err == nil && len(buf) > 0 {
		_, err = w.Write(buf)
	}
	if err != nil {
		return n, fmt.Errorf("reading table %s: %w", t.Name, err)
	}
	return n, nil
}

// CountRows counts t's rows in the snapshot (dbexport.RowCounter): the
// total of a backup's progress bar.
func (s *Source) CountRows(ctx context.Context, t *dbexport.Table) (int64, error) {
	c, err := s.acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer s.release(c)
	var n int64
	if err := c.query(ctx, "SELECT count(*) FROM "+quoteIdent(t.Name), func(r *row) error {
		n = r.int64(0)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("counting the rows of table %s: %w", t.Name, err)
	}
	return n, nil
}

// selectRows is the query that reads t's rows in key order.
func selectRows(t *dbexport.Table) string {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = quoteIdent(c.Name)
	}
	var order []string
	for _, k := range t.KeyColumns() {
		order = append(order, quoteIdent(t.Columns[k].Name))
	}
	return fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", strings.Join(cols, ", "), quoteIdent(t.Name), strings.Join(order, ", "))
}

// appendRow writes the current row as one line of typed COPY text
// (docs/design.md, "Typed values"): each value keeps its storage class.
func appendRow(dst []byte, r *row) []byte {
	for i := 0; i < r.n; i++ {
		if i > 0 {
			dst = append(dst, '\t')
		}
		v := r.value(i)
		switch v.kind() {
		case sqlite3.SQLITE_NULL:
			dst = append(dst, dbexport.Null...)
		case sqlite3.SQLITE_INTEGER:
			dst = dbexport.AppendInteger(dst, v.int64())
		case sqlite3.SQLITE_FLOAT:
			dst = dbexport.AppendReal(dst, v.float64())
		case sqlite3.SQLITE_BLOB:
			dst = dbexport.AppendBlob(dst, v.blob())
		default: // SQLITE_TEXT
			dst = dbexport.AppendText(dst, v.text())
		}
	}
	return append(dst, '\n')
}

// appendFloat writes floats as PostgreSQL does: shortest exact digits,
// Infinity, -Infinity, NaN.
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// kindOf maps a declared type to a column kind by SQLite's affinity rules
// (https://sqlite.org/datatype3.html, 3.1), refined for common names.
func kindOf(decl string) string {
	t := strings.ToUpper(decl)
	switch {
	case strings.Contains(t, "INT"):
		return dbexport.KindInt
	case strings.Contains(t, "BOOL"):
		return dbexport.KindBool
	case strings.Contains(t, "JSON"):
		return dbexport.KindJSON
	case strings.Contains(t, "TIMESTAMP") || strings.Contains(t, "DATETIME"):
		return dbexport.KindTimestamp
	case strings.Contains(t, "DATE"):
		return dbexport.KindDate
	case strings.Contains(t, "TIME"):
		return dbexport.KindTime
	case strings.Contains(t, "CHAR") || strings.Contains(t, "CLOB") || strings.Contains(t, "TEXT"):
		return dbexport.KindText
	case strings.Contains(t, "BLOB") || t == "":
		return dbexport.KindBytes
	case strings.Contains(t, "REAL") || strings.Contains(t, "FLOA") || strings.Contains(t, "DOUB"):
		return dbexport.KindFloat
	default:
		return dbexport.KindNumeric
	}
}

// checkExpressions pulls CHECK (...) expressions out of a CREATE TABLE
// statement, for drills.
func checkExpressions(ddl string) []string {
	var out []string
	upper := strings.ToUpper(ddl)
	for i := 0; ; {
		j := strings.Index(upper[i:], "CHECK")
		if j < 0 {
			return out
		}
		k := i + j + len("CHECK")
		for k < len(ddl) && (ddl[k] == ' ' || ddl[k] == '\t' || ddl[k] == '\n') {
			k++
		}
		if k >= len(ddl) || ddl[k] != '(' {
			i = k
			continue
		}
		depth, end := 0, -1
		for p := k; p < len(ddl) && end < 0; p++ {
			switch ddl[p] {
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					end = p
				}
			}
		}
		if end < 0 {
			return out
		}
		out = append(out, ddl[k+1:end])
		i = end
	}
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteString(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }
