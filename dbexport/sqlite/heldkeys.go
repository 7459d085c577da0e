package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"strata/dbexport"
)

// HeldKeys lists the foreign keys that tables of the file not among
// tables declare on one of them (SQLite names no keys: each is called
// by its columns and parent), with the distinct key values each
// referencing table holds, written as CopyOut writes them, for
// dbexport.CheckHeldKeys. A key that names no parent columns refers to
// the parent's primary key, as the snapshot defines it. A restore of
// every table of the snapshot has none: the file's connections do not
// enforce foreign keys, and Restore checks them only for a partial one.
func (t *Target) HeldKeys(ctx context.Context, s *dbexport.Schema, tables []*dbexport.Table, maxValues int) ([]dbexport.HeldKey, error) {
	byName := map[string]*dbexport.Table{}
	for _, tab := range tables {
		byName[strings.ToLower(TableName(tab))] = tab
	}
	whole := true
	for _, tab := range s.Tables {
		whole = whole && byName[strings.ToLower(TableName(tab))] != nil
	}
	if whole {
		return nil, nil
	}
	rows, err := t.db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("%s: list the tables: %w", t.path, err)
	}
	var others []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("%s: list the tables: %w", t.path, err)
		}
		if byName[strings.ToLower(name)] == nil {
			others = append(others, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: list the tables: %w", t.path, err)
	}
	var keys []dbexport.HeldKey
	for _, other := range others {
		found, err := t.keysOf(ctx, other, byName)
		if err != nil {
			return nil, err
		}
		for i := range found {
			// Restore checks the keys of a partial restore of a SQLite
			// snapshot in its one transaction (foreignKeyCheck).
			found[i].CheckedAfterLoad = s.Engine == dbexport.EngineSQLite
			if err := t.keyValues(ctx, &found[i], maxValues); err != nil {
				return nil, err
			}
		}
		keys = append(keys, found...)
	}
	return keys, nil
}

// keysOf returns the keys table declares on a table of byName.
func (t *Target) keysOf(ctx context.Context, table string, byName map[string]*dbexport.Table) ([]dbexport.HeldKey, error) {
	rows, err := t.db.QueryContext(ctx, "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?) ORDER BY id, seq", table)
	if err != nil {
		return nil, fmt.Errorf("%s: list the foreign keys of %s: %w", t.path, table, err)
	}
	defer rows.Close()
	var keys []dbexport.HeldKey
	last := -1
	for rows.Next() {
		var id int
		var parent, from string
		var to sql.NullString
		if err := rows.Scan(&id, &parent, &from, &to); err != nil {
			return nil, fmt.Errorf("%s: list the foreign keys of %s: %w", t.path, table, err)
		}
		ref := byName[strings.ToLower(parent)]
		if ref == nil {
			continue
		}
		if id != last {
			keys = append(keys, dbexport.HeldKey{Table: table, RefTable: ref})
			last = id
		}
		k := &keys[len(keys)-1]
		k.Columns = append(k.Columns, from)
		k.RefColumns = append(k.RefColumns, to.String)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: list the foreign keys of %s: %w", t.path, table, err)
	}
	for i := range keys {
		k := &keys[i]
		if k.RefColumns[0] == "" {
			k.RefColumns = append([]string{}, k.RefTable.PrimaryKey...)
		}
		k.Name = "(" + strings.Join(k.Columns, ", ") + ") REFERENCES " + TableName(k.RefTable)
	}
	return keys, nil
}

// keyValues reads the distinct values of k's columns in its table, at
// most maxValues.
func (t *Target) keyValues(ctx context.Context, k *dbexport.HeldKey, maxValues int) error {
	var cols, notNull []string
	for _, c := range k.Columns {
		cols = append(cols, quoteIdent(c))
		notNull = append(notNull, quoteIdent(c)+" IS NOT NULL")
	}
	rows, err := t.db.QueryContext(ctx, fmt.Sprintf("SELECT DISTINCT %s FROM %s WHERE %s LIMIT %d",
		strings.Join(cols, ", "), quoteIdent(k.Table), strings.Join(notNull, " AND "), maxValues+1))
	if err != nil {
		return fmt.Errorf("%s: read the values of foreign key %s of %s: %w", t.path, k.Name, k.Table, err)
	}
	defer rows.Close()
	typed := k.RefTable.RowEncoding == dbexport.RowEncodingTyped
	err = dbexport.ScanHeldKeyValues(rows, k, maxValues, func(_ int, v any) (string, error) {
		// As the snapshot's rows hold them, unescaped: a REAL 3 is 3.0 in
		// typed rows, 3 in those of the first row encoding.
		switch v := v.(type) {
		case int64:
			return strconv.FormatInt(v, 10), nil
		case float64:
			if typed {
				return string(dbexport.AppendReal(nil, v)), nil
			}
			return string(appendFloat(nil, v)), nil
		case []byte:
			return `\x` + fmt.Sprintf("%x", v), nil
		case string:
			return v, nil
		default:
			return "", fmt.Errorf("a value of type %T", v)
		}
	})
	if err != nil {
		return fmt.Errorf("%s: read the values of foreign key %s of %s: %w", t.path, k.Name, k.Table, err)
	}
	return nil
}
