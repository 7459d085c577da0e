package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"strata/dbexport"
)

// HeldKeys lists the validated foreign keys that tables not among tables
// hold on one of them, with the distinct key values each referencing
// table holds (as text, which is what COPY text shows), for
// dbexport.CheckHeldKeys. A key added NOT VALID is left out: the restore
// adds it back NOT VALID, unchecked.
func (t *Target) HeldKeys(ctx context.Context, _ *dbexport.Schema, tables []*dbexport.Table, maxValues int) ([]dbexport.HeldKey, error) {
	restored := map[string]bool{}
	for _, tab := range tables {
		restored[qualified(tab.Schema, tab.Name)] = true
	}
	var keys []dbexport.HeldKey
	for _, tab := range tables {
		rows, err := t.conn.Query(ctx, `SELECT c.conname, n.nspname, r.relname,
			array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(num, i)
				JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num ORDER BY k.i),
			array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(num, i)
				JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num ORDER BY k.i)
			FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_class r ON r.oid = c.conrelid
			JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
			WHERE c.contype = 'f' AND c.convalidated AND c.conparentid = 0
			  AND c.confrelid = pg_catalog.to_regclass($1) AND c.conrelid <> c.confrelid
			ORDER BY 2, 3, 1`, tableIdent(tab))
		if err != nil {
			return nil, fmt.Errorf("postgres: list the foreign keys on %s: %w", tab.QualifiedName(), err)
		}
		var k dbexport.HeldKey
		var schema, table string
		var found []dbexport.HeldKey
		var from []string // the referencing tables, quoted
		if _, err := pgx.ForEachRow(rows, []any{&k.Name, &schema, &table, &k.Columns, &k.RefColumns}, func() error {
			if !restored[qualified(schema, table)] {
				k.Table, k.RefTable = qualified(schema, table), tab
				found, from = append(found, k), append(from, ident(schema, table))
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("postgres: list the foreign keys on %s: %w", tab.QualifiedName(), err)
		}
		for i, k := range found {
			k.CheckedAfterLoad = true // restored in one transaction
			if err := t.keyValues(ctx, &k, from[i], maxValues); err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// keyValues reads the distinct values of k's columns in its table (from,
// quoted), at most maxValues.
func (t *Target) keyValues(ctx context.Context, k *dbexport.HeldKey, from string, maxValues int) error {
	var cols, notNull []string
	for _, c := range k.Columns {
		cols = append(cols, ident(c)+"::text")
		notNull = append(notNull, ident(c)+" IS NOT NULL")
	}
	rows, err := t.conn.Query(ctx, fmt.Sprintf("SELECT DISTINCT %s FROM %s WHERE %s LIMIT %d",
		strings.Join(cols, ", "), from, strings.Join(notNull, " AND "), maxValues+1))
	if err != nil {
		return fmt.Errorf("postgres: read the values of foreign key %s of %s: %w", k.Name, k.Table, err)
	}
	defer rows.Close()
	k.Values = map[string]bool{}
	vals := make([]string, len(k.Columns))
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("postgres: read the values of foreign key %s of %s: %w", k.Name, k.Table, err)
		}
		if len(k.Values) == maxValues {
			k.Truncated = true
			break
		}
		k.Values[dbexport.KeyValue(vals)] = true
	}
	return rows.Err()
}
