package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/dbexport"
)

// archiveRestore restores every table of a snapshot into a database that
// lacks them, with the schema from the snapshot's archive
// (docs/design.md, "Restore from the schema archive").
type archiveRestore struct {
	t      *Target
	s      *dbexport.Schema
	tables []dbexport.TableData
	conns  *jobConns // with Options.Jobs above 1: the connections the jobs run on
	r      *rendered
	skip   map[int]bool    // entries left out (tables the snapshot lacks)
	roles  map[string]bool // the target's roles
	// unowned counts, per owner role the target lacks, the objects
	// created without their owner; mu guards it (parallel post-data).
	mu      sync.Mutex
	unowned map[string]int
	// extVersion is the version each extension is created at (the
	// snapshot's, where the target can install it); extNotes says, per
	// extension, why not, once (noted).
	extVersion, extNotes map[string]string
	noted                map[string]bool
}

// newArchiveRestore prepares the restore of s from its rendered archive.
func (t *Target) newArchiveRestore(ctx context.Context, s *dbexport.Schema, r *rendered, roles map[string]bool) (*archiveRestore, error) {
	a := &archiveRestore{t: t, s: s, r: r, roles: roles, unowned: map[string]int{}, noted: map[string]bool{}}
	var err error
	if a.extVersion, a.extNotes, err = extensionVersions(ctx, t.conn, s); err != nil {
		return nil, err
	}
	return a, nil
}

// errNoRestoreTool: pg_restore cannot read the archive; the restore
// falls back to the catalog-built schema.
var errNoRestoreTool = errors.New("pg_restore cannot be used")

// restoreFromArchive runs the restore; with Options.Jobs above 1 the
// tables load side by side and the post-data entries run side by side.
func (t *Target) restoreFromArchive(ctx context.Context, s *dbexport.Schema, tables []dbexport.TableData) error {
	var conns *jobConns
	if t.opts.Jobs > 1 {
		conns = openJobConns(ctx, t)
		defer conns.close()
	}
	tool, err := t.restoreTool(ctx, s)
	if err != nil {
		return err
	}
	path, err := archiveFile(ctx, s.Archive)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	roles, err := t.listRoles(ctx)
	if err != nil {
		return err
	}
	r, err := render(ctx, tool, path, t.opts, roles)
	if err != nil {
		return fmt.Errorf("%w: %w", errNoRestoreTool, err)
	}
	a, err := t.newArchiveRestore(ctx, s, r, roles)
	if err != nil {
		return err
	}
	a.tables, a.conns = tables, conns
	var excluded []string
	a.skip, excluded = r.exclude(s)
	if len(excluded) > 0 {
		t.notify(fmt.Sprintf("not recreated, as the snapshot does not hold these tables or they depend on one: %s", strings.Join(excluded, ", ")))
	}
	if t.opts.Jobs > 1 {
		err = a.parallel(ctx)
	} else {
		err = a.single(ctx)
	}
	a.sayUnowned()
	return err
}

// sayUnowned names, per owner role the target lacks, how many objects
// were created without it.
func (a *archiveRestore) sayUnowned() {
	owners := make([]string, 0, len(a.unowned))
	for o := range a.unowned {
		owners = append(owners, o)
	}
	sort.Strings(owners)
	for _, o := range owners {
		why := "does not exist in the target"
		if _, ok := a.roles[o]; ok {
			why = "is not one the restoring role is a member of"
		}
		a.t.notify(fmt.Sprintf("role %s %s: %d objects it owns belong to the restoring role instead", o, why, a.unowned[o]))
	}
}

// restoreTool finds a pg_restore that reads the archive: one at least as
// new as the pg_dump that wrote it.
func (t *Target) restoreTool(ctx context.Context, s *dbexport.Schema) (*tool, error) {
	// Looked for once per Target, from OpenTarget on: the checks, the
	// dry run and the restore ask.
	tool, err := t.pgRestore.wait(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoRestoreTool, err)
	}
	// "pg_dump (PostgreSQL) 15.20 ..."
	if i := strings.Index(s.Archive.Tool, ") "); i >= 0 {
		if m := serverMajor(s.Archive.Tool[i+2:]); m > tool.major {
			return nil, fmt.Errorf("%w: %s cannot read an archive of %s", errNoRestoreTool, tool.version, s.Archive.Tool)
		}
	}
	return tool, nil
}

