package snapdiff

import (
	"bufio"
	"bytes"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"strata/dbexport"
)

// SQLWriter writes the changes of a diff as one SQL transaction that
// turns a database holding A's rows into one holding B's
// (docs/design.md, "Diff as SQL"): first the deletes, child tables first;
// then per table, parent tables first, the updates of the changed columns
// and the inserts in batches. Deletes go first and inserts last so that a
// unique value a deleted or updated row held can be taken by another; an
// update that would take a value another updated row still holds (two
// rows swap a unique value) is written as a delete and an insert
// instead. Foreign keys are kept from acting on the way (a cascade of a
// parent's delete would remove rows B keeps): MySQL and SQLite turn them
// off for the script, PostgreSQL drops those that could act and adds them
// back, validated, before COMMIT. Set Options.Order to its Order and
// Options.Emit to its Change, then call Finish. The statements other
// than deletes are held in memory or a temporary file until then.
type SQLWriter struct {
	out    io.Writer
	engine string
	table  *TableDiff
	// body holds the inserts and updates, written after the deletes: a
	// temporary file (0600, removed by Finish), so memory does not grow
	// with the rows changed.
	body *os.File
	w    *bufio.Writer
	// ins holds the current table's inserts (a temporary file as body),
	// copied to body after the table's updates; batch holds the rows of
	// the INSERT being built, batchBytes their bytes.
	ins        *os.File
	insW       *bufio.Writer
	batch      []string
	batchBytes int
	deletes    map[string]*bytes.Buffer // by table, written last
	order      []*TableDiff
	// others are the tables of A the diff leaves out (--tables,
	// --exclude-tables): the target holds them as A does, and their
	// foreign keys may reference the tables the script changes.
	others []*dbexport.Table
	// a and b are the snapshots' schemas, for the sequences.
	a, b *dbexport.Schema
	// generated are the generated columns of each table (by name), which
	// the server computes: left out of inserts, updates and the WHERE of
	// a keyless delete.
	generated map[string]map[int]bool
	// changed says per table (by name) what its rows go through, for
	// the foreign keys that must be set aside.
	changed map[string]*tableChanges
	// taken holds, per column of the current table, hashes of the new
	// values of its updates so far: an update whose old value is among
	// them swaps a value with an earlier one (see Change).
	taken map[int]map[uint64]struct{}
	seed  maphash.Seed
}

// tableChanges is what the diff does to one table's rows.
type tableChanges struct {
	deletes, inserts, updates bool
	rewrites                  bool         // updates written as a delete and an insert
	updated                   map[int]bool // columns some update changes
}

// Insert batches: at most this many rows, or about this many bytes.
const (
	sqlBatchRows  = 500
	sqlBatchBytes = 512 << 10
)

// SQL engines.
var sqlEngines = []string{dbexport.EnginePostgres, dbexport.EngineMySQL, dbexport.EngineSQLite}

// NewSQLWriter writes SQL for engine ("postgres", "mysql" or "sqlite") to w.
func NewSQLWriter(w io.Writer, engine string) (*SQLWriter, error) {
	found := false
	for _, e := range sqlEngines {
		found = found || e == engine
	}
	if !found {
		return nil, fmt.Errorf("--engine %q: want postgres, mysql or sqlite", engine)
	}
	return &SQLWriter{out: w, engine: engine, deletes: map[string]*bytes.Buffer{},
		changed: map[string]*tableChanges{}, seed: maphash.MakeSeed()}, nil
}

// Order checks that every table can be turned into B by rows alone (it
// exists on both sides with the same columns and key) and puts the
// tables in foreign-key order: a table after those it references. It
// keeps the tables of A left out of the diff, whose foreign keys the
// script sets aside too.
func (s *SQLWriter) Order(tables []*TableDiff, a, b *dbexport.Schema) ([]*TableDiff, error) {
	for _, t := range tables {
		switch {
		case t.A == nil:
			return nil, fmt.Errorf("table %s is new in B: --format sql changes rows, not tables (restore it from B with --tables %s)", t.Name, t.Name)
		case t.B == nil:
			return nil, fmt.Errorf("table %s was dropped before B: --format sql changes rows, not tables (leave it out with --exclude-tables %s)", t.Name, t.Name)
		case !sameColumns(t.A, t.B):
			return nil, fmt.Errorf("the columns or primary key of table %s changed between A and B: --format sql changes rows, not definitions (leave it out with --exclude-tables %s)", t.Name, t.Name)
		}
	}
	s.order = parentsFirst(tables)
	s.a, s.b = a, b
	s.generated = map[string]map[int]bool{}
	for _, t := range tables {
		s.generated[t.Name] = s.generatedColumns(t)
	}
	in := map[string]bool{}
	for _, t := range tables {
		in[t.Name] = true
	}
	for _, t := range a.Tables {
		if !in[t.QualifiedName()] {
			s.others = append(s.others, t)
		}
	}
	return s.order, nil
}

