package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"strata/dbexport"
)

// Check reports, without changing anything, why Restore of tables would
// fail: a snapshot of another engine; a schema that is missing and may
// not be created; a table that may not be created in its schema, or that
// exists and belongs to a role the user is not a member of (only its
// owner may empty, re-create or change it, and the foreign keys other
// tables hold on it must be set aside and added back); a column type
// missing from the target (an enum or domain, say) when no usable schema
// archive would create it; a foreign key to a
// table that is neither restored nor in the target; a table to re-create
// that views the restore does not drop itself read, or whose sequence a
// column default of a table not re-created draws from. The keys other
// tables hold on the restored ones are checked against the snapshot's
// rows through HeldKeys, by dbexport.Restore; whether the restored rows
// satisfy their own foreign keys is known only once they are loaded: the
// restore checks that, and rolls back.
func (t *Target) Check(ctx context.Context, s *dbexport.Schema, tables []*dbexport.Table, replace bool) error {
	if s.Engine != dbexport.EnginePostgres {
		return fmt.Errorf("restoring a %s snapshot into PostgreSQL is not supported yet (restore it into a SQLite file instead)", s.Engine)
	}
	c := checker{t: t, restored: map[string]bool{}, snapshotViews: map[string]bool{}, types: map[string]bool{}}
	archived, err := t.usesArchive(ctx, s, tables)
	if err != nil {
		return err
	}
	c.archived = archived
	if !archived && s.Archive != nil && s.Archive.Load != nil {
		// A table re-created from the archive brings the types it
		// needs; one reloaded in place has them.
		_, err := t.restoreTool(ctx, s)
		c.archived = err == nil
	}
	for _, tab := range tables {
		c.restored[qualified(tab.Schema, tab.Name)] = true
	}
	c.whole = true
	for _, tab := range s.Tables {
		c.whole = c.whole && c.restored[qualified(tab.Schema, tab.Name)]
	}
	for _, v := range s.Views {
		c.snapshotViews[qualified(v.Schema, v.Name)] = true
	}
	if c.archived {
		// A whole restore re-creates these from the archive.
		for _, m := range s.MatViews {
			c.snapshotViews[qualified(m.Schema, m.Name)] = true
		}
	}
	c.snapshotTables = map[string]*dbexport.Table{}
	for _, tab := range s.Tables {
		c.snapshotTables[qualified(tab.Schema, tab.Name)] = tab
	}
	for _, tab := range tables {
		if err := c.table(ctx, tab, replace); err != nil {
			return fmt.Errorf("postgres: check %s against %s: %w", tab.QualifiedName(), t.dsn.String(), err)
		}
	}
	if len(c.problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(c.problems, "; "))
}

// dependents adds a problem when the restore must re-create the existing
// table tab (a whole restore, or columns that differ from the snapshot's)
// and views the restore does not drop itself read it: DROP TABLE would
// refuse.
func (c *checker) dependents(ctx context.Context, tab *dbexport.Table, name string) error {
	conn := c.t.conn
	if !c.whole {
		var oid uint32
		if err := conn.QueryRow(ctx, "SELECT pg_catalog.to_regclass($1)::oid", tableIdent(tab)).Scan(&oid); err != nil {
			return err
		}
		same, err := sameColumns(ctx, conn, oid, tab)
		if err != nil || same {
			return err // reloaded in place: the views stay
		}
	}
	rows, err := conn.Query(ctx, `SELECT DISTINCT n.nspname || '.' || v.relname
		FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite w ON w.oid = d.objid
		JOIN pg_catalog.pg_class v ON v.oid = w.ev_class JOIN pg_catalog.pg_namespace n ON n.oid = v.relnamespace
		WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.refobjid = pg_catalog.to_regclass($1) AND v.oid <> d.refobjid
		ORDER BY 1`, tableIdent(tab))
	if err != nil {
		return err
	}
	var views []string
	var v string
	if _, err := pgx.ForEachRow(rows, []any{&v}, func() error {
		// A whole restore drops the snapshot's views first, and its
		// tables in one DROP TABLE: a rule of one on another goes with
		// its table.
		if !c.whole || !c.snapshotViews[v] && c.snapshotTables[v] == nil {
			views = append(views, v)
		}
		return nil
	}); err != nil {
		return err
	}
	why := "its columns differ from the snapshot's"
	if c.whole {
		why = "a restore of every table re-creates them"
	}
	if len(views) > 0 {
		c.add("table %s must be re-created (%s), but %s, which the restore does not bring back, read it: drop them first, or restore every table", name, why, strings.Join(views, ", "))
	}
	// DROP TABLE drops the sequences the table owns, and refuses when a
	// column default of a table the restore leaves alone draws from one.
	rows, err = conn.Query(ctx, `SELECT DISTINCT n.nspname, t.relname, a.attname, sn.nspname || '.' || s.relname, t.oid
		FROM pg_catalog.pg_depend own
		JOIN pg_catalog.pg_class s ON s.oid = own.objid AND s.relkind = 'S'
		JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
		JOIN pg_catalog.pg_depend d ON d.refobjid = s.oid AND d.classid = 'pg_catalog.pg_attrdef'::regclass
		JOIN pg_catalog.pg_attrdef ad ON ad.oid = d.objid
		JOIN pg_catalog.pg_class t ON t.oid = ad.adrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
		JOIN pg_catalog.pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
		WHERE own.classid = 'pg_catalog.pg_class'::regclass AND own.refobjid = pg_catalog.to_regclass($1)
		  AND own.deptype IN ('a', 'i') AND t.oid <> own.refobjid
		ORDER BY 1, 2, 3`, tableIdent(tab))
	if err != nil {
		return err
	}
	type dependent struct {
		table, what string
		oid         uint32
	}
	var deps []dependent
	var schema, table, column, seq string
	var oid uint32
	if _, err := pgx.ForEachRow(rows, []any{&schema, &table, &column, &seq, &oid}, func() error {
		deps = append(deps, dependent{qualified(schema, table), fmt.Sprintf("the default of %s.%s.%s (sequence %s)", schema, table, column, seq), oid})
		return nil
	}); err != nil {
		return err
	}
	var defaults []string
	for _, d := range deps {
		if c.restored[d.table] {
			// Dropped in the same statement when it is re-created too:
			// by a whole restore, or when its columns differ.
			if c.whole {
				continue
			}
			same, err := sameColumns(ctx, conn, d.oid, c.snapshotTables[d.table])
			if err != nil {
				return err
			}
			if !same {
				continue
			}
		}
		defaults = append(defaults, d.what)
	}
	if len(defaults) > 0 {
		c.add("table %s must be re-created (%s), but %s, which the restore does not re-create, draws from a sequence it owns: drop that default first, or restore every table", name, why, strings.Join(defaults, ", "))
	}
	return nil
}

