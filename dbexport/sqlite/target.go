package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"strata/dbexport"
)

// maxVariables stays under SQLite's default limit of 32766 bound
// parameters per statement.
const maxVariables = 30000

// Target writes tables into a SQLite file, creating it if needed.
type Target struct {
	path string
	db   *sql.DB
}

// OpenTarget opens (or creates) the SQLite file d.Path for writing.
func OpenTarget(ctx context.Context, d dbexport.DSN) (*Target, error) {
	return openTarget(ctx, d.Path, fileURI(d.Path)+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(0)")
}

// OpenPlanTarget opens the SQLite file d.Path read-only for a dry run: it
// creates no file, and a missing file plans as the new, empty database a
// restore would create, unless its folder is missing too.
func OpenPlanTarget(ctx context.Context, d dbexport.DSN) (*Target, error) {
	_, err := os.Stat(d.Path)
	if !errors.Is(err, fs.ErrNotExist) {
		return openTarget(ctx, d.Path, fileURI(d.Path)+"?mode=ro&_pragma=busy_timeout(10000)")
	}
	dir := filepath.Dir(d.Path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("opening %s: folder %s does not exist: create it first", d.Path, dir)
	}
	return openTarget(ctx, d.Path, "file::memory:")
}

func openTarget(ctx context.Context, path, uri string) (*Target, error) {
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return &Target{path: path, db: db}, nil
}

// uriEscaper escapes what SQLite's URI file names give a meaning
// (https://sqlite.org/uri.html): it decodes %XX and ends the name at ? or
// #. The driver also splits its own parameters off at the first ?.
var uriEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// fileURI is path as a SQLite URI file name that names the file path
// literally, as a Source reads it: "a#b.db" is not the file "a". An
// absolute path gets an empty authority (file:///...), so one that starts
// with // is not taken for a host.
func fileURI(path string) string {
	if filepath.IsAbs(path) {
		return "file://" + uriEscaper.Replace(path)
	}
	return "file:" + uriEscaper.Replace(path)
}

// Engine is "sqlite".
func (t *Target) Engine() string { return dbexport.EngineSQLite }

// Close closes the file.
func (t *Target) Close() error { return t.db.Close() }

// Check finds nothing that would stop a restore: a SQLite file takes a
// snapshot of any engine, and a foreign key to a table it does not have.
// The keys other tables declare on the restored ones are checked against
// the snapshot's rows through HeldKeys, by dbexport.Restore.
func (t *Target) Check(ctx context.Context, s *dbexport.Schema, tables []*dbexport.Table, replace bool) error {
	return nil
}

// DB exposes the database, for drills.
func (t *Target) DB() *sql.DB { return t.db }

// TableName is the name a snapshot's table gets in SQLite: its own name,
// or schema_name for a PostgreSQL table outside the public schema.
func TableName(t *dbexport.Table) string {
	if t.Schema == "" || t.Schema == "public" {
		return t.Name
	}
	return t.Schema + "_" + t.Name
}

// RowCount counts the rows of the table t would be restored into.
func (t *Target) RowCount(ctx context.Context, tab *dbexport.Table) (int64, bool, error) {
	name := TableName(tab)
	var exists int
	if err := t.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&exists); err != nil {
		return 0, false, fmt.Errorf("%s: %w", t.path, err)
	}
	if exists == 0 {
		return 0, false, nil
	}
	var n int64
	if err := t.db.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(name)).Scan(&n); err != nil {
		return 0, true, fmt.Errorf("counting rows of %s in %s: %w", name, t.path, err)
	}
	return n, true, nil
}