func sameColumns(a, b *dbexport.Table) bool {
	if len(a.Columns) != len(b.Columns) || strings.Join(a.PrimaryKey, "\x00") != strings.Join(b.PrimaryKey, "\x00") {
		return false
	}
	for i := range a.Columns {
		if a.Columns[i].Name != b.Columns[i].Name {
			return false
		}
	}
	return true
}

// parentsFirst orders tables so that each comes after the tables its
// foreign keys reference (among those given); a cycle keeps name order
// for the tables in it.
func parentsFirst(tables []*TableDiff) []*TableDiff {
	byName := map[string]*TableDiff{}
	for _, t := range tables {
		byName[t.Name] = t
	}
	state := map[string]int{} // 1 visiting, 2 done
	var out []*TableDiff
	var visit func(t *TableDiff)
	visit = func(t *TableDiff) {
		if state[t.Name] != 0 {
			return
		}
		state[t.Name] = 1
		for _, fk := range t.B.ForeignKeys {
			if p := byName[refName(t.B, fk)]; p != nil && p != t {
				visit(p)
			}
		}
		state[t.Name] = 2
		out = append(out, t)
	}
	for _, t := range tables {
		visit(t)
	}
	return out
}

// refName is the qualified name of the table a foreign key of t
// references.
func refName(t *dbexport.Table, fk dbexport.ForeignKey) string {
	switch {
	case fk.RefSchema != "":
		return fk.RefSchema + "." + fk.RefTable
	case t.Schema != "":
		return t.Schema + "." + fk.RefTable
	}
	return fk.RefTable
}

// Change writes one change (Options.Emit).
func (s *SQLWriter) Change(c *Change) error {
	if s.body == nil {
		f, err := os.CreateTemp("", "strata-diff-*.sql")
		if err != nil {
			return fmt.Errorf("--format sql: %w", err)
		}
		s.body, s.w = f, bufio.NewWriterSize(f, 256<<10)
	}
	if c.Table != s.table {
		if err := s.endTable(); err != nil {
			return err
		}
		s.table = c.Table
		clear(s.taken)
	}
	tc := s.changed[c.Table.Name]
	if tc == nil {
		tc = &tableChanges{updated: map[int]bool{}}
		s.changed[c.Table.Name] = tc
	}
	switch c.Op {
	case OpInsert:
		tc.inserts = true
		return s.insert(c.New)
	case OpUpdate:
		if s.swaps(c) {
			// Written as a delete (with the deletes, before every
			// update) and an insert (after them).
			tc.rewrites = true
			if err := s.delete(c); err != nil {
				return err
			}
			return s.insert(c.New)
		}
		tc.updates = true
		for _, col := range c.Changed {
			tc.updated[col] = true
		}
		var set []string
		for _, col := range c.Changed {
			if s.generated[c.Table.Name][col] {
				continue // the server computes it from the others
			}
			v, err := s.literal(c.New[col], c.Table.Columns[col], c.Table.B)
			if err != nil {
				return err
			}
			set = append(set, s.ident(c.Table.Columns[col].Name)+" = "+v)
		}
		if len(set) == 0 {
			return nil
		}
		where, err := s.where(c, c.Old)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.w, "UPDATE %s SET %s WHERE %s;\n", s.tableName(c.Table), strings.Join(set, ", "), where)
	case OpDelete:
		tc.deletes = true
		return s.delete(c)
	}
	return nil
}