// checker gathers the problems Check finds.
type checker struct {
	t             *Target
	restored      map[string]bool // schema.table
	whole         bool            // every table of the snapshot is restored
	snapshotViews map[string]bool // schema.view, dropped first by a whole restore
	// snapshotTables: schema.table, the snapshot's definitions.
	snapshotTables map[string]*dbexport.Table
	types          map[string]bool // type name: the target has it (a table has few distinct types)
	archived       bool            // the schema archive creates the types the tables need
	problems       []string
}

func qualified(schema, name string) string {
	if schema == "" {
		schema = "public"
	}
	return schema + "." + name
}

func (c *checker) add(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

func (c *checker) table(ctx context.Context, tab *dbexport.Table, replace bool) error {
	conn := c.t.conn
	name := qualified(tab.Schema, tab.Name)
	schema := tab.Schema
	if schema == "" {
		schema = "public"
	}
	var (
		user                          string
		schemaExists, mayCreateSchema bool
		mayCreateTable                bool
		exists, owner                 bool
		ownerName                     string
	)
	err := conn.QueryRow(ctx, `SELECT current_user,
		pg_catalog.to_regnamespace($1) IS NOT NULL,
		pg_catalog.has_database_privilege(current_database(), 'CREATE'),
		pg_catalog.to_regnamespace($1) IS NOT NULL AND pg_catalog.has_schema_privilege(pg_catalog.to_regnamespace($1), 'CREATE'),
		r.oid IS NOT NULL, coalesce(pg_catalog.pg_has_role(r.relowner, 'USAGE'), false),
		coalesce(pg_catalog.pg_get_userbyid(r.relowner), '')
		FROM (SELECT pg_catalog.to_regclass($2) AS oid) x LEFT JOIN pg_catalog.pg_class r ON r.oid = x.oid`,
		ident(schema), tableIdent(tab)).Scan(&user, &schemaExists, &mayCreateSchema, &mayCreateTable, &exists, &owner, &ownerName)
	if err != nil {
		return err
	}
	switch {
	case !schemaExists && !mayCreateSchema:
		c.add("schema %s is missing, and role %s may not create it (GRANT CREATE ON DATABASE, or create the schema first)", schema, user)
	case schemaExists && !exists && !mayCreateTable:
		c.add("role %s may not create table %s (GRANT CREATE ON SCHEMA %s)", user, name, schema)
	case exists && replace && !owner:
		c.add("table %s belongs to role %s: only its owner may replace it (restore as %s)", name, ownerName, ownerName)
	}
	for _, col := range tab.Columns {
		if c.archived {
			break
		}
		ok, seen := c.types[col.Type]
		if !seen {
			if err := conn.QueryRow(ctx, "SELECT pg_catalog.to_regtype($1) IS NOT NULL", col.Type).Scan(&ok); err != nil {
				return fmt.Errorf("look up type %s: %w", col.Type, err)
			}
			c.types[col.Type] = ok
		}
		if !ok {
			c.add("column %s.%s has type %s, which the target does not have: create it first", name, col.Name, col.Type)
		}
	}
	for _, fk := range tab.ForeignKeys {
		ref := qualified(fk.RefSchema, fk.RefTable)
		if c.restored[ref] {
			continue
		}
		refTab := &dbexport.Table{Schema: fk.RefSchema, Name: fk.RefTable}
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", tableIdent(refTab)).Scan(&ok); err != nil {
			return fmt.Errorf("look up table %s: %w", ref, err)
		}
		if !ok {
			c.add("table %s references %s (foreign key %s), which is neither restored nor in the target: restore it too (--tables %s)", name, ref, fk.Name, fk.RefTable)
		}
	}
	if !exists || !replace {
		return nil
	}
	if err := c.dependents(ctx, tab, name); err != nil {
		return err
	}
	// The keys other tables hold on this one are set aside and added
	// back: that takes the ownership of those tables.
	rows, err := conn.Query(ctx, `SELECT DISTINCT n.nspname || '.' || r.relname, pg_catalog.pg_get_userbyid(r.relowner)
		FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class r ON r.oid = k.conrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
		WHERE k.contype = 'f' AND k.confrelid = pg_catalog.to_regclass($1) AND k.conrelid <> k.confrelid
		  AND NOT pg_catalog.pg_has_role(r.relowner, 'USAGE') ORDER BY 1`, tableIdent(tab))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var other, otherOwner string
		if err := rows.Scan(&other, &otherOwner); err != nil {
			return err
		}
		if !c.restored[other] {
			c.add("table %s holds a foreign key on %s and belongs to role %s: only its owner may set the key aside and add it back (restore as %s)", other, name, otherOwner, otherOwner)
		}
	}
	return rows.Err()
}
