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

// A table re-created from the schema archive needs objects that belong to
// no table: the schema it lives in, the types, domains and collations of
// its columns, the extensions and functions its defaults, checks, indexes
// and triggers call, the sequences its defaults draw from. pg_dump
// records them as the dependencies of the table's entries (an extension's
// member objects as the extension). A restore of some tables creates
// those the target lacks, with their comments and grants, and leaves
// those it has as they are (docs/design.md, "Restore from the schema
// archive").

// standalone are the kinds of entries a restore of some tables creates
// when a table needs one and the target lacks it. Tables, views and
// materialized views are not among them: a restore creates only the
// tables it restores.
var standalone = map[string]bool{
	"SCHEMA": true, "EXTENSION": true, "PROCEDURAL LANGUAGE": true, "COLLATION": true, "TYPE": true,
	"SHELL TYPE": true, "DOMAIN": true, "FUNCTION": true, "PROCEDURE": true, "AGGREGATE": true,
	"OPERATOR": true, "OPERATOR CLASS": true, "OPERATOR FAMILY": true, "CAST": true, "CONVERSION": true,
	"TEXT SEARCH CONFIGURATION": true, "TEXT SEARCH DICTIONARY": true, "TEXT SEARCH PARSER": true,
	"TEXT SEARCH TEMPLATE": true, "SEQUENCE": true, "TRANSFORM": true, "ACCESS METHOD": true,
	"FOREIGN DATA WRAPPER": true, "SERVER": true,
}

// attached are the kinds of entries that belong to another object and
// run when the restore creates it: a comment, a grant, a security label,
// a domain's NOT VALID check.
var attached = map[string]bool{"COMMENT": true, "ACL": true, "SECURITY LABEL": true, "CHECK CONSTRAINT": true}

// needs returns the standalone entries that the entries of the tables
// (own) depend on, directly or through one another, but their own (the
// sequence of a serial column).
func (ta *tableArchive) needs(own []tocEntry) map[int]bool {
	byID := map[int]tocEntry{}
	for _, e := range ta.a.r.pre {
		byID[e.id] = e
	}
	mine := map[int]bool{}
	for _, e := range own {
		mine[e.id] = true
	}
	need := map[int]bool{}
	var visit func(deps []int)
	visit = func(deps []int) {
		for _, d := range deps {
			e, ok := byID[d]
			if !ok || need[d] || mine[d] || !standalone[e.kind] || ta.a.skip[d] {
				continue
			}
			need[d] = true
			visit(e.deps)
		}
	}
	for _, e := range own {
		visit(e.deps)
	}
	return need
}

// createIfMissing runs the entry of a standalone object in a savepoint
// and reports whether it created it. An object the target holds already
// is kept as it is: its entry fails as a duplicate (CREATE ... without
// OR REPLACE), or, for an extension or a procedural language, whose
// entries do not fail so, it is looked up first.
func (a *archiveRestore) createIfMissing(ctx context.Context, tx pgx.Tx, e tocEntry) (bool, error) {
	if a.skip[e.id] || e.sql == "" {
		return false, nil
	}
	var lookup string
	switch e.kind {
	case "EXTENSION":
		lookup = "SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = $1)"
	case "PROCEDURAL LANGUAGE":
		lookup = "SELECT EXISTS (SELECT FROM pg_catalog.pg_language WHERE lanname = $1)"
	}
	if lookup != "" {
		var exists bool
		if err := tx.QueryRow(ctx, lookup, e.name).Scan(&exists); err != nil {
			return false, fmt.Errorf("look up %s: %w", e.what(), err)
		}
		if exists {
			return false, nil
		}
	}
	sql, unowned := a.sqlOf(e)
	err := savepoint(ctx, tx, sql)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && duplicate[pe.Code] {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create %s, which the restored tables need: %w", e.what(), err)
	}
	a.countUnowned(unowned)
	return true, nil
}

// duplicate are the SQLSTATEs of a CREATE whose object exists:
// duplicate_schema, duplicate_table, duplicate_object, duplicate_function.
var duplicate = map[string]bool{"42P06": true, "42P07": true, "42710": true, "42723": true}

