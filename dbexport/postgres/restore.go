package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/dbexport"
)

// restore is one Restore call inside its transaction.
type restore struct {
	tx      pgx.Tx
	schema  *dbexport.Schema     // the snapshot's, with all its tables
	tables  []dbexport.TableData // the tables to restore
	replace bool
	// inPlace holds the tables that a partial restore empties and reloads
	// instead of re-creating them: they exist with the snapshot's columns.
	inPlace map[*dbexport.Table]bool
	// openArchive renders the snapshot's schema archive, which then
	// re-creates the tables instead of their DDL and PostDDL
	// (archivetables.go); nil, or a nil result: no archive.
	openArchive func(ctx context.Context) (*tableArchive, error)
	notify      func(string)
}

func (r *restore) exec(ctx context.Context, what, sql string) error {
	if _, err := r.tx.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (r *restore) run(ctx context.Context) error {
	for _, td := range r.tables {
		if td.Table == nil || td.Rows == nil {
			return errors.New("a table to restore has no definition or no rows")
		}
	}
	whole := dbexport.RestoresAll(r.schema, r.tables)
	keys, err := r.prepare(ctx, whole)
	if err != nil {
		return err
	}
	if err := r.dropKeys(ctx, keys); err != nil {
		return err
	}
	arch, archPre, archPost, err := r.archiveEntries(ctx, whole)
	if err != nil {
		return err
	}
	// With the archive, a whole restore re-creates the views and
	// materialized views from it (archiveEntries), and without it the
	// views from schema.json.
	viewsFromArchive := arch != nil && whole
	if r.replace && whole {
		if err := r.dropViews(ctx, viewsFromArchive); err != nil {
			return err
		}
	}
	if r.replace {
		if err := r.dropTables(ctx); err != nil {
			return err
		}
	}
	var fromArchive map[string]bool // schemas the archive creates
	if arch != nil {
		fromArchive = arch.schemas()
	}
	if err := r.createSchemas(ctx, whole, fromArchive); err != nil {
		return err
	}
	if arch != nil {
		// The objects the tables need that the target lacks, then the
		// tables; free sequences the archive creates take their
		// positions there.
		if err := arch.preamble(ctx, r.tx); err != nil {
			return err
		}
		if err := arch.run(ctx, r.tx, archPre); err != nil {
			return err
		}
	}
	setLater, err := r.freeSequences(ctx, whole)
	if err != nil {
		return err
	}
	var emptied []string
	for _, td := range r.tables {
		if r.inPlace[td.Table] {
			emptied = append(emptied, tableIdent(td.Table))
			continue
		}
		if arch != nil {
			continue // created above
		}
		if err := r.exec(ctx, "create table "+td.Table.QualifiedName(), td.Table.DDL); err != nil {
			return err
		}
	}
	enable, err := r.quietTriggers(ctx)
	if err != nil {
		return err
	}
	if len(emptied) > 0 {
		// One statement: keys among these tables do not stop it, and
		// keys from other tables were set aside above.
		if err := r.exec(ctx, "empty "+strings.Join(emptied, ", "), "TRUNCATE "+strings.Join(emptied, ", ")); err != nil {
			return err
		}
	}
	for _, td := range r.tables {
		if err := copyIn(ctx, r.tx, td, noFreeze); err != nil {
			return fmt.Errorf("load rows of %s: %w", td.Table.QualifiedName(), err)
		}
	}
	for _, stmt := range enable {
		if err := r.exec(ctx, "enable trigger again", stmt); err != nil {
			return err
		}
	}
	var fks, positions []string
	for _, td := range r.tables {
		post, fk := splitPostDDL(td.Table)
		if r.inPlace[td.Table] {
			// The table keeps its indexes and constraints; its own
			// sequences take the snapshot's positions, last, as setval
			// is not undone by a rollback.
			for _, stmt := range post {
				if !strings.HasPrefix(stmt, setvalPrefix) {
					continue
				}
				if !whole {
					stmt = forwardSetval(stmt)
				}
				positions = append(positions, stmt)
			}
			continue
		}
		for _, stmt := range post {
			if arch != nil && !strings.HasPrefix(stmt, setvalPrefix) {
				continue // the archive's post-data entries do it
			}
			if err := r.exec(ctx, "finish table "+td.Table.QualifiedName(), stmt); err != nil {
				return err
			}
		}
		if arch == nil {
			fks = append(fks, fk...)
		}
	}
	if arch != nil {
		if err := arch.run(ctx, r.tx, archPost); err != nil {
			return err
		}
		arch.a.sayUnowned()
		if made := arch.createdNames(); len(made) > 0 {
			r.notify("created, as the restored tables need them and the target lacked them: " + strings.Join(made, ", "))
		}
		if len(arch.kept) > 0 {
			r.notify("kept as the target has them, not compared with the snapshot's (a definition that differs stays): " + strings.Join(arch.kept, ", "))
		}
	}
	for _, stmt := range fks {
		if err := r.exec(ctx, "add foreign key", stmt); err != nil {
			return err
		}
	}
	if err := r.addKeys(ctx, keys); err != nil {
		return err
	}
	done := map[string]bool{}
	if viewsFromArchive {
		if done, err = refreshSnapshotMatViews(ctx, r.tx, r.schema); err != nil {
			return err
		}
	} else if whole {
		for _, v := range r.schema.Views {
			if err := r.exec(ctx, "create view "+v.Schema+"."+v.Name, v.DDL); err != nil {
				return err
			}
		}
	}
	if err := r.refreshMatViews(ctx, done); err != nil {
		return err
	}
	for _, q := range setLater {
		positions = append(positions, setvalSQL(ident(q.Schema, q.Name), q.Value, q.Called))
	}
	for _, stmt := range positions {
		if err := r.exec(ctx, "set sequence position", stmt); err != nil {
			return err
		}
	}
	return nil
}

// archiveEntries returns the schema archive and its entries that
// re-create the tables this restore re-creates, and for a whole restore
// the views and materialized views; a nil archive when the
// snapshot has none, no table is re-created, or a table is not in it
// (then the tables are built from their DDL, and a notice says what that
// leaves out).
func (r *restore) archiveEntries(ctx context.Context, whole bool) (*tableArchive, []tocEntry, []tocEntry, error) {
	var recreate []*dbexport.Table
	for _, td := range r.tables {
		if !r.inPlace[td.Table] {
			recreate = append(recreate, td.Table)
		}
	}
	if len(recreate) == 0 || r.openArchive == nil {
		return nil, nil, nil, nil
	}
	arch, err := r.openArchive(ctx)
	if err != nil || arch == nil {
		return nil, nil, nil, err
	}
	pre, post, missing := arch.entriesFor(recreate, whole)
	if len(missing) > 0 {
		r.notify(fmt.Sprintf("%s %s: re-created tables are built from schema.json, without their triggers, rules, policies, comments, grants, partitions and inheritance", strings.Join(missing, ", "), errNotInArchive))
		return nil, nil, nil, nil
	}
	return arch, pre, post, nil
}

// prepare finds the restored tables that exist in the target, decides
// which a partial restore reloads in place, and returns the constraints
// to set aside while the tables are emptied or re-created and loaded: the
// foreign keys on and of them, and the NOT VALID checks the restored rows
// may break.
func (r *restore) prepare(ctx context.Context, whole bool) ([]keptKey, error) {
	r.inPlace = map[*dbexport.Table]bool{}
	var types []string
	for _, td := range r.tables {
		for _, c := range td.Table.Columns {
			types = append(types, c.Type)
		}
	}
	if !r.replace {
		// An existing table makes CREATE TABLE fail.
		return notValidChecks(ctx, r.tx, nil, types)
	}
	var refs, own, recreated []uint32
	for _, td := range r.tables {
		var oid uint32
		err := r.tx.QueryRow(ctx, "SELECT coalesce(pg_catalog.to_regclass($1)::oid, 0)", tableIdent(td.Table)).Scan(&oid)
		if err != nil {
			return nil, fmt.Errorf("look up table %s: %w", td.Table.QualifiedName(), err)
		}
		if oid == 0 {
			continue
		}
		refs = append(refs, oid)
		same := false
		if !whole {
			if same, err = sameColumns(ctx, r.tx, oid, td.Table); err != nil {
				return nil, err
			}
		}
		if same {
			r.inPlace[td.Table] = true
			own = append(own, oid)
		} else {
			recreated = append(recreated, oid)
		}
	}
	keys, err := keptKeys(ctx, r.tx, refs, own, recreated)
	if err != nil {
		return nil, err
	}
	checks, err := notValidChecks(ctx, r.tx, own, types)
	return append(keys, checks...), err
}

// quietTriggers disables the enabled user triggers of the tables reloaded
// in place, so that the restored rows arrive as the snapshot holds them
// (a BEFORE INSERT trigger could change them) and no trigger writes
// elsewhere; it returns the statements that enable them again, each in
// its former mode. The transaction undoes both on a rollback.
func (r *restore) quietTriggers(ctx context.Context) ([]string, error) {
	var enable []string
	for _, td := range r.tables {
		if !r.inPlace[td.Table] {
			continue
		}
		q := tableIdent(td.Table)
		rows, err := r.tx.Query(ctx, `SELECT tgname, tgenabled::text FROM pg_catalog.pg_trigger
			WHERE tgrelid = pg_catalog.to_regclass($1) AND NOT tgisinternal AND tgenabled <> 'D' ORDER BY tgname`, q)
		if err != nil {
			return nil, fmt.Errorf("list the triggers of %s: %w", td.Table.QualifiedName(), err)
		}
		var names, modes []string
		var name, mode string
		if _, err := pgx.ForEachRow(rows, []any{&name, &mode}, func() error {
			names, modes = append(names, name), append(modes, mode)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("list the triggers of %s: %w", td.Table.QualifiedName(), err)
		}
		for i, name := range names {
			if err := r.exec(ctx, "disable trigger "+name+" of "+td.Table.QualifiedName(), "ALTER TABLE "+q+" DISABLE TRIGGER "+ident(name)); err != nil {
				return nil, err
			}
			how := map[string]string{"R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}[modes[i]]
			if how == "" {
				how = "ENABLE"
			}
			enable = append(enable, "ALTER TABLE "+q+" "+how+" TRIGGER "+ident(name))
		}
	}
	return enable, nil
}

// querier is what sameColumns needs of a connection or transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// sameColumns reports whether the target's table oid has the columns of
// t, by name and type, in order: then a partial restore reloads it in
// place.
func sameColumns(ctx context.Context, q querier, oid uint32, t *dbexport.Table) (bool, error) {
	rows, err := q.Query(ctx, `SELECT attname, pg_catalog.format_type(atttypid, atttypmod) FROM pg_catalog.pg_attribute
		WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, oid)
	if err != nil {
		return false, fmt.Errorf("look up the columns of %s: %w", t.QualifiedName(), err)
	}
	var have []dbexport.Column
	var c dbexport.Column
	if _, err := pgx.ForEachRow(rows, []any{&c.Name, &c.Type}, func() error {
		have = append(have, c)
		return nil
	}); err != nil {
		return false, fmt.Errorf("look up the columns of %s: %w", t.QualifiedName(), err)
	}
	if len(have) != len(t.Columns) {
		return false, nil
	}
	for i, c := range t.Columns {
		if have[i].Name != c.Name || have[i].Type != c.Type {
			return false, nil
		}
	}
	return true, nil
}

// dropViews drops the snapshot's views, and when the archive re-creates
// them its materialized views, with CASCADE (a view over a materialized
// view, which only the archive holds, goes with it), last first.
func (r *restore) dropViews(ctx context.Context, matViews bool) error {
	if matViews {
		for i := len(r.schema.MatViews) - 1; i >= 0; i-- {
			m := r.schema.MatViews[i]
			if err := r.exec(ctx, "drop materialized view "+m.Schema+"."+m.Name, "DROP MATERIALIZED VIEW IF EXISTS "+ident(m.Schema, m.Name)+" CASCADE"); err != nil {
				return err
			}
		}
	}
	for i := len(r.schema.Views) - 1; i >= 0; i-- {
		v := r.schema.Views[i]
		if err := r.exec(ctx, "drop view "+v.Schema+"."+v.Name, "DROP VIEW IF EXISTS "+ident(v.Schema, v.Name)+" CASCADE"); err != nil {
			return err
		}
	}
	return nil
}

// dropTables drops the restored tables that are re-created, in one
// statement so that keys among them do not stop it. Without CASCADE: an
// object that is not restored and depends on one of them (a view, say)
// stops the restore instead of disappearing.
func (r *restore) dropTables(ctx context.Context) error {
	var names []string
	for _, td := range r.tables {
		if !r.inPlace[td.Table] {
			names = append(names, tableIdent(td.Table))
		}
	}
	if len(names) == 0 {
		return nil
	}
	_, err := r.tx.Exec(ctx, "DROP TABLE IF EXISTS "+strings.Join(names, ", "))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "2BP01" { // dependent_objects_still_exist
		return fmt.Errorf("%s must be re-created (a restore of every table re-creates them, a partial one those whose columns differ from the snapshot's), but objects the restore does not bring back depend on it (%s): drop them first, or restore every table: %w",
			strings.Join(names, ", "), strings.ReplaceAll(pe.Detail, "\n", "; "), err)
	}
	if err != nil {
		return fmt.Errorf("drop %s: %w", strings.Join(names, ", "), err)
	}
	return nil
}

// splitPostDDL separates the foreign keys, which ddl.go puts last, one per
// entry of ForeignKeys.
func splitPostDDL(t *dbexport.Table) (post, fks []string) {
	n := len(t.ForeignKeys)
	if n > len(t.PostDDL) {
		n = 0
	}
	cut := len(t.PostDDL) - n
	return t.PostDDL[:cut], t.PostDDL[cut:]
}

// createSchemas creates the schemas of the restored tables (and, for a
// whole restore, of the views and sequences) that the target lacks, but
// those in fromArchive, which the archive creates with their comments
// and grants.
func (r *restore) createSchemas(ctx context.Context, whole bool, fromArchive map[string]bool) error {
	var names []string
	for _, td := range r.tables {
		names = append(names, td.Table.Schema)
	}
	if whole {
		for _, v := range r.schema.Views {
			names = append(names, v.Schema)
		}
	}
	for _, q := range r.schema.Sequences {
		if whole || r.uses(q) {
			names = append(names, q.Schema)
		}
	}
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" {
			n = "public"
		}
		if seen[n] || fromArchive[tocTag(n)] {
			continue
		}
		seen[n] = true
		var exists bool
		err := r.tx.QueryRow(ctx, "SELECT pg_catalog.to_regnamespace($1) IS NOT NULL", ident(n)).Scan(&exists)
		if err != nil {
			return fmt.Errorf("look up schema %s: %w", n, err)
		}
		if !exists {
			if err := r.exec(ctx, "create schema "+n, "CREATE SCHEMA "+ident(n)); err != nil {
				return err
			}
		}
	}
	return nil
}

// freeSequences creates the free sequences (those no column owns) that
// are missing: every one for a restore of the whole snapshot, those a
// restored column's default draws from for a partial one. An existing
// free sequence is set to the snapshot's position only by a replace of
// the whole snapshot, and last (returned in setLater), as setval is not
// undone by a rollback; otherwise other tables may draw from it, and it
// keeps the values it handed out since.
func (r *restore) freeSequences(ctx context.Context, whole bool) (setLater []dbexport.Sequence, err error) {
	for _, q := range r.schema.Sequences {
		if !whole && !r.uses(q) {
			continue
		}
		name := ident(q.Schema, q.Name)
		var exists bool
		if err := r.tx.QueryRow(ctx, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", name).Scan(&exists); err != nil {
			return nil, fmt.Errorf("look up sequence %s.%s: %w", q.Schema, q.Name, err)
		}
		switch {
		case !exists:
			// Created in this transaction: a rollback removes it whole.
			if err := r.exec(ctx, "create sequence "+q.Schema+"."+q.Name, q.DDL); err != nil {
				return nil, err
			}
			if err := r.exec(ctx, "set sequence "+q.Schema+"."+q.Name, setvalSQL(name, q.Value, q.Called)); err != nil {
				return nil, err
			}
		case r.replace && whole:
			// setval is not undone by a rollback: run it last.
			setLater = append(setLater, q)
		}
	}
	return setLater, nil
}

// uses reports whether a column default of a restored table names the
// sequence q, as nextval('name'::regclass) or nextval('schema.name'...)
// does.
func (r *restore) uses(q dbexport.Sequence) bool {
	for _, td := range r.tables {
		for _, c := range td.Table.Columns {
			if c.Default != nil && (strings.Contains(*c.Default, q.Name+"'") || strings.Contains(*c.Default, q.Name+`"'`)) {
				return true
			}
		}
	}
	return false
}
