package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"strata/dbexport"
)

// Source is one read transaction on a SQLite database.
type Source struct {
	path string
	db   *sql.DB
	conn *sql.Conn
	tx   *sql.Tx
}

// Open starts a read transaction on the database file d.Path.
func Open(ctx context.Context, d dbexport.DSN) (*Source, error) {
	if _, err := os.Stat(d.Path); err != nil {
		return nil, fmt.Errorf("sqlite database %s: %w", d.Path, err)
	}
	db, err := sql.Open("sqlite", "file:"+d.Path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", d.Path, err)
	}
	s := &Source{path: d.Path, db: db}
	if s.conn, err = db.Conn(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", d.Path, err)
	}
	if s.tx, err = s.conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err != nil {
		s.Close()
		return nil, fmt.Errorf("starting a read transaction on %s: %w", d.Path, err)
	}
	// The snapshot starts with the first read, not with BEGIN.
	var n int
	if err := s.tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		s.Close()
		return nil, fmt.Errorf("reading %s: %w", d.Path, err)
	}
	return s, nil
}

// Close ends the read transaction.
func (s *Source) Close() error {
	if s.tx != nil {
		_ = s.tx.Rollback()
	}
	if s.conn != nil {
		_ = s.conn.Close()
	}
	return s.db.Close()
}

// Schema reads tables, columns, keys, indexes, triggers, views and
// AUTOINCREMENT positions from the catalog.
func (s *Source) Schema(ctx context.Context) (*dbexport.Schema, error) {
	sc := &dbexport.Schema{Engine: dbexport.EngineSQLite, Database: s.path, Encoding: "UTF-8"}
	if err := s.tx.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&sc.ServerVersion); err != nil {
		return nil, err
	}
	type object struct{ kind, name, table, sql string }
	rows, err := s.tx.QueryContext(ctx, `SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("reading the catalog of %s: %w", s.path, err)
	}
	var objects []object
	for rows.Next() {
		var o object
		if err := rows.Scan(&o.kind, &o.name, &o.table, &o.sql); err != nil {
			rows.Close()
			return nil, err
		}
		objects = append(objects, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	tables := map[string]*dbexport.Table{}
	for _, o := range objects {
		if o.kind != "table" {
			continue
		}
		t, err := s.table(ctx, o.name, o.sql)
		if err != nil {
			return nil, err
		}
		tables[o.name] = t
		sc.Tables = append(sc.Tables, t)
		if len(t.PrimaryKey) == 0 {
			sc.Warnings = append(sc.Warnings, fmt.Sprintf("table %s has no primary key: its rows are ordered by all columns", t.Name))
		}
	}
	for _, o := range objects {
		switch {
		case (o.kind == "index" || o.kind == "trigger") && o.sql != "":
			if t := tables[o.table]; t != nil {
				t.PostDDL = append(t.PostDDL, o.sql)
			}
		case o.kind == "view":
			sc.Views = append(sc.Views, dbexport.View{Name: o.name, DDL: o.sql})
		}
	}
	if err := s.autoincrement(ctx, tables); err != nil {
		return nil, err
	}
	return sc, nil
}

func (s *Source) table(ctx context.Context, name, ddl string) (*dbexport.Table, error) {
	t := &dbexport.Table{Name: name, DDL: ddl, Consistent: true, Checks: checkExpressions(ddl)}
	rows, err := s.tx.QueryContext(ctx, `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid`, name)
	if err != nil {
		return nil, fmt.Errorf("reading columns of %s: %w", name, err)
	}
	type pkCol struct {
		pos  int
		name string
	}
	var pks []pkCol
	for rows.Next() {
		var (
			c       dbexport.Column
			notNull int
			dflt    sql.NullString
			pk      int
		)
		if err := rows.Scan(&c.Name, &c.Type, &notNull, &dflt, &pk); err != nil {
			rows.Close()
			return nil, err
		}
		c.NotNull = notNull != 0
		if dflt.Valid {
			c.Default = &dflt.String
		}
		c.Kind = kindOf(c.Type)
		if pk > 0 {
			pks = append(pks, pkCol{pk, c.Name})
		}
		t.Columns = append(t.Columns, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(pks, func(i, j int) bool { return pks[i].pos < pks[j].pos })
	for _, p := range pks {
		t.PrimaryKey = append(t.PrimaryKey, p.name)
	}
	fks, err := s.tx.QueryContext(ctx, `SELECT id, "table", "from", coalesce("to", '') FROM pragma_foreign_key_list(?) ORDER BY id, seq`, name)
	if err != nil {
		return nil, fmt.Errorf("reading foreign keys of %s: %w", name, err)
	}
	defer fks.Close()
	byID := map[int]*dbexport.ForeignKey{}
	var order []int
	for fks.Next() {
		var (
			id            int
			ref, from, to string
		)
		if err := fks.Scan(&id, &ref, &from, &to); err != nil {
			return nil, err
		}
		fk := byID[id]
		if fk == nil {
			fk = &dbexport.ForeignKey{RefTable: ref}
			byID[id] = fk
			order = append(order, id)
		}
		fk.Columns = append(fk.Columns, from)
		fk.RefColumns = append(fk.RefColumns, to)
	}
	for _, id := range order {
		t.ForeignKeys = append(t.ForeignKeys, *byID[id])
	}
	return t, fks.Err()
}

// autoincrement records each AUTOINCREMENT table's sqlite_sequence value,
// so restored tables hand out the same next IDs.
func (s *Source) autoincrement(ctx context.Context, tables map[string]*dbexport.Table) error {
	var exists int
	if err := s.tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'`).Scan(&exists); err != nil || exists == 0 {
		return err
	}
	rows, err := s.tx.QueryContext(ctx, `SELECT name, seq FROM sqlite_sequence ORDER BY name`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			name string
			seq  int64
		)
		if err := rows.Scan(&name, &seq); err != nil {
			return err
		}
		if t := tables[name]; t != nil {
			t.PostDDL = append(t.PostDDL,
				fmt.Sprintf("DELETE FROM sqlite_sequence WHERE name = %s", quoteString(name)),
				fmt.Sprintf("INSERT INTO sqlite_sequence(name, seq) VALUES (%s, %d)", quoteString(name), seq))
		}
	}
	return rows.Err()
}