// swaps reports whether update c gives up a value of a changed column
// that an earlier update of the table took: run in order, that earlier
// update would have failed on a unique constraint holding the column.
// Otherwise it records the values c takes. The hashes may collide, and
// the column may not be unique: either only costs a delete and an insert
// where an update would do.
func (s *SQLWriter) swaps(c *Change) bool {
	if s.taken == nil {
		s.taken = map[int]map[uint64]struct{}{}
	}
	for _, col := range c.Changed {
		if _, ok := s.taken[col][maphash.Bytes(s.seed, c.Old[col])]; ok && !isNull(c.Old[col]) {
			return true
		}
	}
	for _, col := range c.Changed {
		if isNull(c.New[col]) {
			continue // NULLs never collide in a unique constraint
		}
		m := s.taken[col]
		if m == nil {
			m = map[uint64]struct{}{}
			s.taken[col] = m
		}
		m[maphash.Bytes(s.seed, c.New[col])] = struct{}{}
	}
	return false
}

// isNull reports whether a stored field is NULL (\N in COPY text and in
// typed rows alike).
func isNull(f []byte) bool { return string(f) == dbexport.Null }

// insert adds a row of B to the current table's INSERT batch.
func (s *SQLWriter) insert(newRow [][]byte) error {
	row, err := s.tuple(newRow)
	if err != nil {
		return err
	}
	s.batch = append(s.batch, row)
	s.batchBytes += len(row)
	if len(s.batch) >= sqlBatchRows || s.batchBytes >= sqlBatchBytes {
		return s.flushBatch()
	}
	return nil
}

// delete adds the delete of c's row of A to its table's deletes.
func (s *SQLWriter) delete(c *Change) error {
	where, err := s.where(c, c.Old)
	if err != nil {
		return err
	}
	buf := s.deletes[c.Table.Name]
	if buf == nil {
		buf = &bytes.Buffer{}
		s.deletes[c.Table.Name] = buf
	}
	name := s.tableName(c.Table)
	switch {
	case c.Table.Keyed:
		fmt.Fprintf(buf, "DELETE FROM %s WHERE %s;\n", name, where)
	case s.engine == dbexport.EnginePostgres:
		// One of possibly several equal rows.
		fmt.Fprintf(buf, "DELETE FROM %s WHERE ctid = (SELECT ctid FROM %s WHERE %s LIMIT 1);\n", name, name, where)
	case s.engine == dbexport.EngineMySQL:
		fmt.Fprintf(buf, "DELETE FROM %s WHERE %s LIMIT 1;\n", name, where)
	default:
		fmt.Fprintf(buf, "DELETE FROM %s WHERE rowid = (SELECT rowid FROM %s WHERE %s LIMIT 1);\n", name, name, where)
	}
	return nil
}

// begin is the start of the script, up to the first delete.
//
// A foreign key must not act while the script runs: a parent's delete
// would cascade into child rows B keeps (rows B moves to another parent,
// or rows a delete and insert brings back), and a check made at once
// would fail on an order that is right by COMMIT. MySQL turns foreign
// keys off for the session (as mysqldump does; which also stops their
// actions) and back to what they were after COMMIT. SQLite turns them off
// (as sqlite3's .dump does; PRAGMA foreign_keys cannot change within a
// transaction) when a key could act, and otherwise defers their checks
// to COMMIT. PostgreSQL drops the keys that could act or fail
// (setAside) and adds them back, validated, before COMMIT.
func (s *SQLWriter) begin() string {
	switch s.engine {
	case dbexport.EnginePostgres:
		var b strings.Builder
		// The script is UTF-8 whatever the client's encoding (as
		// pg_dump sets it, for the session).
		b.WriteString("SET client_encoding = 'UTF8';\nBEGIN;\nSET LOCAL standard_conforming_strings = on;\n")
		for _, fk := range s.setAside() {
			fmt.Fprintf(&b, "ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s;\n", s.qualified(fk.table), s.ident(fk.key.Name))
		}
		return b.String()
	case dbexport.EngineMySQL:
		return "SET NAMES utf8mb4;\nSET @strata_foreign_key_checks = @@foreign_key_checks;\nSET foreign_key_checks = 0;\nSTART TRANSACTION;\n"
	}
	for _, k := range s.foreignKeys() {
		if s.changed[refName(k.table, k.key)] != nil && (k.key.Changes(false) || k.key.Changes(true)) {
			return "PRAGMA foreign_keys = OFF;\nBEGIN;\n"
		}
	}
	// Checked at COMMIT: within the transaction rows may refer to rows
	// written later.
	return "BEGIN;\nPRAGMA defer_foreign_keys = ON;\n"
}

