package postgres

import (
	"fmt"
	"strings"

	"strata/dbexport"
)

// tableDef gathers what the catalog says about one table.
type tableDef struct {
	rel     *relInfo
	cols    []*colInfo
	cons    []*conInfo
	indexes []string   // pg_get_indexdef
	seqs    []*seqInfo // owned by a column (serial) or behind an identity column
}

// table builds the engine-neutral description and the DDL.
//
// DDL holds, in order: CREATE SEQUENCE IF NOT EXISTS for each sequence a
// column owns (a serial column's default names it, so it must exist
// first), then CREATE TABLE with columns, defaults, NOT NULL, identity and
// generated columns, and the primary key, unique, check and exclusion
// constraints.
//
// PostDDL holds, in order: the indexes that no constraint owns, the checks
// marked NOT VALID, OWNED BY and setval for the owned sequences, and last
// one statement per entry of ForeignKeys, in the same order. Target runs
// the foreign keys of all tables after everything else, and finds them by
// that position.
func (d *tableDef) table() *dbexport.Table {
	r := d.rel
	t := &dbexport.Table{Schema: r.schema, Name: r.name, Consistent: true}
	q := r.ident()

	var ddl strings.Builder
	for _, s := range d.seqs {
		if s.dep == "a" {
			ddl.WriteString(sequenceDDL(s, true) + ";\n")
		}
	}
	ddl.WriteString("CREATE ")
	if r.unlogged {
		ddl.WriteString("UNLOGGED ")
	}
	ddl.WriteString("TABLE " + q + " (")
	var parts []string
	for _, k := range d.cols {
		col := dbexport.Column{Name: k.name, Type: k.typ, NotNull: k.notNull, Kind: kindOf(k.baseName, k.category)}
		if k.identity == "" && k.generated == "" {
			col.Default = k.def
		}
		t.Columns = append(t.Columns, col)
		parts = append(parts, d.columnDDL(k))
	}
	var post, fks []string
	for _, k := range d.cons {
		def := "CONSTRAINT " + ident(k.name) + " " + k.def
		switch {
		case k.kind == "p":
			t.PrimaryKey = k.cols
		case k.kind == "f":
			t.ForeignKeys = append(t.ForeignKeys, dbexport.ForeignKey{
				Name: k.name, Columns: k.cols, RefSchema: k.refSchema, RefTable: k.refTable, RefColumns: k.refCols,
				OnDelete: fkAction(k.onDelete), OnUpdate: fkAction(k.onUpdate), NotValid: !k.validated,
			})
			fks = append(fks, "ALTER TABLE ONLY "+q+" ADD "+def)
			continue
		case k.kind == "c" && k.expr != nil && k.validated:
			t.Checks = append(t.Checks, *k.expr)
		}
		if !k.validated {
			// CREATE TABLE would validate it; keep it unvalidated.
			post = append(post, "ALTER TABLE ONLY "+q+" ADD "+def)
			continue
		}
		parts = append(parts, def)
	}
	ddl.WriteString("\n    " + strings.Join(parts, ",\n    ") + "\n)")
	if len(r.options) > 0 {
		ddl.WriteString(" WITH (" + strings.Join(r.options, ", ") + ")")
	}
	t.DDL = ddl.String()

	var pre []string
	for _, def := range d.indexes {
		if r.kind == "p" {
			// The table comes back unpartitioned, where ONLY means nothing.
			def = strings.Replace(def, " ON ONLY ", " ON ", 1)
		}
		pre = append(pre, def)
	}
	post = append(pre, post...)
	for _, s := range d.seqs {
		if s.dep == "a" {
			post = append(post, "ALTER SEQUENCE "+s.ident()+" OWNED BY "+ident(r.schema, r.name, s.ownerCol))
		}
		post = append(post, setvalSQL(s.ident(), s.value, s.called))
	}
	t.PostDDL = append(post, fks...)
	return t
}

func (d *tableDef) columnDDL(k *colInfo) string {
	s := ident(k.name) + " " + k.typ
	if k.collation != nil {
		s += " COLLATE " + *k.collation
	}
	switch {
	case k.generated == "s" && k.def != nil:
		s += " GENERATED ALWAYS AS (" + *k.def + ") STORED"
	case k.identity != "":
		how := "ALWAYS"
		if k.identity == "d" {
			how = "BY DEFAULT"
		}
		s += " GENERATED " + how + " AS IDENTITY"
		for _, q := range d.seqs {
			if q.dep == "i" && q.ownerCol == k.name {
				s += " (SEQUENCE NAME " + q.ident() + " " + sequenceOptions(q) + ")"
			}
		}
	case k.def != nil:
		s += " DEFAULT " + *k.def
	}
	if k.notNull {
		s += " NOT NULL"
	}
	return s
}