// Restore writes every table in one transaction: all or nothing. The
// views of s are re-created only when tables holds all of s's tables. A
// partial restore of a SQLite snapshot checks the foreign keys on the
// restored tables (PRAGMA foreign_key_check, the target's keys of other
// tables included) and rolls back when the rows break one.
func (t *Target) Restore(ctx context.Context, s *dbexport.Schema, tables []dbexport.TableData, replace bool) error {
	native := s.Engine == dbexport.EngineSQLite
	if err := checkPragmas(s.Pragmas); err != nil {
		return fmt.Errorf("%s: %w; nothing was changed", t.path, err)
	}
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	whole := native && dbexport.RestoresAll(s, tables)
	fresh := false
	if whole {
		if fresh, err = setFileSettings(ctx, conn, s.Pragmas); err != nil {
			return fmt.Errorf("%s: %w", t.path, err)
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting a transaction on %s: %w", t.path, err)
	}
	defer tx.Rollback()
	for _, td := range tables {
		name := TableName(td.Table)
		if replace {
			if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+quoteIdent(name)); err != nil {
				return fmt.Errorf("dropping table %s: %w", name, err)
			}
		}
		ddl := td.Table.DDL
		if !native {
			ddl = createTable(td.Table)
		}
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return fmt.Errorf("creating table %s in %s: %w", name, t.path, err)
		}
		if err := load(ctx, tx, name, td, native); err != nil {
			return fmt.Errorf("loading table %s into %s: %w", name, t.path, err)
		}
	}
	if native {
		for _, td := range tables {
			for _, stmt := range td.Table.PostDDL {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("table %s: %s: %w", td.Table.Name, firstLine(stmt), err)
				}
			}
		}
		var views []dbexport.View // a partial restore leaves the views alone
		if dbexport.RestoresAll(s, tables) {
			views = s.Views
		} else if err := foreignKeyCheck(ctx, tx, tables); err != nil {
			return fmt.Errorf("%s: %w; rolled back, nothing changed", t.path, err)
		}
		for _, v := range views {
			if replace {
				if _, err := tx.ExecContext(ctx, "DROP VIEW IF EXISTS "+quoteIdent(v.Name)); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, v.DDL); err != nil {
				return fmt.Errorf("view %s: %w", v.Name, err)
			}
			for _, stmt := range v.PostDDL {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("view %s: %s: %w", v.Name, firstLine(stmt), err)
				}
			}
		}
		if whole {
			if err := setHeaderFields(ctx, tx, s.Pragmas); err != nil {
				return fmt.Errorf("%s: %w", t.path, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing the restore into %s: %w", t.path, err)
	}
	if fresh && s.Pragmas[pragmaWAL] == 1 {
		if _, err := conn.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
			return fmt.Errorf("the restore into %s is committed, but setting its journal mode to WAL failed: %w", t.path, err)
		}
	}
	return nil
}

// load streams the table's COPY text into batched multi-row INSERTs.
func load(ctx context.Context, tx *sql.Tx, name string, td dbexport.TableData, native bool) error {
	cols := td.Table.Columns
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(td.Rows(ctx, pw)) }()
	defer pr.Close()
	batch := maxVariables / len(cols)
	if batch > 500 {
		batch = 500
	}
	rowSQL := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.Name)
	}
	prefix := "INSERT INTO " + quoteIdent(name) + " (" + strings.Join(names, ", ") + ") VALUES "
	var (
		args []any
		rows int
		full *sql.Stmt
	)
	flush := func() error {
		if rows == 0 {
			return nil
		}
		var err error
		if rows == batch {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, prefix+strings.TrimSuffix(strings.Repeat(rowSQL+",", batch), ",")); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, prefix+strings.TrimSuffix(strings.Repeat(rowSQL+",", rows), ","), args...)
		}
		args, rows = args[:0], 0
		return err
	}
	enc, err := td.Table.RowEncodingOf()
	if err != nil {
		return err
	}
	conv := func(f []byte, c dbexport.Column) (any, error) { return convert(f, c.Kind) }
	switch {
	case enc == dbexport.RowEncodingTyped:
		conv = convertTyped
	case !native:
		conv = convertOther
	}
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	line := 0
	for sc.Scan() {
		line++
		fields := dbexport.SplitRow(sc.Bytes())
		if len(fields) != len(cols) {
			return fmt.Errorf("row %d has %d fields, the table has %d columns", line, len(fields), len(cols))
		}
		for i, f := range fields {
			v, err := conv(f, cols[i])
			if err != nil {
				return fmt.Errorf("row %d, column %s: %w", line, cols[i].Name, err)
			}
			args = append(args, v)
		}
		rows++
		if rows == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if full != nil {
		defer full.Close()
	}
	return flush()
}

// convertTyped turns one field of a typed row into the value of its own
// storage class, which SQLite stores as it was: the column's affinity
// already had its say when the value was first stored.
func convertTyped(field []byte, _ dbexport.Column) (any, error) {
	v, err := dbexport.DecodeTyped(field)
	switch v.Class {
	case dbexport.ClassNull:
		return nil, err
	case dbexport.ClassInteger:
		return v.Int, nil
	case dbexport.ClassReal:
		return v.Real, nil
	case dbexport.ClassText:
		return string(v.Bytes), nil
	}
	return v.Bytes, nil // never nil: an empty BLOB stays one
}

// convertOther converts a field of another engine's table, whose column
// createTable declared: an integer that fits no int64 in a column declared
// INTEGER (the types wideInteger knows hold none) is refused, as SQLite
// would round it to a REAL.
func convertOther(field []byte, c dbexport.Column) (any, error) {
	v, err := convert(field, c.Kind)
	if s, ok := v.(string); ok && sqliteType(c) == "INTEGER" && isInteger(s) {
		return nil, fmt.Errorf("the integer %s does not fit SQLite's 64-bit INTEGER column (strata declares TEXT only for MySQL's bigint unsigned and bit(64))", s)
	}
	return v, err
}