// end is the end of the script, from COMMIT on (PostgreSQL: from the
// foreign keys added back).
func (s *SQLWriter) end() string {
	switch s.engine {
	case dbexport.EnginePostgres:
		var b strings.Builder
		for _, fk := range s.setAside() {
			b.WriteString(fk.add + ";\n")
		}
		b.WriteString("COMMIT;\n")
		return b.String()
	case dbexport.EngineMySQL:
		return "COMMIT;\n" + mysqlRestoreChecks
	}
	return "COMMIT;\n"
}

// mysqlRestoreChecks ends a MySQL script: foreign key checks back as
// they were.
const mysqlRestoreChecks = "SET foreign_key_checks = @strata_foreign_key_checks;\n"

// tableKey is a foreign key of a table the target holds.
type tableKey struct {
	table *dbexport.Table
	key   dbexport.ForeignKey
	add   string // the table's ALTER TABLE ... ADD CONSTRAINT of it, if known
}

// foreignKeys lists the foreign keys of every table the target holds:
// those of the diff as B defines them, and those of the tables of A the
// diff leaves out, which reference the changed tables all the same.
// PostgreSQL's statement that adds a key back is the key's entry in
// PostDDL (ddl.go of package postgres puts one per foreign key last); a
// table whose PostDDL does not hold them gets none.
func (s *SQLWriter) foreignKeys() []tableKey {
	var out []tableKey
	add := func(t *dbexport.Table) {
		n := len(t.PostDDL) - len(t.ForeignKeys)
		for i, fk := range t.ForeignKeys {
			k := tableKey{table: t, key: fk}
			if n >= 0 && strings.Contains(t.PostDDL[n+i], "FOREIGN KEY") {
				k.add = t.PostDDL[n+i]
			}
			out = append(out, k)
		}
	}
	for _, t := range s.order {
		add(t.B)
	}
	for _, t := range s.others {
		add(t)
	}
	return out
}

// setAside lists the PostgreSQL foreign keys that could act or fail
// while the script runs: those, of any table the target holds, whose
// referenced table has rows deleted (or written as a delete and an
// insert), or updates of the referenced columns, and those of a table
// that references itself and changes. A key without a statement to add
// it back stays.
func (s *SQLWriter) setAside() []tableKey {
	var out []tableKey
	for _, k := range s.foreignKeys() {
		ref := refName(k.table, k.key)
		p := s.changed[ref]
		if p == nil || k.add == "" {
			continue
		}
		act := p.deletes || p.rewrites
		if ref == k.table.QualifiedName() {
			act = act || p.inserts || p.updates
		}
		for _, col := range k.key.RefColumns {
			for c := range p.updated {
				act = act || s.columnName(ref, c) == col
			}
		}
		if act {
			out = append(out, k)
		}
	}
	return out
}

// columnName is the name of column c of the table named name.
func (s *SQLWriter) columnName(name string, c int) string {
	for _, t := range s.order {
		if t.Name == name && c < len(t.Columns) {
			return t.Columns[c].Name
		}
	}
	return ""
}

// endTable writes the inserts of the current table after its updates.
func (s *SQLWriter) endTable() error {
	if err := s.flushBatch(); err != nil {
		return err
	}
	if s.ins == nil {
		return nil
	}
	if err := s.insW.Flush(); err != nil {
		return fmt.Errorf("--format sql: %w", err)
	}
	if _, err := s.ins.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("--format sql: %w", err)
	}
	if _, err := io.Copy(s.w, s.ins); err != nil {
		return fmt.Errorf("--format sql: %w", err)
	}
	if err := s.ins.Truncate(0); err != nil {
		return fmt.Errorf("--format sql: %w", err)
	}
	_, err := s.ins.Seek(0, io.SeekStart)
	return err
}

