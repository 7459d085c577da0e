package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// keptKey is a foreign key of the target that a restore drops before it
// empties or re-creates the tables it touches, and adds back afterwards
// exactly as it was (pg_get_constraintdef), validated unless it was NOT
// VALID before.
type keptKey struct {
	schema, table string // the referencing table
	name          string
	def           string // pg_get_constraintdef: FOREIGN KEY (...) REFERENCES ...
	refTable      string // the referenced table, qualified
}

func (k keptKey) relIdent() string { return ident(k.schema, k.table) }

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
       fn.nspname || '.' || f.relname
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
	_, err = pgx.ForEachRow(rows, []any{&k.schema, &k.table, &k.name, &k.def, &k.refTable}, func() error {
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the foreign keys on the restored tables: %w", err)
	}
	return keys, nil
}

// dropKeys drops the kept keys before the tables they guard are emptied.
func (r *restore) dropKeys(ctx context.Context, keys []keptKey) error {
	for _, k := range keys {
		stmt := "ALTER TABLE " + k.relIdent() + " DROP CONSTRAINT " + ident(k.name)
		if err := r.exec(ctx, "set aside foreign key "+k.name+" of "+k.schema+"."+k.table, stmt); err != nil {
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
		stmt := "ALTER TABLE " + k.relIdent() + " ADD CONSTRAINT " + ident(k.name) + " " + k.def
		if _, err := r.tx.Exec(ctx, stmt); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23503" { // foreign_key_violation
				return fmt.Errorf("the restored rows of %s break foreign key %s of table %s.%s (%s): restore %s.%s too, or correct its rows first: %w",
					k.refTable, k.name, k.schema, k.table, pe.Detail, k.schema, k.table, err)
			}
			return fmt.Errorf("add back foreign key %s of table %s.%s: %w", k.name, k.schema, k.table, err)
		}
	}
	return nil
}