// listRoles returns the roles of the target, each true when the
// restoring role is a member of it and so may give it an object (ALTER
// ... OWNER TO needs that; pg_restore reports the error and goes on).
func (t *Target) listRoles(ctx context.Context) (map[string]bool, error) {
	rows, err := t.conn.Query(ctx, "SELECT rolname::text, pg_catalog.pg_has_role(oid, 'MEMBER') FROM pg_catalog.pg_roles")
	if err != nil {
		return nil, fmt.Errorf("list the roles of %s: %w", t.dsn.String(), err)
	}
	roles := map[string]bool{}
	var n string
	var member bool
	_, err = pgx.ForEachRow(rows, []any{&n, &member}, func() error { roles[n] = member; return nil })
	if err != nil {
		return nil, fmt.Errorf("list the roles of %s: %w", t.dsn.String(), err)
	}
	return roles, nil
}

// single restores in one transaction: all of it, or nothing.
func (a *archiveRestore) single(ctx context.Context) error {
	tx, err := a.t.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin restore: %w", err)
	}
	defer tx.Rollback(context.Background())
	if err := a.preData(ctx, tx); err != nil {
		return err
	}
	for _, td := range a.tables {
		if err := copyIn(ctx, tx, td, freezeCreated); err != nil {
			return fmt.Errorf("load rows of %s: %w", td.Table.QualifiedName(), err)
		}
	}
	for _, e := range a.r.post {
		if a.last(e) {
			continue // after the materialized views: finish
		}
		if err := a.entry(ctx, tx, e); err != nil {
			return err
		}
	}
	if err := a.finish(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// preData runs the preamble and the pre-data entries.
func (a *archiveRestore) preData(ctx context.Context, tx pgx.Tx) error {
	if a.r.preamble != "" {
		if _, err := tx.Exec(ctx, a.r.preamble); err != nil {
			return fmt.Errorf("session settings of the schema archive: %w", err)
		}
	}
	for _, e := range a.r.pre {
		if err := a.entry(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

// finish refreshes the materialized views that were populated, each after
// those it reads, then creates the event triggers (as pg_restore does,
// last: an event trigger fires on REFRESH and on every other DDL of the
// restore), and sets the sequences to the snapshot's positions.
func (a *archiveRestore) finish(ctx context.Context, tx pgx.Tx) error {
	if _, err := refreshSnapshotMatViews(ctx, tx, a.s); err != nil {
		return err
	}
	for _, e := range a.r.post {
		if a.last(e) {
			if err := a.entry(ctx, tx, e); err != nil {
				return err
			}
		}
	}
	var positions []string
	for _, td := range a.tables {
		for _, stmt := range td.Table.PostDDL {
			if strings.HasPrefix(stmt, setvalPrefix) {
				positions = append(positions, stmt)
			}
		}
	}
	for _, q := range a.s.Sequences {
		var exists bool
		name := ident(q.Schema, q.Name)
		if err := tx.QueryRow(ctx, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", name).Scan(&exists); err != nil {
			return fmt.Errorf("look up sequence %s.%s: %w", q.Schema, q.Name, err)
		}
		if exists {
			positions = append(positions, setvalSQL(name, q.Value, q.Called))
		}
	}
	for _, stmt := range positions {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("set sequence position (%s): %w", stmt, err)
		}
	}
	return nil
}

// entry runs one entry of the archive inside tx. Grants to roles the
// target lacks are skipped one statement at a time (each in a savepoint)
// and named, as are those the restoring role may not make; an object
// whose owner the target lacks, or that the restoring role is not a
// member of, is created without
// its ALTER ... OWNER (pg_restore --no-owner's rendering); a schema that
// exists is kept as it is (pg_dump writes CREATE SCHEMA public for
// --schema public).
func (a *archiveRestore) entry(ctx context.Context, tx pgx.Tx, e tocEntry) error {
	if a.skip[e.id] || e.sql == "" {
		return nil
	}
	opts := a.t.opts
	switch e.kind {
	case "ACL", "DEFAULT ACL":
		if opts.NoPrivileges {
			return nil
		}
		for _, st := range splitStatements(e.sql) {
			err := savepoint(ctx, tx, st)
			var pe *pgconn.PgError
			// undefined_object: the role; insufficient_privilege: a
			// default privilege of a role the restoring one is not a
			// member of, a grant it may not make.
			if errors.As(err, &pe) && (pe.Code == "42704" || pe.Code == "42501") {
				a.t.notify(fmt.Sprintf("not restored: %s of %s (%s)", strings.TrimSuffix(st, ";"), e.what(), pe.Message))
				continue
			}
			if err != nil {
				return fmt.Errorf("restore %s: %w", e.what(), err)
			}
		}
		return nil
	}
	sql, unowned := a.sqlOf(e)
	a.countUnowned(unowned)
	if e.kind == "SCHEMA" {
		err := savepoint(ctx, tx, sql)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42P06" { // duplicate_schema
			a.t.notify(fmt.Sprintf("schema %s exists in the target: kept as it is (owner, grants and comment included)", e.name))
			return nil
		}
		if err != nil {
			return fmt.Errorf("create %s: %w", e.what(), err)
		}
		return nil
	}
	if _, err := tx.Exec(ctx, sql); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42710" || errors.As(err, &pe) && pe.Code == "42P07" { // duplicate_object, duplicate_table
			return fmt.Errorf("create %s: %w (the target already holds it: restore into an empty database, or drop it first)", e.what(), err)
		}
		return fmt.Errorf("create %s: %w", e.what(), err)
	}
	return nil
}

