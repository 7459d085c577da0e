package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/dbexport"
)

// Target restores tables into a PostgreSQL database. It implements
// dbexport.Target.
type Target struct {
	dsn  dbexport.DSN
	conn *pgx.Conn
	opts Options
	// pgRestore looks for pg_restore from OpenTarget on, while the
	// restore reads the snapshot.
	pgRestore *toolLookup
	mu        sync.Mutex      // guards said: a parallel restore notifies from several goroutines
	said      map[string]bool // notices given, each once
}

var _ dbexport.Target = (*Target)(nil)

// OpenTarget connects to the database that d names; the database must
// exist (CreateDatabase makes one). opts.Schemas is not used; opts.Jobs
// is the number of connections a restore from the schema archive loads
// tables on.
func OpenTarget(ctx context.Context, d dbexport.DSN, opts Options) (*Target, error) {
	conn, err := connect(ctx, d, opts)
	if err != nil {
		return nil, err
	}
	return &Target{dsn: d, conn: conn, opts: opts, pgRestore: lookUpTool(ctx, "pg_restore", opts.PgRestore)}, nil
}

func (t *Target) notify(msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.opts.Logger == nil || t.said[msg] {
		return
	}
	if t.said == nil {
		t.said = map[string]bool{}
	}
	t.said[msg] = true
	t.opts.Logger.Warn(msg)
}

// usesArchive reports whether a restore of tables recreates the schema
// from the snapshot's schema archive: a restore of every table of the
// snapshot into a database that holds none of them. Any other restore
// (of some tables, or over existing ones) builds the tables from
// schema.json, as a snapshot without archive does.
func (t *Target) usesArchive(ctx context.Context, s *dbexport.Schema, tables []*dbexport.Table) (bool, error) {
	if s.Archive == nil || s.Archive.Load == nil || len(tables) != len(s.Tables) {
		return false, nil
	}
	if _, err := t.restoreTool(ctx, s); err != nil {
		t.notify(fmt.Sprintf("the schema archive cannot be used (%v): the tables are built from schema.json, and not recreated: %s", err, notWithoutArchive))
		return false, nil
	}
	have := map[string]bool{}
	for _, tab := range tables {
		have[tab.QualifiedName()] = true
	}
	for _, tab := range s.Tables {
		if !have[tab.QualifiedName()] {
			return false, nil
		}
	}
	for _, tab := range tables {
		var exists bool
		if err := t.conn.QueryRow(ctx, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", tableIdent(tab)).Scan(&exists); err != nil {
			return false, fmt.Errorf("postgres: look up %s in %s: %w", tab.QualifiedName(), t.dsn.String(), err)
		}
		if exists {
			return false, nil
		}
	}
	return true, nil
}

// Engine returns dbexport.EnginePostgres.
func (t *Target) Engine() string { return dbexport.EnginePostgres }

// RowCount counts the rows of the table named like tab (in schema public
// when tab has none), and says whether it exists.
func (t *Target) RowCount(ctx context.Context, tab *dbexport.Table) (int64, bool, error) {
	var exists bool
	name := tableIdent(tab)
	if err := t.conn.QueryRow(ctx, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", name).Scan(&exists); err != nil {
		return 0, false, fmt.Errorf("postgres: look up %s in %s: %w", tab.QualifiedName(), t.dsn.String(), err)
	}
	if !exists {
		return 0, false, nil
	}
	var n int64
	if err := t.conn.QueryRow(ctx, "SELECT count(*) FROM "+name).Scan(&n); err != nil {
		return 0, true, fmt.Errorf("postgres: count rows of %s in %s: %w", tab.QualifiedName(), t.dsn.String(), rlsHidden(err, tab.QualifiedName()))
	}
	return n, true, nil
}

// Close closes the connection (after the look-up for pg_restore).
func (t *Target) Close() error {
	t.pgRestore.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return t.conn.Close(ctx)
}