func isInteger(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// convert turns one COPY text field of a table of the first row encoding
// (every snapshot of another engine, and SQLite snapshots written before
// the typed one) into a value by its column's kind.
func convert(field []byte, kind string) (any, error) {
	v, ok, err := dbexport.Unescape(field)
	if err != nil || !ok {
		return nil, err
	}
	s := string(v)
	switch kind {
	case dbexport.KindBytes:
		if b, err := dbexport.DecodeBytes(v); err == nil {
			return b, nil
		}
		return s, nil
	case dbexport.KindInt:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
	case dbexport.KindFloat:
		switch s {
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		case "NaN":
			return s, nil // SQLite would store NaN as NULL
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, nil
		}
	case dbexport.KindBool:
		switch strings.ToLower(s) {
		case "t", "true":
			return int64(1), nil
		case "f", "false":
			return int64(0), nil
		}
		// MySQL's tinyint(1) is a bool that may hold any small integer.
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
	}
	return s, nil
}

// createTable writes a CREATE TABLE for a table of another engine with the
// type mapping of docs/design.md ("Cross-engine restore").
func createTable(t *dbexport.Table) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE " + quoteIdent(TableName(t)) + " (")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.Name) + " " + sqliteType(c))
		if c.NotNull {
			b.WriteString(" NOT NULL")
		}
	}
	if len(t.PrimaryKey) > 0 {
		pk := make([]string, len(t.PrimaryKey))
		for i, k := range t.PrimaryKey {
			pk[i] = quoteIdent(k)
		}
		b.WriteString(", PRIMARY KEY (" + strings.Join(pk, ", ") + ")")
	}
	b.WriteString(")")
	return b.String()
}

// sqliteType maps a column's kind to a SQLite type. Numeric stays TEXT so
// no digit of a decimal is lost to floating point, and so do integers
// that may not fit SQLite's 64 bits (MySQL's bigint unsigned and bit(64)):
// a column of INTEGER affinity would store 18446744073709551615 as a REAL.
func sqliteType(c dbexport.Column) string {
	switch c.Kind {
	case dbexport.KindInt:
		if wideInteger(c.Type) {
			return "TEXT"
		}
		return "INTEGER"
	case dbexport.KindBool:
		return "INTEGER"
	case dbexport.KindFloat:
		return "REAL"
	case dbexport.KindBytes:
		return "BLOB"
	default:
		return "TEXT"
	}
}

// wideInteger says whether an integer type of another engine holds
// values beyond int64.
func wideInteger(typ string) bool {
	t := strings.ToLower(typ)
	return (strings.Contains(t, "bigint") && strings.Contains(t, "unsigned")) || strings.HasPrefix(t, "bit(64)")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + "..."
	}
	return s
}

var _ dbexport.Target = (*Target)(nil)
var _ dbexport.Source = (*Source)(nil)

// Inspector methods, for restore drills (package verify).

// QuotedTableName quotes the name t has in this SQLite file.
func (t *Target) QuotedTableName(tab *dbexport.Table) string { return quoteIdent(TableName(tab)) }

// Quote quotes an identifier.
func (t *Target) Quote(ident string) string { return quoteIdent(ident) }

// foreignKeyCheck fails when rows of the restored tables refer to missing
// rows, or rows of other tables refer to rows the restored tables no
// longer hold. Foreign keys are not enforced on the target's connections
// (foreign_keys(0)), so nothing else would notice.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx, tables []dbexport.TableData) error {
	restored := map[string]bool{}
	for _, td := range tables {
		restored[TableName(td.Table)] = true
	}
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("checking foreign keys: %w", err)
	}
	defer rows.Close()
	type key struct{ table, parent string }
	bad := map[key]int{}
	var order []key
	for rows.Next() {
		var k key
		var rowid sql.NullInt64
		var fkid int
		if err := rows.Scan(&k.table, &rowid, &k.parent, &fkid); err != nil {
			return fmt.Errorf("checking foreign keys: %w", err)
		}
		if !restored[k.table] && !restored[k.parent] {
			continue
		}
		if bad[k] == 0 {
			order = append(order, k)
		}
		bad[k]++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("checking foreign keys: %w", err)
	}
	if len(order) == 0 {
		return nil
	}
	var msgs []string
	for _, k := range order {
		refer := fmt.Sprintf("%d rows of table %s refer", bad[k], k.table)
		if bad[k] == 1 {
			refer = "1 row of table " + k.table + " refers"
		}
		msgs = append(msgs, fmt.Sprintf("%s to rows missing from table %s", refer, k.parent))
	}
	return fmt.Errorf("the restored rows break foreign keys: %s (restore those tables too, or correct their rows first)", strings.Join(msgs, "; "))
}