// sqlOf returns the SQL that creates e: its --no-owner rendering with
// --no-owner, or when its owner is not a role of the target (then named
// in unowned).
func (a *archiveRestore) sqlOf(e tocEntry) (sql, unowned string) {
	switch {
	case a.t.opts.NoOwner:
		sql = a.r.noOwner[e.id]
	case !hasNoOwner(e) && !a.roles[e.owner]:
		sql, unowned = a.r.noOwner[e.id], e.owner
	default:
		sql = e.sql
	}
	if e.kind == "EXTENSION" {
		// pg_dump writes no version: the snapshot's, where the target has it.
		if v := a.extVersion[e.name]; v != "" {
			sql = withVersion(sql, v)
		}
		a.mu.Lock()
		if n := a.extNotes[e.name]; n != "" && !a.noted[e.name] {
			a.noted[e.name] = true
			a.t.notify(n)
		}
		a.mu.Unlock()
	}
	return sql, unowned
}

// countUnowned counts one object created without its owner role.
func (a *archiveRestore) countUnowned(role string) {
	if role == "" {
		return
	}
	a.mu.Lock()
	a.unowned[role]++
	a.mu.Unlock()
}

// savepoint runs sql so that its failure leaves tx usable.
func savepoint(ctx context.Context, tx pgx.Tx, sql string) error {
	return inSavepoint(ctx, tx, "strata_entry", func() error {
		_, err := tx.Exec(ctx, sql)
		return err
	})
}

// parallel restores as pg_restore --jobs does: the pre-data in one
// transaction, committed; then the tables on Options.Jobs connections,
// each in a transaction of its own; then the post-data entries, those
// whose dependencies are done side by side; then the materialized views
// and sequences. A failure past the first step leaves the restore half
// done, as pg_restore --jobs does: the error says so.
func (a *archiveRestore) parallel(ctx context.Context) error {
	tx, err := a.t.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin restore: %w", err)
	}
	defer tx.Rollback(context.Background())
	if err := a.preData(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit the pre-data section: %w", err)
	}
	if err := a.loadAndPost(ctx); err != nil {
		return fmt.Errorf("%w (%w: the pre-data section was committed, so the target holds part of the restore: drop the database and restore again, or restore with --jobs 1, which is all or nothing)", err, errHalfDone)
	}
	return nil
}

// errHalfDone marks the failure of a parallel restore past its first,
// committed step.
var errHalfDone = errors.New("restore half done")

// last reports whether e runs at the end of the restore, after the
// materialized views are refreshed: an EVENT TRIGGER and the entries
// that depend on one (its comment, its owner), as pg_restore's last pass
// runs them.
func (a *archiveRestore) last(e tocEntry) bool {
	if e.kind == "EVENT TRIGGER" {
		return true
	}
	for _, d := range e.deps {
		for _, x := range a.r.post {
			if x.id == d && x.kind == "EVENT TRIGGER" {
				return true
			}
		}
	}
	return false
}