// flushBatch writes the rows of the INSERT being built.
func (s *SQLWriter) flushBatch() error {
	if len(s.batch) == 0 {
		return nil
	}
	if s.ins == nil {
		f, err := os.CreateTemp("", "strata-diff-*.sql")
		if err != nil {
			return fmt.Errorf("--format sql: %w", err)
		}
		s.ins, s.insW = f, bufio.NewWriterSize(f, 256<<10)
	}
	var cols []string
	for i, c := range s.table.Columns {
		if !s.generated[s.table.Name][i] {
			cols = append(cols, s.ident(c.Name))
		}
	}
	override := ""
	if s.engine == dbexport.EnginePostgres {
		override = " OVERRIDING SYSTEM VALUE" // identity columns GENERATED ALWAYS keep B's values
	}
	_, err := fmt.Fprintf(s.insW, "INSERT INTO %s (%s)%s VALUES\n  %s;\n", s.tableName(s.table), strings.Join(cols, ", "), override, strings.Join(s.batch, ",\n  "))
	s.batch, s.batchBytes = s.batch[:0], 0
	return err
}

// Finish writes the transaction: the deletes, child tables first, the
// inserts and updates, and the COMMIT. A diff without changes writes
// nothing.
func (s *SQLWriter) Finish() error {
	pos := s.positions()
	if s.body == nil && len(pos) == 0 {
		return nil
	}
	defer s.Close()
	w := bufio.NewWriterSize(s.out, 256<<10)
	w.WriteString(s.begin())
	for i := len(s.order) - 1; i >= 0; i-- {
		if buf := s.deletes[s.order[i].Name]; buf != nil {
			w.Write(buf.Bytes())
		}
	}
	if s.body != nil {
		if err := s.endTable(); err != nil {
			return err
		}
		if err := s.w.Flush(); err != nil {
			return fmt.Errorf("--format sql: %w", err)
		}
		if _, err := s.body.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("--format sql: %w", err)
		}
		if _, err := io.Copy(w, s.body); err != nil {
			return err
		}
	}
	end := s.end()
	if s.engine == dbexport.EngineMySQL {
		// ALTER TABLE commits the transaction it runs in: after COMMIT.
		end, _ = strings.CutSuffix(end, mysqlRestoreChecks)
		end += strings.Join(pos, "") + mysqlRestoreChecks
	} else {
		end = strings.Join(pos, "") + end
	}
	w.WriteString(end)
	return w.Flush()
}

// positions are the statements that set the sequence and auto-increment
// positions B has where they moved since A (the target holds A's), as a
// restore of B leaves them: B's own position statements of each table of
// the diff (PostgreSQL's setval of the sequences it owns, MySQL's ALTER
// TABLE ... AUTO_INCREMENT = N, SQLite's sqlite_sequence row), and,
// when the diff leaves no table out, setval of the other sequences.
func (s *SQLWriter) positions() []string {
	var out []string
	for _, t := range s.order {
		if t.PositionsMoved {
			_, pos := splitPositions(t.B)
			for _, p := range pos {
				out = append(out, p+";\n")
			}
		}
	}
	if len(s.others) > 0 || s.a == nil {
		return out
	}
	at := map[string]dbexport.Sequence{}
	for _, q := range s.a.Sequences {
		at[q.Schema+"\x00"+q.Name] = q
	}
	for _, q := range s.b.Sequences {
		p, ok := at[q.Schema+"\x00"+q.Name]
		if !ok || p.Value == q.Value && p.Called == q.Called && p.Round == q.Round {
			continue
		}
		switch s.engine {
		case dbexport.EnginePostgres:
			out = append(out, fmt.Sprintf("SELECT pg_catalog.setval(%s, %d, %t);\n", quote(s.ident(q.Schema)+"."+s.ident(q.Name)), q.Value, q.Called))
		case dbexport.EngineMySQL:
			out = append(out, fmt.Sprintf("SELECT SETVAL(%s, %d, 0, %d);\n", s.ident(q.Name), q.Value, q.Round))
		}
	}
	return out
}