// run runs entries in order: those of ta.need only when the target
// lacks the object (ta.created then gets their ids), those of ta.attach
// only when every object they belong to was created here, every other
// entry as it is.
func (ta *tableArchive) run(ctx context.Context, tx pgx.Tx, entries []tocEntry) error {
	for _, e := range entries {
		switch {
		case ta.need[e.id]:
			ok, err := ta.a.createIfMissing(ctx, tx, e)
			if err != nil {
				return err
			}
			if !ok {
				if !ta.a.skip[e.id] && e.sql != "" {
					ta.kept = append(ta.kept, e.what())
				}
				continue
			}
			ta.created[e.id] = true
			if err := ta.setCreatedSequence(ctx, tx, e); err != nil {
				return err
			}
		case ta.attach[e.id]:
			if !ta.attachedTo(e, ta.created) {
				continue
			}
			if err := ta.a.entry(ctx, tx, e); err != nil {
				return err
			}
			ta.created[e.id] = true // a comment on a domain's check, say
		default:
			if err := ta.own(ctx, tx, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// own runs an entry of a restored table. pg_dump does not record every
// use of an extension: an exclusion or unique constraint whose index
// takes an operator class of an extension (btree_gist's for a bigint
// column, say) depends on the table alone. When such an entry fails for
// want of an operator class, operator or function, the archive's
// extensions that the target lacks are tried, one at a time, each with
// the entry in a savepoint: the first with which it succeeds is kept
// (and named as created), the others leave no trace.
func (ta *tableArchive) own(ctx context.Context, tx pgx.Tx, e tocEntry) error {
	var exts []tocEntry
	for _, x := range ta.a.r.pre {
		if x.kind == "EXTENSION" && !ta.created[x.id] && !ta.a.skip[x.id] {
			exts = append(exts, x)
		}
	}
	if len(exts) == 0 || !perTable[e.kind] {
		return ta.a.entry(ctx, tx, e)
	}
	err := inSavepoint(ctx, tx, "strata_own", func() error { return ta.a.entry(ctx, tx, e) })
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) || (pe.Code != "42704" && pe.Code != "42883") { // undefined_object, undefined_function
		return err
	}
	for _, x := range exts {
		var made bool
		retry := inSavepoint(ctx, tx, "strata_extension", func() error {
			var err error
			if made, err = ta.a.createIfMissing(ctx, tx, x); err != nil || !made {
				return errSkip
			}
			return ta.a.entry(ctx, tx, e)
		})
		if retry != nil || !made {
			continue
		}
		ta.created[x.id], ta.need[x.id] = true, true
		for _, c := range ta.a.r.pre { // its comment
			if c.kind == "COMMENT" && len(c.deps) == 1 && c.deps[0] == x.id {
				if err := ta.a.entry(ctx, tx, c); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return err
}

// errSkip makes inSavepoint roll back without an error of its own.
var errSkip = errors.New("skipped")

// inSavepoint runs fn inside the savepoint name: on failure the
// transaction is back where it was, and fn's error is returned.
func inSavepoint(ctx context.Context, tx pgx.Tx, name string, fn func() error) error {
	if _, err := tx.Exec(ctx, "SAVEPOINT "+name); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	_, err := tx.Exec(ctx, "RELEASE SAVEPOINT "+name)
	return err
}

// attachedTo reports whether e is an attached entry of objects all in
// set.
func (ta *tableArchive) attachedTo(e tocEntry, set map[int]bool) bool {
	if !attached[e.kind] || len(e.deps) == 0 {
		return false
	}
	for _, d := range e.deps {
		if !set[d] {
			return false
		}
	}
	return true
}

// attachments returns the ids of the attached entries of the objects in
// need, transitively (a comment on a domain's check).
func (ta *tableArchive) attachments(entries []tocEntry, need map[int]bool) map[int]bool {
	set := map[int]bool{}
	for id := range need {
		set[id] = true
	}
	out := map[int]bool{}
	for changed := true; changed; {
		changed = false
		for _, e := range entries {
			if !set[e.id] && ta.attachedTo(e, set) {
				set[e.id], out[e.id] = true, true
				changed = true
			}
		}
	}
	return out
}

// setCreatedSequence sets a sequence the restore created to the
// snapshot's position: that of a free sequence, or the one the table
// that owns it holds in its post_ddl.
func (ta *tableArchive) setCreatedSequence(ctx context.Context, tx pgx.Tx, e tocEntry) error {
	if e.kind != "SEQUENCE" {
		return nil
	}
	stmt, ok := sequencePosition(ta.a.s, e.schema, e.name)
	if !ok {
		return nil
	}
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("set sequence %s.%s: %w", e.schema, e.name, err)
	}
	return nil
}

// sequencePosition returns the setval statement of the snapshot for the
// sequence schema.name, named as an archive's entry header names it.
func sequencePosition(s *dbexport.Schema, schema, name string) (string, bool) {
	for _, q := range s.Sequences {
		if tocTag(q.Schema) == schema && tocTag(q.Name) == name {
			return setvalSQL(ident(q.Schema, q.Name), q.Value, q.Called), true
		}
	}
	prefix := setvalPrefix + quoteLiteral(ident(schema, name)) + ", "
	for _, t := range s.Tables {
		for _, stmt := range t.PostDDL {
			if strings.HasPrefix(stmt, prefix) {
				return stmt, true
			}
		}
	}
	return "", false
}
