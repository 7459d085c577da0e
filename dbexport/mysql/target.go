package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"

	"strata/dbexport"
)

// Target restores snapshots of MySQL and MariaDB databases into a
// database that already exists.
//
// MySQL cannot roll back DDL: a restore that fails part way leaves the
// tables before the failing one created and loaded (each table's rows are
// loaded in one transaction, so a table is never half loaded when its
// engine is InnoDB). The error names the table that failed.
type Target struct {
	db        *sql.DB
	dsn       dbexport.DSN
	opts      Options
	maxPacket int // the server's max_allowed_packet
}

var _ dbexport.Target = (*Target)(nil)

// OpenTarget connects to the database d names.
func OpenTarget(ctx context.Context, d dbexport.DSN, o Options) (*Target, error) {
	db, err := openDB(d, o)
	if err != nil {
		return nil, err
	}
	t := &Target{db: db, dsn: d, opts: o}
	if err := db.QueryRowContext(ctx, "SELECT @@max_allowed_packet").Scan(&t.maxPacket); err != nil {
		db.Close()
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1049 {
			return nil, fmt.Errorf("connect to %s: %w (create the database first)", d, err)
		}
		return nil, fmt.Errorf("connect to %s: %w", d, err)
	}
	return t, nil
}

// Engine is dbexport.EngineMySQL.
func (t *Target) Engine() string { return dbexport.EngineMySQL }

// Close disconnects.
func (t *Target) Close() error { return t.db.Close() }

// RowCount returns the rows of the table named like tab, and whether it
// exists.
func (t *Target) RowCount(ctx context.Context, tab *dbexport.Table) (int64, bool, error) {
	n, ok, err := rowCount(ctx, t.db, tab.Name)
	if err != nil {
		return 0, false, fmt.Errorf("%s: count rows of table %s: %w", t.dsn, tab.Name, err)
	}
	return n, ok, nil
}

// queryer is what rowCount needs of a *sql.DB or *sql.Conn.
type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func rowCount(ctx context.Context, q queryer, table string) (int64, bool, error) {
	var kind string
	err := q.QueryRowContext(ctx, `SELECT TABLE_TYPE FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`, table).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	var n int64
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(table)).Scan(&n); err != nil {
		return 0, true, err
	}
	return n, true, nil
}

// Restore creates and loads the tables, then applies their PostDDL
// (foreign keys, auto-increment positions) and creates their triggers,
// then, in a whole restore, creates the routines, views and events of s.
// Foreign key checks are off for the whole restore, so the order of
// tables does not matter.
//
// Without replace, Restore first checks every table and fails with
// ErrTableNotEmpty, before changing anything, if one exists and holds
// rows. Tables that exist are dropped and created again from the
// snapshot: with replace all of them, without only empty ones.
//
// A partial restore (tables holds some of s's, see dbexport.RestoresAll)
// changes only those tables. With replace, a table that exists with the
// snapshot's columns and has no triggers, in the target or the snapshot
// (see reloadable), is reloaded in
// place, before anything else: in one
// transaction, DELETE (which cascades nowhere with the checks off) and
// INSERT, then every foreign key on the table, the target's own ones
// included, is checked against the rows; a violation rolls it back and
// fails with ErrForeignKeyViolation naming the key and the table. Such a
// table keeps its keys, indexes and triggers and takes only the
// snapshot's AUTO_INCREMENT, forward only. Tables that are re-created are checked the
// same way after their PostDDL (by a whole restore, only the keys of
// tables outside the snapshot), but cannot be rolled back. Views,
// routines and events are created only by a whole restore, each after
// dropping one of the same name; a partial restore names them through
// Options.Logger.
func (t *Target) Restore(ctx context.Context, s *dbexport.Schema, tables []dbexport.TableData, replace bool) error {
	if s.Engine != dbexport.EngineMySQL {
		return fmt.Errorf("%s: restore a %s snapshot into MySQL: %w; restore it into a %s database or a new SQLite file", t.dsn, s.Engine, ErrCrossEngine, s.Engine)
	}
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", t.dsn, err)
	}
	defer conn.Close()
	if err := t.restore(ctx, conn, s, tables, replace); err != nil {
		return fmt.Errorf("%s: %w", t.dsn, err)
	}
	return nil
}

