package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// keptKey is a constraint of the target that a restore drops before it
// empties or re-creates the tables it touches, and adds back afterwards
// exactly as it was (pg_get_constraintdef), validated unless it was NOT
// VALID before, with its comment: a foreign key, or a CHECK marked NOT
// VALID that the restored rows, as the snapshot's table held them, may
// break (one of a table reloaded in place, or of a domain of a restored
// column).
type keptKey struct {
	schema, table string // the referencing table, the checked table or the domain
	domain        bool   // table names a domain
	name          string
	def           string // pg_get_constraintdef: FOREIGN KEY (...) REFERENCES ..., CHECK (...) NOT VALID
	refTable      string // a foreign key's referenced table, qualified
	comment       string // none when empty (COMMENT ... IS '' removes one)
}

func (k keptKey) relIdent() string { return ident(k.schema, k.table) }

// alter is the statement that k's constraint is changed by.
func (k keptKey) alter() string {
	if k.domain {
		return "ALTER DOMAIN " + k.relIdent()
	}
	return "ALTER TABLE " + k.relIdent()
}

// what names k in errors.
func (k keptKey) what() string {
	switch {
	case k.domain:
		return "check " + k.name + " of domain " + k.schema + "." + k.table
	case k.refTable == "":
		return "check " + k.name + " of table " + k.schema + "." + k.table
	}
	return "foreign key " + k.name + " of table " + k.schema + "." + k.table
}

