package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"strata/dbexport"
)

// Schema reads the catalog inside the snapshot and builds the tables'
// DDL (see ddl.go), views, free sequences, row counts and warnings.
func (s *Source) Schema(ctx context.Context) (*dbexport.Schema, error) {
	c, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer s.release(c)
	sch, err := s.readSchema(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("postgres: read schema of %s: %w", s.dsn.String(), err)
	}
	return sch, nil
}

func (s *Source) readSchema(ctx context.Context, c *pgx.Conn) (*dbexport.Schema, error) {
	sch := &dbexport.Schema{Engine: dbexport.EnginePostgres, Database: s.dsn.Database}
	err := c.QueryRow(ctx, `SELECT pg_catalog.current_setting('server_version'),
		pg_catalog.pg_encoding_to_char(encoding) FROM pg_catalog.pg_database
		WHERE datname = pg_catalog.current_database()`).Scan(&sch.ServerVersion, &sch.Encoding)
	if err != nil {
		return nil, err
	}

	rels, err := listTables(ctx, c, s.opts.Schemas)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	names := make([]string, len(rels))
	oids := make([]uint32, len(rels))
	for i, r := range rels {
		names[i], oids[i] = r.ident(), r.oid
	}
	if err := s.lockNew(ctx, c, names); err != nil {
		return nil, fmt.Errorf("lock tables: %w", err)
	}
	cols, err := listColumns(ctx, c, oids)
	if err != nil {
		return nil, fmt.Errorf("list columns: %w", err)
	}
	cons, err := listConstraints(ctx, c, oids)
	if err != nil {
		return nil, fmt.Errorf("list constraints: %w", err)
	}
	idxs, err := listIndexes(ctx, c, oids)
	if err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	seqs, err := listSequences(ctx, c, s.opts.Schemas, oids)
	if err != nil {
		return nil, fmt.Errorf("list sequences: %w", err)
	}
	views, err := listViews(ctx, c, s.opts.Schemas)
	if err != nil {
		return nil, fmt.Errorf("list views: %w", err)
	}

	defs := map[uint32]*tableDef{}
	for _, r := range rels {
		defs[r.oid] = &tableDef{rel: r}
	}
	for _, k := range cols {
		defs[k.rel].cols = append(defs[k.rel].cols, k)
	}
	for _, k := range cons {
		defs[k.rel].cons = append(defs[k.rel].cons, k)
	}
	for _, k := range idxs {
		defs[k.rel].indexes = append(defs[k.rel].indexes, k.def)
	}
	for _, q := range seqs {
		if d := defs[q.owner]; d != nil && q.dep != "" {
			d.seqs = append(d.seqs, q)
			continue
		}
		sch.Sequences = append(sch.Sequences, dbexport.Sequence{
			Schema: q.schema, Name: q.name, DDL: sequenceDDL(q, false), Value: q.value, Called: q.called,
		})
	}

	for _, r := range rels {
		d := defs[r.oid]
		t := d.table()
		if err := c.QueryRow(ctx, "SELECT count(*) FROM "+fromClause(r.kind == "p", t)).Scan(&t.Rows); err != nil {
			return nil, fmt.Errorf("count rows of %s: %w", t.QualifiedName(), err)
		}
		sch.Tables = append(sch.Tables, t)
		w := d.warnings()
		t.Warning = strings.Join(w, "; ")
		sch.Warnings = append(sch.Warnings, w...)
	}

	sch.Views, sch.Warnings = viewsInOrder(views, sch.Warnings)
	return sch, nil
}

// fromClause names t for a SELECT: ONLY for an ordinary table, whose
// inheritance children are tables of their own; a partitioned table's
// rows live in its partitions, so it is read whole.
func fromClause(partitioned bool, t *dbexport.Table) string {
	if partitioned {
		return tableIdent(t)
	}
	return "ONLY " + tableIdent(t)
}

// viewsInOrder orders the plain views so that each comes after the views
// it reads, and turns materialized views into warnings.
func viewsInOrder(views []*viewInfo, warnings []string) ([]dbexport.View, []string) {
	byOID := map[uint32]*viewInfo{}
	for _, v := range views {
		if v.kind == "m" {
			warnings = append(warnings, fmt.Sprintf("materialized view %s.%s is not saved; recreate it after a restore", v.schema, v.name))
			continue
		}
		byOID[v.oid] = v
	}
	var out []dbexport.View
	done := map[uint32]bool{}
	var visit func(v *viewInfo, depth int)
	visit = func(v *viewInfo, depth int) {
		if done[v.oid] || depth > len(byOID) {
			return
		}
		done[v.oid] = true
		for _, d := range v.deps {
			if w := byOID[d]; w != nil {
				visit(w, depth+1)
			}
		}
		out = append(out, dbexport.View{Schema: v.schema, Name: v.name, DDL: viewDDL(v)})
	}
	for _, v := range views {
		if v.kind == "v" {
			visit(v, 0)
		}
	}
	return out, warnings
}