func (t *Target) restore(ctx context.Context, conn *sql.Conn, s *dbexport.Schema, tables []dbexport.TableData, replace bool) error {
	if !replace {
		var full []string
		for _, td := range tables {
			n, ok, err := rowCount(ctx, conn, td.Table.Name)
			if err != nil {
				return fmt.Errorf("count rows of table %s: %w", td.Table.Name, err)
			}
			if ok && n > 0 {
				full = append(full, fmt.Sprintf("%s (%s)", td.Table.Name, dbexport.CountRows(n)))
			}
		}
		if len(full) > 0 {
			return fmt.Errorf("%w: %s; nothing was changed (restore with replace to overwrite)", ErrTableNotEmpty, strings.Join(full, ", "))
		}
	}
	if _, err := conn.ExecContext(ctx, "SET FOREIGN_KEY_CHECKS = 0"); err != nil {
		return err
	}
	// The connection goes back to the pool; it must not keep the checks
	// off when the restore fails half way.
	defer conn.ExecContext(context.Background(), "SET FOREIGN_KEY_CHECKS = 1")
	whole := dbexport.RestoresAll(s, tables)
	cr, err := newCreator(ctx, conn, t.dsn.Database, t.opts.NoDefiner, t.opts.notify)
	if err != nil {
		return err
	}
	var inPlace, recreate []dbexport.TableData
	for _, td := range tables {
		same := false
		if replace && !whole && !hasTriggers(s, td.Table.Name) {
			var err error
			if same, err = reloadable(ctx, conn, td.Table); err != nil {
				return err
			}
		}
		if same {
			inPlace = append(inPlace, td)
		} else {
			recreate = append(recreate, td)
		}
	}
	seqs := sequencesNeeded(s, recreate, whole)
	if err := cr.restoreSequences(ctx, seqs, whole, replace); err != nil {
		return err
	}
	if len(inPlace) > 0 {
		if err := t.reloadInPlace(ctx, conn, inPlace); err != nil {
			return err
		}
	}
	if len(recreate) > 0 {
		if err := t.loadTables(ctx, recreate); err != nil {
			return err
		}
	}
	for _, td := range recreate {
		for _, stmt := range td.Table.PostDDL {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("table %s: %s: %w", td.Table.Name, stmt, err)
			}
		}
		if err := cr.createTriggers(ctx, s, td.Table.Name); err != nil {
			return fmt.Errorf("table %s: %w", td.Table.Name, err)
		}
	}
	for _, td := range inPlace {
		// The table keeps its keys, indexes and triggers; its counter
		// moves forward to the snapshot's position, never back: values
		// handed out since the snapshot may be held anywhere.
		for _, stmt := range td.Table.PostDDL {
			if !strings.HasPrefix(stmt, autoIncrementPrefix(td.Table)) {
				continue
			}
			ahead, err := counterAhead(ctx, conn, td.Table.Name, strings.TrimPrefix(stmt, autoIncrementPrefix(td.Table)))
			if err != nil {
				return fmt.Errorf("table %s: %w", td.Table.Name, err)
			}
			if ahead {
				continue
			}
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("table %s: %s: %w", td.Table.Name, stmt, err)
			}
		}
	}
	if len(recreate) > 0 {
		// A whole restore checks only the keys tables outside the
		// snapshot hold on it.
		if err := checkForeignKeys(ctx, conn, recreate, !whole); err != nil {
			return fmt.Errorf("%w; the tables are restored, as MySQL cannot roll back DDL", err)
		}
	}
	if !t.opts.NoPrivileges {
		restored := map[string]bool{}
		for _, td := range tables {
			restored[td.Table.Name] = true
		}
		if err := cr.restoreGrants(ctx, grantsAfterTables(s.Grants, restored, whole)); err != nil {
			return fmt.Errorf("%w; the tables and their rows are restored, as MySQL cannot roll back DDL", err)
		}
	}
	if !whole {
		if names := notRecreated(s, seqs); len(names) > 0 {
			t.opts.notify("a restore of some tables does not recreate the snapshot's views, routines, events and the sequences no restored table's default calls: " + strings.Join(names, ", "))
		}
		return nil
	}
	// Routines before views (a view that calls a function needs it),
	// events last (none runs while the restore is under way).
	err = cr.createRoutines(ctx, s)
	if err == nil {
		err = cr.createViews(ctx, s.Views)
	}
	if err == nil {
		err = cr.createEvents(ctx, s)
	}
	if err == nil && !t.opts.NoPrivileges {
		// A routine must exist to be granted on.
		err = cr.restoreGrants(ctx, routineGrants(s.Grants))
	}
	if err != nil {
		return fmt.Errorf("%w; the tables and their rows are restored, as MySQL cannot roll back DDL", err)
	}
	return nil
}

// counterAhead reports whether table's auto-increment counter, as SHOW
// CREATE TABLE gives it (information_schema may serve a cached one), is
// at or past want, a position as PostDDL writes it.
func counterAhead(ctx context.Context, conn *sql.Conn, table, want string) (bool, error) {
	var name, ddl string
	if err := conn.QueryRowContext(ctx, "SHOW CREATE TABLE "+quoteIdent(table)).Scan(&name, &ddl); err != nil {
		return false, fmt.Errorf("read the auto-increment counter: %w", err)
	}
	ct, err := parseCreateTable(ddl)
	if err != nil {
		return false, err
	}
	_, now := takeAutoIncrement(ct.tail)
	w, werr := strconv.ParseUint(want, 10, 64)
	n, nerr := strconv.ParseUint(now, 10, 64)
	return werr == nil && nerr == nil && n >= w, nil
}

// autoIncrementPrefix starts the PostDDL statement that sets tab's
// auto-increment position (see Source.tableDDL).
func autoIncrementPrefix(tab *dbexport.Table) string {
	return "ALTER TABLE " + quoteIdent(tab.Name) + " AUTO_INCREMENT = "
}

// restoreTable drops (if it exists), creates with the statement create
// and loads one table. A failed load is rolled back, leaving the table
// empty.
func (t *Target) restoreTable(ctx context.Context, conn *sql.Conn, td dbexport.TableData, create string) error {
	tab := td.Table
	if _, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+quoteIdent(tab.Name)); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	gen, err := generatedColumns(ctx, conn, tab.Name)
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	l, err := newLoader(ctx, tx, tab, gen, t.maxPacket)
	if err != nil {
		tx.Rollback()
		return err
	}
	err = l.load(td.Rows)
	l.close()
	if err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// generatedColumns returns the names of the generated columns of a table
// just created: the server refuses values for them.
func generatedColumns(ctx context.Context, conn *sql.Conn, table string) (map[string]bool, error) {
	rows, err := conn.QueryContext(ctx, `SELECT COLUMN_NAME FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?
		AND (EXTRA LIKE '%VIRTUAL GENERATED%' OR EXTRA LIKE '%STORED GENERATED%')`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	gen := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		gen[name] = true
	}
	return gen, rows.Err()
}