// warnings says what a restore of the table will not bring back as it
// was, and why rows may shift between chunks. With a schema archive
// (archived) only the latter: the archive holds the rest.
func (d *tableDef) warnings(archived bool) []string {
	r := d.rel
	name := r.schema + "." + r.name
	var w []string
	hasPK := false
	for _, k := range d.cons {
		hasPK = hasPK || k.kind == "p"
	}
	if !hasPK {
		w = append(w, fmt.Sprintf("table %s has no primary key: its rows are ordered by all columns, and identical rows cannot be told apart", name))
	}
	if archived {
		return w
	}
	if r.kind == "p" {
		w = append(w, fmt.Sprintf("table %s is partitioned: its rows are saved through the parent, and a restore creates it as a plain table", name))
	}
	if r.inherits {
		w = append(w, fmt.Sprintf("table %s inherits from another table: a restore creates it as a standalone table", name))
	}
	if r.triggers > 0 {
		w = append(w, fmt.Sprintf("table %s has %d triggers, which strata does not save", name, r.triggers))
	}
	for _, k := range d.cols {
		if k.typSchema != "pg_catalog" {
			w = append(w, fmt.Sprintf("column %s.%s has type %s, which strata does not save: create it in the target before a restore", name, k.name, k.typ))
		}
	}
	return w
}

func sequenceOptions(q *seqInfo) string {
	s := fmt.Sprintf("INCREMENT BY %d MINVALUE %d MAXVALUE %d START WITH %d CACHE %d", q.inc, q.min, q.max, q.start, q.cache)
	if q.cycle {
		return s + " CYCLE"
	}
	return s + " NO CYCLE"
}

func sequenceDDL(q *seqInfo, ifNotExists bool) string {
	s := "CREATE SEQUENCE "
	if ifNotExists {
		s += "IF NOT EXISTS "
	}
	return s + q.ident() + " AS " + q.typ + " " + sequenceOptions(q)
}

// setvalPrefix starts every statement setvalSQL writes: a partial restore
// that reloads a table in place finds its sequences' positions in PostDDL
// by it.
const setvalPrefix = "SELECT pg_catalog.setval("

func setvalSQL(seq string, value int64, called bool) string {
	return fmt.Sprintf(setvalPrefix+"%s, %d, %t)", quoteLiteral(seq), value, called)
}

// forwardSetval turns a statement of setvalSQL into one that moves the
// sequence forward only: to the snapshot's position, or, when it has
// handed out more since, nowhere. A partial restore uses it, since the
// default of a table it leaves alone may draw from the same sequence, and
// values handed out since the snapshot may be held anywhere: going back
// would hand them out again.
func forwardSetval(stmt string) string {
	args := strings.TrimSuffix(strings.TrimPrefix(stmt, setvalPrefix), ")")
	i := strings.LastIndex(args, ", ")
	j := strings.LastIndex(args[:i], ", ")
	seq, value, called := args[:j], args[j+2:i], args[i+2:]
	return fmt.Sprintf("SELECT CASE WHEN l > %[2]s THEN pg_catalog.setval(%[1]s, l, true) ELSE pg_catalog.setval(%[1]s, %[2]s, %[3]s) END"+
		" FROM (SELECT pg_catalog.pg_sequence_last_value(%[1]s::regclass) AS l) AS now", seq, value, called)
}

func viewDDL(v *viewInfo) string {
	s := "CREATE VIEW " + ident(v.schema, v.name)
	if len(v.options) > 0 {
		s += " WITH (" + strings.Join(v.options, ", ") + ")"
	}
	return s + " AS\n" + strings.TrimSuffix(strings.TrimSpace(v.def), ";")
}

// fkAction names a foreign key action of pg_constraint.confdeltype or
// confupdtype.
func fkAction(code string) string {
	switch code {
	case "r":
		return dbexport.FKActionRestrict
	case "c":
		return dbexport.FKActionCascade
	case "n":
		return dbexport.FKActionSetNull
	case "d":
		return dbexport.FKActionSetDefault
	}
	return dbexport.FKActionNoAction
}
