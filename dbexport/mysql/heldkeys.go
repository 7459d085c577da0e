package mysql

import (
	"context"
	"fmt"
	"strings"

	"strata/dbexport"
)

// HeldKeys lists the foreign keys that tables not among tables hold on
// one of them, with the distinct key values each referencing table holds,
// read through the codec of each column so that they read as CopyOut
// writes them, for dbexport.CheckHeldKeys. dbexport.Restore checks them
// before anything is written: MySQL cannot roll back the DDL of a table
// it re-creates, and would find a violation only afterwards.
func (t *Target) HeldKeys(ctx context.Context, s *dbexport.Schema, tables []*dbexport.Table, maxValues int) ([]dbexport.HeldKey, error) {
	byName := map[string]*dbexport.Table{}
	for _, tab := range tables {
		byName[tab.Name] = tab
	}
	rows, err := t.db.QueryContext(ctx, `SELECT k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME, c.COLUMN_TYPE,
		k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME
		FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.COLUMNS c
		  ON c.TABLE_SCHEMA = k.TABLE_SCHEMA AND c.TABLE_NAME = k.TABLE_NAME AND c.COLUMN_NAME = k.COLUMN_NAME
		WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
		ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`)
	if err != nil {
		return nil, fmt.Errorf("%s: list the foreign keys: %w", t.dsn, err)
	}
	var keys []dbexport.HeldKey
	var codecs [][]codec
	for rows.Next() {
		var name, table, col, colType, refTable, refCol string
		if err := rows.Scan(&name, &table, &col, &colType, &refTable, &refCol); err != nil {
			rows.Close()
			return nil, fmt.Errorf("%s: list the foreign keys: %w", t.dsn, err)
		}
		ref, ok := byName[refTable]
		if !ok || byName[table] != nil {
			continue
		}
		if n := len(keys); n > 0 && keys[n-1].Name == name && keys[n-1].Table == table {
			keys[n-1].Columns = append(keys[n-1].Columns, col)
			keys[n-1].RefColumns = append(keys[n-1].RefColumns, refCol)
			codecs[n-1] = append(codecs[n-1], codecOf(colType))
			continue
		}
		keys = append(keys, dbexport.HeldKey{Name: name, Table: table, Columns: []string{col}, RefTable: ref, RefColumns: []string{refCol}})
		codecs = append(codecs, []codec{codecOf(colType)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: list the foreign keys: %w", t.dsn, err)
	}
	// A violation is rolled back only when the referenced table is
	// reloaded in place (Restore); one that is re-created is not.
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", t.dsn, err)
	}
	defer conn.Close()
	inPlace := map[*dbexport.Table]bool{}
	for _, tab := range tables {
		same, err := reloadable(ctx, conn, tab)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.dsn, err)
		}
		inPlace[tab] = same && !hasTriggers(s, tab.Name)
	}
	for i := range keys {
		keys[i].CheckedAfterLoad = inPlace[keys[i].RefTable]
		if err := t.keyValues(ctx, &keys[i], codecs[i], maxValues); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// keyValues reads the distinct values of k's columns in its table, at
// most maxValues.
func (t *Target) keyValues(ctx context.Context, k *dbexport.HeldKey, codecs []codec, maxValues int) error {
	var sel, notNull []string
	for i, c := range k.Columns {
		sel = append(sel, codecs[i].selectExpr(c))
		notNull = append(notNull, quoteIdent(c)+" IS NOT NULL")
	}
	// No arguments: the text protocol, whose values appendValue takes.
	rows, err := t.db.QueryContext(ctx, fmt.Sprintf("SELECT DISTINCT %s FROM %s WHERE %s LIMIT %d",
		strings.Join(sel, ", "), quoteIdent(k.Table), strings.Join(notNull, " AND "), maxValues+1))
	if err != nil {
		return fmt.Errorf("%s: read the values of foreign key %s of %s: %w", t.dsn, k.Name, k.Table, err)
	}
	defer rows.Close()
	err = dbexport.ScanHeldKeyValues(rows, k, maxValues, func(i int, v any) (string, error) {
		field, err := codecs[i].appendValue(nil, v)
		if err != nil {
			return "", err
		}
		text, _, err := dbexport.Unescape(field)
		return string(text), err
	})
	if err != nil {
		return fmt.Errorf("%s: read the values of foreign key %s of %s: %w", t.dsn, k.Name, k.Table, err)
	}
	return nil
}