// CopyOut writes t's rows as COPY text ordered by primary key. Columns are
// read as "+col" expressions so the driver hands over the stored value
// unconverted (it would otherwise turn DATE text into time.Time).
func (s *Source) CopyOut(ctx context.Context, t *dbexport.Table, w io.Writer) (int64, error) {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = "+" + quoteIdent(c.Name)
	}
	var order []string
	for _, k := range t.KeyColumns() {
		order = append(order, quoteIdent(t.Columns[k].Name))
	}
	q := fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", strings.Join(cols, ", "), quoteIdent(t.Name), strings.Join(order, ", "))
	// Rows are read from the driver directly: database/sql's Scan would
	// convert and copy every value once more. The statement runs on the
	// connection that holds the read transaction, so it sees its snapshot.
	var n int64
	err := s.conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("the sqlite driver cannot run queries directly")
		}
		rows, err := qc.QueryContext(ctx, q, nil)
		if err != nil {
			return err
		}
		defer rows.Close()
		vals := make([]driver.Value, len(cols))
		var buf []byte
		for {
			if err := rows.Next(vals); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
			buf = buf[:0]
			for i, v := range vals {
				if i > 0 {
					buf = append(buf, '\t')
				}
				buf = appendValue(buf, v)
			}
			buf = append(buf, '\n')
			if _, err := w.Write(buf); err != nil {
				return err
			}
			n++
		}
	})
	if err != nil {
		return n, fmt.Errorf("reading table %s: %w", t.Name, err)
	}
	return n, nil
}

// appendValue writes one stored SQLite value as a COPY text field.
func appendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(dst, dbexport.Null...)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case float64:
		return appendFloat(dst, v)
	case string:
		return dbexport.AppendField(dst, []byte(v))
	case []byte:
		return dbexport.AppendBytes(dst, v)
	case bool:
		if v {
			return append(dst, '1')
		}
		return append(dst, '0')
	default:
		return dbexport.AppendField(dst, []byte(fmt.Sprint(v)))
	}
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