// Close removes the temporary files; Finish calls it, and a caller whose
// diff failed calls it instead.
func (s *SQLWriter) Close() {
	for _, f := range []*os.File{s.body, s.ins} {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
	s.body, s.ins = nil, nil
}

// tuple is an inserted row's values: "(1, 'a', NULL)".
func (s *SQLWriter) tuple(row [][]byte) (string, error) {
	var vals []string
	for i, f := range row {
		if s.generated[s.table.Name][i] {
			continue
		}
		v, err := s.literal(f, s.table.Columns[i], s.table.B)
		if err != nil {
			return "", err
		}
		vals = append(vals, v)
	}
	return "(" + strings.Join(vals, ", ") + ")", nil
}

// where selects the row of a change by its key: the key columns (every
// column of a table without a primary key), compared so that NULL
// matches NULL.
func (s *SQLWriter) where(c *Change, row [][]byte) (string, error) {
	var parts []string
	for _, k := range c.Table.Key {
		if !c.Table.Keyed && s.generated[c.Table.Name][k] {
			continue // follows from the other columns
		}
		col := c.Table.Columns[k]
		v, err := s.literal(row[k], col, c.Table.A)
		if err != nil {
			return "", err
		}
		id := s.ident(col.Name)
		if s.engine == dbexport.EnginePostgres && !c.Table.Keyed && pgTextCompared(col.Type) {
			// The COPY text strata stored is the type's output, which
			// ::text gives too.
			id += "::text"
		}
		switch {
		case v != "NULL" && c.Table.Keyed:
			parts = append(parts, id+" = "+v)
		case s.engine == dbexport.EnginePostgres:
			parts = append(parts, id+" IS NOT DISTINCT FROM "+v)
		case s.engine == dbexport.EngineMySQL:
			parts = append(parts, id+" <=> "+v)
		default:
			parts = append(parts, id+" IS "+v)
		}
	}
	return strings.Join(parts, " AND "), nil
}

// pgTextCompared reports whether a PostgreSQL column of this type (as
// format_type writes it) is compared by its text in a keyless delete:
// json, xml and the geometric types, and arrays of them, have no
// equality operator (box's = compares areas), so "IS NOT DISTINCT FROM"
// fails or matches other rows.
func pgTextCompared(typ string) bool {
	switch strings.TrimRight(typ, "[]") {
	case "json", "xml", "point", "line", "lseg", "box", "path", "polygon", "circle":
		return true
	}
	return false
}

// generatedColumns finds the generated columns of a PostgreSQL or MySQL
// table in B's DDL, which writes one column a line, starting with its
// quoted name (PostgreSQL's columns of ddl.go of package postgres,
// MySQL's SHOW CREATE TABLE): "GENERATED ALWAYS AS (" follows the type
// there, and an identity column's "GENERATED ... AS IDENTITY" has no
// parenthesis. SQLite's snapshots leave generated columns out of
// Columns.
func (s *SQLWriter) generatedColumns(t *TableDiff) map[int]bool {
	if s.engine == dbexport.EngineSQLite {
		return nil
	}
	lines := map[string]string{}
	for _, l := range strings.Split(t.B.DDL, "\n") {
		l = strings.TrimLeft(l, " \t")
		if len(l) > 0 && (l[0] == '"' || l[0] == '`') {
			if i := identEnd(l); i > 0 {
				lines[l[:i]] = l[i:]
			}
		}
	}
	out := map[int]bool{}
	for i, c := range t.Columns {
		if rest, ok := lines[s.ident(c.Name)]; ok && strings.Contains(rest, " GENERATED ALWAYS AS (") {
			out[i] = true
		}
	}
	return out
}

// identEnd is the length of the quoted identifier l starts with (its
// quote doubled inside it), or 0.
func identEnd(l string) int {
	q := l[0]
	for i := 1; i < len(l); i++ {
		if l[i] != q {
			continue
		}
		if i+1 < len(l) && l[i+1] == q {
			i++
			continue
		}
		return i + 1
	}
	return 0
}

// tableName is the table's name quoted for the engine (PostgreSQL:
// schema.table).
func (s *SQLWriter) tableName(t *TableDiff) string { return s.qualified(t.B) }

func (s *SQLWriter) qualified(t *dbexport.Table) string {
	if s.engine == dbexport.EnginePostgres && t.Schema != "" {
		return s.ident(t.Schema) + "." + s.ident(t.Name)
	}
	return s.ident(t.Name)
}

// ident quotes an identifier.
func (s *SQLWriter) ident(name string) string {
	if s.engine == dbexport.EngineMySQL {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// literal writes one stored field as a SQL literal of the engine.
func (s *SQLWriter) literal(field []byte, col dbexport.Column, t *dbexport.Table) (string, error) {
	if enc, _ := t.RowEncodingOf(); enc == dbexport.RowEncodingTyped {
		return s.typedLiteral(field)
	}
	v, ok, err := dbexport.Unescape(field)
	if err != nil {
		return "", fmt.Errorf("table %s column %s: %w", t.QualifiedName(), col.Name, err)
	}
	if !ok {
		return "NULL", nil
	}
	switch s.engine {
	case dbexport.EnginePostgres:
		// A quoted literal takes the column's type; bytea reads its \x
		// hex form, arrays, JSON, dates their text.
		return quote(string(v)), nil
	case dbexport.EngineMySQL:
		return mysqlLiteral(v, col)
	}
	return sqliteLiteral(v, col)
}

// quote is a standard SQL string literal: quotes doubled, backslashes as
// they are.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// mysqlLiteral types a value by its column: binary types as hex, floats
// as doubles (so a FLOAT's shortest float32 digits do not round twice),
// BIT as its integer, anything else as a utf8mb4 string the server
// converts to the column's type; a string with a backslash or NUL in hex,
// whatever the session's sql_mode says of backslashes.
func mysqlLiteral(v []byte, col dbexport.Column) (string, error) {
	base := strings.ToLower(col.Type)
	if i := strings.IndexAny(base, "( "); i >= 0 {
		base = base[:i]
	}
	switch {
	case col.Kind == dbexport.KindBytes || strings.HasSuffix(base, "binary") || strings.HasSuffix(base, "blob"):
		b, err := dbexport.DecodeBytes(v)
		if err != nil {
			return "", fmt.Errorf("column %s: %w", col.Name, err)
		}
		return hexLiteral(b), nil
	case base == "float" || base == "double" || base == "real":
		bits := 64
		if base == "float" {
			bits = 32
		}
		f, err := strconv.ParseFloat(string(v), bits)
		if err != nil {
			return "", fmt.Errorf("column %s: float %q: %w", col.Name, v, err)
		}
		return strconv.FormatFloat(f, 'e', -1, 64), nil
	case base == "bit":
		if _, err := strconv.ParseUint(string(v), 10, 64); err != nil {
			return "", fmt.Errorf("column %s: bit value %q is no unsigned integer", col.Name, v)
		}
		return string(v), nil
	}
	if bytes.ContainsAny(v, "\\\x00") || !utf8.Valid(v) {
		return "_utf8mb4 " + hexLiteral(v), nil
	}
	return "_utf8mb4" + quote(string(v)), nil
}

// sqliteLiteral types a value of a table of the first row encoding by its
// column's kind.
func sqliteLiteral(v []byte, col dbexport.Column) (string, error) {
	switch col.Kind {
	case dbexport.KindBytes:
		if b, err := dbexport.DecodeBytes(v); err == nil {
			return hexLiteral(b), nil
		}
	case dbexport.KindInt:
		if _, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return string(v), nil
		}
	case dbexport.KindFloat:
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			return realLiteral(f), nil
		}
	}
	return textLiteral(v), nil
}

// typedLiteral writes a field of a typed row (SQLite) as a literal of its
// own storage class.
func (s *SQLWriter) typedLiteral(field []byte) (string, error) {
	v, err := dbexport.DecodeTyped(field)
	if err != nil {
		return "", err
	}
	switch v.Class {
	case dbexport.ClassNull:
		return "NULL", nil
	case dbexport.ClassInteger:
		return strconv.FormatInt(v.Int, 10), nil
	case dbexport.ClassReal:
		return realLiteral(v.Real), nil
	case dbexport.ClassBlob:
		return hexLiteral(v.Bytes), nil
	}
	return textLiteral(v.Bytes), nil
}

// realLiteral is a SQLite REAL: digits that read back as a REAL (with a
// point or an exponent), the infinities as 9e999.
func realLiteral(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "9e999"
	case math.IsInf(f, -1):
		return "-9e999"
	}
	return string(dbexport.AppendReal(nil, f))
}

// textLiteral is a SQLite TEXT; one holding NUL is cast from its bytes.
func textLiteral(v []byte) string {
	if bytes.IndexByte(v, 0) >= 0 {
		return "CAST(" + hexLiteral(v) + " AS TEXT)"
	}
	return quote(string(v))
}

func hexLiteral(b []byte) string {
	return "X'" + fmt.Sprintf("%x", b) + "'"
}