// Restore writes tables into the database in one transaction: either all
// of it is committed or nothing is. s is the snapshot's schema, with all
// its tables; tables are the ones to restore. When tables is every table
// of s the restore is whole, otherwise partial: a partial restore changes
// only the restored tables and what they own, never another table's
// foreign keys, another sequence or a view. The steps, in order:
//
//  1. with replace, each restored table that exists is either reloaded in
//     place (partial restores, when its columns are the snapshot's, by
//     name and type: it keeps its indexes, constraints, triggers, grants
//     and the views over it) or re-created (whole restores, and tables
//     whose columns differ);
//  2. the foreign keys that other tables hold on the restored tables that
//     exist, and those the tables reloaded in place hold, are set aside:
//     their definitions are read from the target's catalog and they are
//     dropped (step 9 adds them back);
//  3. with replace, the snapshot's views (whole restores only, CASCADE),
//     then the tables to re-create in one DROP TABLE without CASCADE, so
//     a view or other object that depends on one stops the restore
//     instead of vanishing; without replace, an existing table makes
//     CREATE TABLE fail and the whole restore roll back;
//  4. CREATE SCHEMA for the schemas that are missing;
//  5. the free sequences (those no restored column owns) that are
//     missing: all of s's for a whole restore, for a partial one those a
//     restored column's default draws from; an existing one is set only
//     by a replace of the whole snapshot, and otherwise left alone, as
//     other tables may draw from it;
//  6. each re-created table's DDL (its owned sequences, then CREATE
//     TABLE), or with a schema archive its entries, run before step 5
//     with the objects it needs that the target lacks; the enabled user triggers of the tables reloaded in place
//     are disabled (so the rows arrive as the snapshot holds them), and
//     one TRUNCATE empties those tables;
//  7. each table's rows with COPY FROM STDIN, then the triggers are
//     enabled again in their former mode (ENABLE, REPLICA or ALWAYS);
//  8. each re-created table's PostDDL but its foreign keys (indexes,
//     sequence ownership and positions), then the foreign keys of all of
//     them, so the order of the tables does not matter;
//  9. the keys set aside in step 2, as they were: validated, so restored
//     rows that another table's rows refer to, or that refer to missing
//     rows, fail the restore with the key and the table named;
//  10. the views of s, for a whole restore; then the populated
//     materialized views of the target that read a restored table are
//     refreshed, each after those it reads;
//  11. last, as setval is not undone by a rollback: the positions of the
//     sequences the tables reloaded in place own (forward only, for a
//     partial restore), and for a whole replace the free sequences that
//     existed.
//
// Only snapshots of PostgreSQL databases can be restored: their DDL is in
// PostgreSQL's dialect.
func (t *Target) Restore(ctx context.Context, s *dbexport.Schema, tables []dbexport.TableData, replace bool) error {
	if s.Engine != dbexport.EnginePostgres {
		return fmt.Errorf("postgres: restoring a %s snapshot into PostgreSQL is not supported yet (restore it into a SQLite file instead)", s.Engine)
	}
	list := make([]*dbexport.Table, len(tables))
	for i, td := range tables {
		list[i] = td.Table
	}
	archived, err := t.usesArchive(ctx, s, list)
	if err != nil {
		return err
	}
	if archived {
		err := t.restoreFromArchive(ctx, s, tables)
		switch {
		case errors.Is(err, errNoRestoreTool):
			t.notify(fmt.Sprintf("the schema archive is not used (%v): the tables are built from schema.json, and not recreated: %s", err, notWithoutArchive))
		case errors.Is(err, errHalfDone):
			return fmt.Errorf("postgres: restore into %s: %w", t.dsn.String(), err)
		case err != nil:
			return fmt.Errorf("postgres: restore into %s (rolled back, nothing changed): %w", t.dsn.String(), err)
		default:
			return nil
		}
	} else {
		t.notifyCatalogRestore(s)
	}
	if t.opts.Jobs > 1 {
		t.notify(fmt.Sprintf("--jobs %d is not used: a restore of some tables, over tables the target holds, or without a schema archive runs on one connection, in one transaction (all or nothing)", t.opts.Jobs))
	}
	tx, err := t.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin restore into %s: %w", t.dsn.String(), err)
	}
	defer tx.Rollback(context.Background())
	r := &restore{tx: tx, schema: s, tables: tables, replace: replace, notify: t.notify}
	if s.Archive != nil {
		r.openArchive = func(ctx context.Context) (*tableArchive, error) { return t.openTableArchive(ctx, s) }
	}
	if err := r.run(ctx); err != nil {
		return fmt.Errorf("postgres: restore into %s (rolled back, nothing changed): %w", t.dsn.String(), err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit restore into %s: %w", t.dsn.String(), err)
	}
	return nil
}

// notifyCatalogRestore says what a restore that builds the tables from
// schema.json does not recreate.
func (t *Target) notifyCatalogRestore(s *dbexport.Schema) {
	if s.Archive == nil && len(s.NotCaptured) > 0 {
		return // the restore names them
	}
	if s.Archive == nil {
		t.notify("the snapshot holds no schema archive (see the warnings of its backup): the tables are built from schema.json, and not recreated: " + notWithoutArchive)
		return
	}
	// Re-created tables come from the archive (restore.archiveEntries),
	// tables reloaded in place keep their definitions, and other objects
	// are left as they are: nothing to say.
}
