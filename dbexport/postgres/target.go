package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/dbexport"
)

// Target restores tables into a PostgreSQL database. It implements
// dbexport.Target.
type Target struct {
	dsn  dbexport.DSN
	conn *pgx.Conn
}

var _ dbexport.Target = (*Target)(nil)

// OpenTarget connects to the database that d names; the database must
// exist (CreateDatabase makes one). Only opts.PasswordFile is used.
func OpenTarget(ctx context.Context, d dbexport.DSN, opts Options) (*Target, error) {
	conn, err := connect(ctx, d, opts)
	if err != nil {
		return nil, err
	}
	return &Target{dsn: d, conn: conn}, nil
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
		return 0, true, fmt.Errorf("postgres: count rows of %s in %s: %w", tab.QualifiedName(), t.dsn.String(), err)
	}
	return n, true, nil
}

// Close closes the connection.
func (t *Target) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return t.conn.Close(ctx)
}

// Restore writes tables into the database in one transaction: either all
// of it is committed or nothing is. The steps, in order:
//
//  1. with replace, DROP TABLE IF EXISTS ... CASCADE for each table (and,
//     when every table of s is restored, DROP VIEW IF EXISTS for s's
//     views); without it, an existing table makes CREATE TABLE fail and
//     the whole restore roll back;
//  2. CREATE SCHEMA for the schemas that are missing;
//  3. the free sequences (those no restored column owns): created and set
//     to their position when missing; an existing one is set only by a
//     replace of every table of s, as the very last step because setval
//     is not undone by a rollback, and otherwise left alone, since other
//     tables may draw from it;
//  4. each table's DDL (its owned sequences, then CREATE TABLE);
//  5. each table's rows with COPY FROM STDIN;
//  6. each table's PostDDL but its foreign keys (indexes, sequence
//     ownership and positions), then the foreign keys of all tables, so
//     the order of the tables does not matter;
//  7. with replace and only some tables restored: the foreign keys that
//     other tables of s hold on the restored ones, which DROP ... CASCADE
//     removed, are added back as NOT VALID (the rows they guard may now
//     differ; a drill reports orphans, VALIDATE CONSTRAINT checks them);
//  8. the views, when every table of s is restored; when only some are,
//     the views of s that existed in the target before step 1 and that
//     DROP ... CASCADE removed (a view may read tables that are not
//     restored, so no other view is created).
//
// Only snapshots of PostgreSQL databases can be restored: their DDL is in
// PostgreSQL's dialect.
func (t *Target) Restore(ctx context.Context, s *dbexport.Schema, tables []dbexport.TableData, replace bool) error {
	if s.Engine != dbexport.EnginePostgres {
		return fmt.Errorf("postgres: restoring a %s snapshot into PostgreSQL is not supported yet (restore it into a SQLite file instead)", s.Engine)
	}
	tx, err := t.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin restore into %s: %w", t.dsn.String(), err)
	}
	defer tx.Rollback(context.Background())
	r := &restore{tx: tx, schema: s, tables: tables, replace: replace}
	if err := r.run(ctx); err != nil {
		return fmt.Errorf("postgres: restore into %s (rolled back, nothing changed): %w", t.dsn.String(), err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit restore into %s: %w", t.dsn.String(), err)
	}
	return nil
}
