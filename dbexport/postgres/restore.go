package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"strata/dbexport"
)

// restore is one Restore call inside its transaction.
type restore struct {
	tx      pgx.Tx
	schema  *dbexport.Schema
	tables  []dbexport.TableData
	replace bool
}

func (r *restore) exec(ctx context.Context, what, sql string) error {
	if _, err := r.tx.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// whole reports whether every table of the schema is restored.
func (r *restore) whole() bool {
	in := map[string]bool{}
	for _, td := range r.tables {
		in[td.Table.QualifiedName()] = true
	}
	for _, t := range r.schema.Tables {
		if !in[t.QualifiedName()] {
			return false
		}
	}
	return true
}

func (r *restore) run(ctx context.Context) error {
	whole := r.whole()
	for _, td := range r.tables {
		if td.Table == nil || td.Rows == nil {
			return errors.New("a table to restore has no definition or no rows")
		}
	}
	var views []dbexport.View // the views to create at the end
	if whole {
		views = r.schema.Views
	}
	if r.replace {
		if !whole {
			// Views of s that DROP TABLE ... CASCADE is about to remove.
			var err error
			if views, err = r.existingViews(ctx); err != nil {
				return err
			}
		}
		if whole {
			for i := len(r.schema.Views) - 1; i >= 0; i-- {
				v := r.schema.Views[i]
				if err := r.exec(ctx, "drop view "+v.Schema+"."+v.Name, "DROP VIEW IF EXISTS "+ident(v.Schema, v.Name)+" CASCADE"); err != nil {
					return err
				}
			}
		}
		for _, td := range r.tables {
			q := tableIdent(td.Table)
			if err := r.exec(ctx, "drop table "+td.Table.QualifiedName(), "DROP TABLE IF EXISTS "+q+" CASCADE"); err != nil {
				return err
			}
		}
	}
	if err := r.createSchemas(ctx, whole); err != nil {
		return err
	}
	setLater, err := r.freeSequences(ctx, whole)
	if err != nil {
		return err
	}
	for _, td := range r.tables {
		if err := r.exec(ctx, "create table "+td.Table.QualifiedName(), td.Table.DDL); err != nil {
			return err
		}
	}
	for _, td := range r.tables {
		if err := copyIn(ctx, r.tx.Conn(), td); err != nil {
			return fmt.Errorf("load rows of %s: %w", td.Table.QualifiedName(), err)
		}
	}
	var fks []string
	for _, td := range r.tables {
		post, fk := splitPostDDL(td.Table)
		for _, stmt := range post {
			if err := r.exec(ctx, "finish table "+td.Table.QualifiedName(), stmt); err != nil {
				return err
			}
		}
		fks = append(fks, fk...)
	}
	for _, stmt := range fks {
		if err := r.exec(ctx, "add foreign key", stmt); err != nil {
			return err
		}
	}
	if r.replace && !whole {
		if err := r.restoreInboundKeys(ctx); err != nil {
			return err
		}
	}
	for _, v := range views {
		if !whole {
			var exists bool
			if err := r.tx.QueryRow(ctx, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", ident(v.Schema, v.Name)).Scan(&exists); err != nil {
				return fmt.Errorf("look up view %s.%s: %w", v.Schema, v.Name, err)
			}
			if exists {
				continue // the partial restore did not remove it
			}
		}
		if err := r.exec(ctx, "create view "+v.Schema+"."+v.Name, v.DDL); err != nil {
			return err
		}
	}
	for _, q := range setLater {
		if err := r.exec(ctx, "set sequence "+q.Schema+"."+q.Name, setvalSQL(ident(q.Schema, q.Name), q.Value, q.Called)); err != nil {
			return err
		}
	}
	return nil
}

// existingViews returns the views of s that exist in the target.
func (r *restore) existingViews(ctx context.Context) ([]dbexport.View, error) {
	var out []dbexport.View
	for _, v := range r.schema.Views {
		var exists bool
		if err := r.tx.QueryRow(ctx, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", ident(v.Schema, v.Name)).Scan(&exists); err != nil {
			return nil, fmt.Errorf("look up view %s.%s: %w", v.Schema, v.Name, err)
		}
		if exists {
			out = append(out, v)
		}
	}
	return out, nil
}

// splitPostDDL separates the foreign keys, which ddl.go puts last, one per
// entry of ForeignKeys.
func splitPostDDL(t *dbexport.Table) (post, fks []string) {
	n := len(t.ForeignKeys)
	if n > len(t.PostDDL) {
		n = 0
	}
	cut := len(t.PostDDL) - n
	return t.PostDDL[:cut], t.PostDDL[cut:]
}

func (r *restore) createSchemas(ctx context.Context, whole bool) error {
	var names []string
	for _, td := range r.tables {
		names = append(names, td.Table.Schema)
	}
	if whole {
		for _, v := range r.schema.Views {
			names = append(names, v.Schema)
		}
	}
	for _, q := range r.schema.Sequences {
		names = append(names, q.Schema)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" {
			n = "public"
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		var exists bool
		err := r.tx.QueryRow(ctx, "SELECT pg_catalog.to_regnamespace($1) IS NOT NULL", ident(n)).Scan(&exists)
		if err != nil {
			return fmt.Errorf("look up schema %s: %w", n, err)
		}
		if !exists {
			if err := r.exec(ctx, "create schema "+n, "CREATE SCHEMA "+ident(n)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *restore) freeSequences(ctx context.Context, whole bool) (setLater []dbexport.Sequence, err error) {
	for _, q := range r.schema.Sequences {
		name := ident(q.Schema, q.Name)
		var exists bool
		if err := r.tx.QueryRow(ctx, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", name).Scan(&exists); err != nil {
			return nil, fmt.Errorf("look up sequence %s.%s: %w", q.Schema, q.Name, err)
		}
		switch {
		case !exists:
			// Created in this transaction: a rollback removes it whole.
			if err := r.exec(ctx, "create sequence "+q.Schema+"."+q.Name, q.DDL); err != nil {
				return nil, err
			}
			if err := r.exec(ctx, "set sequence "+q.Schema+"."+q.Name, setvalSQL(name, q.Value, q.Called)); err != nil {
				return nil, err
			}
		case r.replace && whole:
			// setval is not undone by a rollback: run it last.
			setLater = append(setLater, q)
		}
	}
	return setLater, nil
}

// restoreInboundKeys adds back, NOT VALID, the foreign keys of tables that
// were not restored but reference restored ones, when the referencing
// table exists and the key is gone.
func (r *restore) restoreInboundKeys(ctx context.Context) error {
	restored := map[string]bool{}
	for _, td := range r.tables {
		restored[td.Table.QualifiedName()] = true
	}
	for _, t := range r.schema.Tables {
		if restored[t.QualifiedName()] {
			continue
		}
		_, stmts := splitPostDDL(t)
		if len(stmts) != len(t.ForeignKeys) {
			continue
		}
		for i, fk := range t.ForeignKeys {
			if !restored[fk.RefSchema+"."+fk.RefTable] {
				continue
			}
			var exists, missing bool
			err := r.tx.QueryRow(ctx, `SELECT pg_catalog.to_regclass($1) IS NOT NULL,
				NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
				            WHERE conrelid = pg_catalog.to_regclass($1) AND conname = $2)`,
				tableIdent(t), fk.Name).Scan(&exists, &missing)
			if err != nil {
				return fmt.Errorf("look up foreign key %s of %s: %w", fk.Name, t.QualifiedName(), err)
			}
			if !exists || !missing {
				continue
			}
			stmt := stmts[i]
			if !strings.HasSuffix(stmt, " NOT VALID") {
				stmt += " NOT VALID"
			}
			if err := r.exec(ctx, "add back foreign key "+fk.Name+" of "+t.QualifiedName(), stmt); err != nil {
				return err
			}
		}
	}
	return nil
}
