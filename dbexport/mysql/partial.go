package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"strata/dbexport"
)

// This file holds what a partial restore (some of the snapshot's tables)
// does beyond creating and loading tables: tables that exist with the
// snapshot's columns are emptied and reloaded in one transaction, and the
// foreign keys on the restored tables are checked against their rows.

// ErrForeignKeyViolation: the restored rows break a foreign key.
var ErrForeignKeyViolation = errors.New("the restored rows break a foreign key")

// reloadable reports whether the target's table can be reloaded in place:
// it has the columns of tab, by name and type, in order, and no trigger.
// Triggers would fire on the DELETE and the INSERTs (and a BEFORE INSERT
// one could change the rows), and MySQL cannot switch them off but by
// dropping them; a table with triggers is re-created instead, and gets
// the snapshot's triggers after its rows, as a whole restore does.
func reloadable(ctx context.Context, conn *sql.Conn, tab *dbexport.Table) (bool, error) {
	var triggers int
	if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.TRIGGERS
		WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = ?`, tab.Name).Scan(&triggers); err != nil {
		return false, fmt.Errorf("look up the triggers of table %s: %w", tab.Name, err)
	}
	if triggers > 0 {
		return false, nil
	}
	rows, err := conn.QueryContext(ctx, `SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, tab.Name)
	if err != nil {
		return false, fmt.Errorf("look up the columns of table %s: %w", tab.Name, err)
	}
	defer rows.Close()
	i := 0
	same := true
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return false, err
		}
		if i >= len(tab.Columns) || tab.Columns[i].Name != name || tab.Columns[i].Type != typ {
			same = false
		}
		i++
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("look up the columns of table %s: %w", tab.Name, err)
	}
	return same && i == len(tab.Columns), nil
}

// reloadInPlace empties the tables and loads the snapshot's rows into them
// in one transaction, with foreign key checks off (so DELETE cascades
// nowhere and the order of the tables does not matter), then checks every
// foreign key on them. A violation rolls the transaction back: the tables
// keep the rows they had.
func (t *Target) reloadInPlace(ctx context.Context, conn *sql.Conn, tables []dbexport.TableData) error {
	gens := make([]map[string]bool, len(tables))
	for i, td := range tables {
		var err error
		if gens[i], err = generatedColumns(ctx, conn, td.Table.Name); err != nil {
			return fmt.Errorf("table %s: %w", td.Table.Name, err)
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for i, td := range tables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(td.Table.Name)); err != nil {
			return fmt.Errorf("empty table %s: %w", td.Table.Name, err)
		}
		l, err := newLoader(ctx, tx, td.Table, gens[i], t.maxPacket)
		if err != nil {
			return fmt.Errorf("table %s: %w", td.Table.Name, err)
		}
		err = l.load(td.Rows)
		l.close()
		if err != nil {
			return fmt.Errorf("load table %s: %w", td.Table.Name, err)
		}
	}
	if err := checkForeignKeys(ctx, tx, tables, true); err != nil {
		return fmt.Errorf("%w; rolled back, nothing changed", err)
	}
	return tx.Commit()
}

// fkRef is one foreign key as information_schema lists it.
type fkRef struct {
	name, table, refTable string
	cols, refCols         []string
}

// checkForeignKeys looks for rows of the restored tables that refer to
// missing rows, and for rows of other tables that refer to rows the
// restored tables no longer hold, through every foreign key on them (keys
// added since the snapshot too). Without own, only the keys of other
// tables are checked (a whole restore's tables hold the snapshot's rows
// and keys). With foreign key checks off, the server checks none of this
// itself.
func checkForeignKeys(ctx context.Context, q interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}, tables []dbexport.TableData, own bool) error {
	restored := map[string]bool{}
	for _, td := range tables {
		restored[td.Table.Name] = true
	}
	rows, err := q.QueryContext(ctx, `SELECT CONSTRAINT_NAME, TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
		FROM information_schema.KEY_COLUMN_USAGE
		WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL
		ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`)
	if err != nil {
		return fmt.Errorf("list the foreign keys: %w", err)
	}
	var keys []*fkRef
	for rows.Next() {
		var name, table, col, refTable, refCol string
		if err := rows.Scan(&name, &table, &col, &refTable, &refCol); err != nil {
			rows.Close()
			return err
		}
		if n := len(keys); n > 0 && keys[n-1].name == name && keys[n-1].table == table {
			keys[n-1].cols = append(keys[n-1].cols, col)
			keys[n-1].refCols = append(keys[n-1].refCols, refCol)
			continue
		}
		keys = append(keys, &fkRef{name: name, table: table, refTable: refTable, cols: []string{col}, refCols: []string{refCol}})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list the foreign keys: %w", err)
	}
	var bad []string
	for _, k := range keys {
		check := restored[k.refTable] && !restored[k.table]
		if own {
			check = restored[k.refTable] || restored[k.table]
		}
		if !check {
			continue
		}
		var notNull, match, cols []string
		for i, c := range k.cols {
			notNull = append(notNull, "c."+quoteIdent(c)+" IS NOT NULL")
			match = append(match, "p."+quoteIdent(k.refCols[i])+" = c."+quoteIdent(c))
			cols = append(cols, quoteIdent(c))
		}
		var n int64
		err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(k.table)+" c WHERE "+strings.Join(notNull, " AND ")+
			" AND NOT EXISTS (SELECT 1 FROM "+quoteIdent(k.refTable)+" p WHERE "+strings.Join(match, " AND ")+")").Scan(&n)
		if err != nil {
			return fmt.Errorf("check foreign key %s of table %s: %w", k.name, k.table, err)
		}
		if n > 0 {
			refer := fmt.Sprintf("%d rows refer", n)
			if n == 1 {
				refer = "1 row refers"
			}
			bad = append(bad, fmt.Sprintf("foreign key %s of table %s: %s to (%s) values missing from table %s",
				k.name, k.table, refer, strings.Join(cols, ", "), k.refTable))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s (restore those tables too, or correct their rows first)", ErrForeignKeyViolation, strings.Join(bad, "; "))
	}
	return nil
}

// Check reports, without changing anything, why Restore of tables would
// fail: a snapshot of another engine, or a foreign key to a table that is
// neither restored nor in the target (with the checks off the server
// would take the key, and the restore's own check of the rows would then
// fail after the tables are written). Privileges are not checked: the
// server grants them through users, roles and wildcards that
// information_schema does not resolve. The keys other tables hold on
// the restored ones are checked against the snapshot's rows through
// HeldKeys, by dbexport.Restore.
func (t *Target) Check(ctx context.Context, s *dbexport.Schema, tables []*dbexport.Table, replace bool) error {
	if s.Engine != dbexport.EngineMySQL {
		return fmt.Errorf("%s: restore a %s snapshot into MySQL: %w; restore it into a %s database or a new SQLite file", t.dsn, s.Engine, ErrCrossEngine, s.Engine)
	}
	restored := map[string]bool{}
	for _, tab := range tables {
		restored[tab.Name] = true
	}
	var problems []string
	for _, tab := range tables {
		for _, fk := range tab.ForeignKeys {
			if restored[fk.RefTable] {
				continue
			}
			var n int
			err := t.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.TABLES
				WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`, fk.RefTable).Scan(&n)
			if err != nil {
				return fmt.Errorf("%s: look up table %s: %w", t.dsn, fk.RefTable, err)
			}
			if n == 0 {
				problems = append(problems, fmt.Sprintf("table %s references %s (foreign key %s), which is neither restored nor in the target: restore it too (--tables %s)",
					tab.Name, fk.RefTable, fk.Name, fk.RefTable))
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "; "))
}
