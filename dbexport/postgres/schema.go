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

	parts, err := listPartitions(ctx, c, oids)
	if err != nil {
		return nil, fmt.Errorf("list partitions: %w", err)
	}
	if sch.Extensions, err = listExtensions(ctx, c, s.opts.Schemas); err != nil {
		return nil, fmt.Errorf("list extensions: %w", err)
	}
	w, missing, err := databaseNotSaved(ctx, c, s.dsn.Database)
	if err != nil {
		return nil, err
	}
	sch.Warnings = append(sch.Warnings, w...)
	sch.NotCaptured = append(sch.NotCaptured, missing...)
	tool, noDump := s.dumpTool(ctx)
	archived := tool != nil
	if !archived {
		sch.Warnings = append(sch.Warnings, noDump)
		sch.NotCaptured = append(sch.NotCaptured, notWithoutArchive+" (no schema archive)")
	}
	if archived && len(s.opts.Schemas) > 0 {
		w, missing := typesOutside(cols, rels, s.opts.Schemas)
		sch.Warnings = append(sch.Warnings, w...)
		sch.NotCaptured = append(sch.NotCaptured, missing...)
	}
	for _, r := range rels {
		d := defs[r.oid]
		t := d.table()
		t.Partitions = parts[r.oid]
		if err := c.QueryRow(ctx, "SELECT count(*) FROM "+fromClause(r.kind == "p", t)).Scan(&t.Rows); err != nil {
			return nil, fmt.Errorf("count rows of %s: %w", t.QualifiedName(), rlsHidden(err, t.QualifiedName()))
		}
		sch.Tables = append(sch.Tables, t)
		w := d.warnings(archived)
		t.Warning = strings.Join(w, "; ")
		sch.Warnings = append(sch.Warnings, w...)
	}

	var overMats []string
	sch.Views, sch.MatViews, overMats = viewsInOrder(views)
	if !archived {
		for _, m := range sch.MatViews {
			sch.Warnings = append(sch.Warnings, fmt.Sprintf("materialized view %s.%s is not saved; recreate it after a restore", m.Schema, m.Name))
			sch.NotCaptured = append(sch.NotCaptured, "materialized view "+m.Schema+"."+m.Name)
		}
		for _, v := range overMats {
			sch.Warnings = append(sch.Warnings, fmt.Sprintf("view %s reads a materialized view and is not saved; recreate it after a restore", v))
			sch.NotCaptured = append(sch.NotCaptured, "view "+v)
		}
		sch.MatViews = nil
	}
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
// it reads, and the materialized views so that each comes after the
// materialized views it reads (through plain views too), the order a
// restore refreshes them in. Plain views that read a materialized view
// (through other views too) are left out of the views and named in
// overMats: only the schema archive recreates them.
func viewsInOrder(views []*viewInfo) (out []dbexport.View, mats []dbexport.MatView, overMats []string) {
	byOID := map[uint32]*viewInfo{}
	for _, v := range views {
		byOID[v.oid] = v
	}
	done := map[uint32]bool{}
	onMat := map[uint32]bool{} // a materialized view, or reads one
	var visit func(v *viewInfo, depth int)
	visit = func(v *viewInfo, depth int) {
		if done[v.oid] || depth > len(byOID) {
			return
		}
		done[v.oid] = true
		for _, d := range v.deps {
			if w := byOID[d]; w != nil {
				visit(w, depth+1)
				onMat[v.oid] = onMat[v.oid] || onMat[d]
			}
		}
		switch {
		case v.kind == "m":
			onMat[v.oid] = true
			mats = append(mats, dbexport.MatView{Schema: v.schema, Name: v.name, Populated: v.populated})
		case onMat[v.oid]:
			overMats = append(overMats, v.schema+"."+v.name)
		default:
			out = append(out, dbexport.View{Schema: v.schema, Name: v.name, DDL: viewDDL(v)})
		}
	}
	for _, v := range views {
		visit(v, 0)
	}
	return out, mats, overMats
}

// typesOutside names the column types that live outside the selected
// schemas: pg_dump --schema leaves them out of the schema archive, so
// they must be in the target before a restore.
func typesOutside(cols []*colInfo, rels []*relInfo, schemas []string) (warnings, missing []string) {
	selected := map[string]bool{"pg_catalog": true}
	for _, n := range schemas {
		selected[n] = true
	}
	names := map[uint32]string{}
	for _, r := range rels {
		names[r.oid] = r.schema + "." + r.name
	}
	seen := map[string]bool{}
	for _, k := range cols {
		if selected[k.typSchema] {
			continue
		}
		warnings = append(warnings, fmt.Sprintf("column %s.%s has type %s from schema %s, which --schema leaves out of the schema archive: create it in the target before a restore",
			names[k.rel], k.name, k.typ, k.typSchema))
		if !seen[k.typ] {
			seen[k.typ] = true
			missing = append(missing, "type "+k.typ)
		}
	}
	return warnings, missing
}