// keptKeys returns the foreign keys of the target to keep across the
// restore: those that reference a table in refs (tables the restore
// empties or re-creates) from a table not in recreated, and those that
// tables in own (tables emptied in place) hold on any table. The keys of
// a re-created table are dropped with it and come back from the snapshot.
// Keys on partitions, which follow their parent's, are left out.
func keptKeys(ctx context.Context, tx pgx.Tx, refs, own, recreated []uint32) ([]keptKey, error) {
	if len(refs) == 0 && len(own) == 0 {
		return nil, nil
	}
	// A nil slice would travel as NULL, and x = ANY(NULL) is never true.
	refs, own, recreated = append([]uint32{}, refs...), append([]uint32{}, own...), append([]uint32{}, recreated...)
	rows, err := tx.Query(ctx, `
SELECT n.nspname, r.relname, c.conname, pg_catalog.pg_get_constraintdef(c.oid),
       fn.nspname || '.' || f.relname, coalesce(pg_catalog.obj_description(c.oid, 'pg_constraint'), '')
FROM pg_catalog.pg_constraint c
JOIN pg_catalog.pg_class r ON r.oid = c.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
JOIN pg_catalog.pg_class f ON f.oid = c.confrelid
JOIN pg_catalog.pg_namespace fn ON fn.oid = f.relnamespace
WHERE c.contype = 'f' AND c.conparentid = 0
  AND ((c.confrelid = ANY($1::oid[]) AND NOT c.conrelid = ANY($3::oid[])) OR c.conrelid = ANY($2::oid[]))
ORDER BY n.nspname, r.relname, c.conname`, refs, own, recreated)
	if err != nil {
		return nil, fmt.Errorf("list the foreign keys on the restored tables: %w", err)
	}
	var keys []keptKey
	var k keptKey
	_, err = pgx.ForEachRow(rows, []any{&k.schema, &k.table, &k.name, &k.def, &k.refTable, &k.comment}, func() error {
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the foreign keys on the restored tables: %w", err)
	}
	return keys, nil
}

// notValidChecks returns the CHECK constraints marked NOT VALID that
// would judge the restored rows, which the snapshot's table held beside
// such a check: those of the tables in own (reloaded in place) and their
// partitions, and those of the domains that the columns of types
// (format_type of the restored columns) are, or are arrays or
// composites of, where the restoring role owns the domain. Inherited
// checks come and go with their parent's and are left out.
func notValidChecks(ctx context.Context, tx pgx.Tx, own []uint32, types []string) ([]keptKey, error) {
	own, types = append([]uint32{}, own...), append([]string{}, types...)
	rows, err := tx.Query(ctx, `
WITH RECURSIVE ty(oid) AS (
    SELECT pg_catalog.to_regtype(x)::oid FROM unnest($2::text[]) x WHERE pg_catalog.to_regtype(x) IS NOT NULL
  UNION
    SELECT s.u FROM ty JOIN pg_catalog.pg_type t ON t.oid = ty.oid,
      LATERAL (SELECT t.typbasetype UNION ALL SELECT t.typelem
               UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a
               WHERE a.attrelid = t.typrelid AND t.typtype = 'c' AND a.attnum > 0 AND NOT a.attisdropped) s(u)
    WHERE s.u <> 0
)
SELECT n.nspname, r.relname, false, c.conname, pg_catalog.pg_get_constraintdef(c.oid),
       coalesce(pg_catalog.obj_description(c.oid, 'pg_constraint'), '')
FROM pg_catalog.pg_constraint c
JOIN pg_catalog.pg_class r ON r.oid = c.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
WHERE c.contype = 'c' AND NOT c.convalidated AND c.coninhcount = 0
  AND (c.conrelid = ANY($1::oid[]) OR c.conrelid IN (SELECT p.relid FROM unnest($1::oid[]) o, pg_catalog.pg_partition_tree(o) p))
UNION ALL
SELECT n.nspname, t.typname, true, c.conname, pg_catalog.pg_get_constraintdef(c.oid),
       coalesce(pg_catalog.obj_description(c.oid, 'pg_constraint'), '')
FROM pg_catalog.pg_constraint c
JOIN pg_catalog.pg_type t ON t.oid = c.contypid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE c.contype = 'c' AND NOT c.convalidated AND c.contypid IN (SELECT oid FROM ty)
  AND pg_catalog.pg_has_role(t.typowner, 'USAGE')
ORDER BY 1, 2, 4`, own, types)
	if err != nil {
		return nil, fmt.Errorf("list the NOT VALID checks on the restored rows: %w", err)
	}
	var checks []keptKey
	var k keptKey
	_, err = pgx.ForEachRow(rows, []any{&k.schema, &k.table, &k.domain, &k.name, &k.def, &k.comment}, func() error {
		checks = append(checks, k)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the NOT VALID checks on the restored rows: %w", err)
	}
	return checks, nil
}

// dropKeys drops the kept keys before the tables they guard are emptied.
func (r *restore) dropKeys(ctx context.Context, keys []keptKey) error {
	for _, k := range keys {
		stmt := k.alter() + " DROP CONSTRAINT " + ident(k.name)
		if err := r.exec(ctx, "set aside "+k.what(), stmt); err != nil {
			return err
		}
	}
	return nil
}

// addKeys adds the kept keys back; PostgreSQL checks every row as it adds
// a key that was valid. A key the restored rows break fails the restore,
// which the caller's transaction then rolls back.
func (r *restore) addKeys(ctx context.Context, keys []keptKey) error {
	for _, k := range keys {
		stmt := k.alter() + " ADD CONSTRAINT " + ident(k.name) + " " + k.def
		if _, err := r.tx.Exec(ctx, stmt); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23503" { // foreign_key_violation
				return fmt.Errorf("the restored rows of %s break foreign key %s of table %s.%s (%s): restore %s.%s too, or correct its rows first: %w",
					k.refTable, k.name, k.schema, k.table, pe.Detail, k.schema, k.table, err)
			}
			return fmt.Errorf("add back %s: %w", k.what(), err)
		}
		if k.comment != "" {
			on := " ON " + k.relIdent()
			if k.domain {
				on = " ON DOMAIN " + k.relIdent()
			}
			stmt := "COMMENT ON CONSTRAINT " + ident(k.name) + on + " IS " + quoteLiteral(k.comment)
			if err := r.exec(ctx, "comment "+k.what()+" again", stmt); err != nil {
				return err
			}
		}
	}
	return nil
}
