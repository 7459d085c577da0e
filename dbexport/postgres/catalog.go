package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The catalog queries behind Schema. Every query runs inside the snapshot,
// so it sees the catalog as of the snapshot, and with an empty
// search_path, so every name that the pg_get_* functions print is
// qualified.

// relFilter selects the relations of the wanted schemas ($1, empty for
// every non-system schema) that do not belong to an extension (those are
// recreated by CREATE EXTENSION, as pg_dump assumes).
const relFilter = `
	(CASE WHEN pg_catalog.cardinality($1::text[]) = 0
	      THEN n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
	      ELSE n.nspname = ANY($1::text[]) END)
	AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
	                WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
	                  AND e.objid = c.oid AND e.deptype = 'e')`

// Ordinary tables and partitioned parents; partitions are reached through
// their parent, temporary tables belong to another session.
const tablesQuery = `
SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relpersistence = 'u',
       EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid),
       (SELECT count(*) FROM pg_catalog.pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal),
       COALESCE(c.reloptions, '{}')::text[]
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence <> 't' AND ` + relFilter + `
ORDER BY n.nspname, c.relname`

type relInfo struct {
	oid      uint32
	schema   string
	name     string
	kind     string // r or p
	unlogged bool
	inherits bool
	triggers int64
	options  []string
}

func (r *relInfo) ident() string { return ident(r.schema, r.name) }

func listTables(ctx context.Context, c *pgx.Conn, schemas []string) ([]*relInfo, error) {
	rows, err := c.Query(ctx, tablesQuery, nonNil(schemas))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*relInfo, error) {
		r := &relInfo{}
		err := row.Scan(&r.oid, &r.schema, &r.name, &r.kind, &r.unlogged, &r.inherits, &r.triggers, &r.options)
		return r, err
	})
}

// listTableNames returns the quoted names of the tables Open locks.
func listTableNames(ctx context.Context, c *pgx.Conn, schemas []string) ([]string, error) {
	rels, err := listTables(ctx, c, schemas)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(rels))
	for i, r := range rels {
		names[i] = r.ident()
	}
	return names, nil
}

// missingSchemas returns the names in schemas that the database lacks.
func missingSchemas(ctx context.Context, c *pgx.Conn, schemas []string) ([]string, error) {
	rows, err := c.Query(ctx, `SELECT s FROM unnest($1::text[]) s
		WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = s)`, nonNil(schemas))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

const columnsQuery = `
SELECT a.attrelid, a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
       a.attnotnull, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid),
       a.attidentity::text, a.attgenerated::text, tn.nspname,
       COALESCE(bt.typname, t.typname)::text, COALESCE(bt.typcategory, t.typcategory)::text,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN
         (SELECT pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname)
          FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
          WHERE co.oid = a.attcollation)
       END
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`

type colInfo struct {
	rel       uint32
	num       int16
	name      string
	typ       string // format_type
	notNull   bool
	def       *string
	identity  string // "", a (ALWAYS) or d (BY DEFAULT)
	generated string // "" or s (STORED)
	typSchema string
	baseName  string // the type, or a domain's base type
	category  string // pg_type.typcategory of baseName
	collation *string
}

func listColumns(ctx context.Context, c *pgx.Conn, oids []uint32) ([]*colInfo, error) {
	rows, err := c.Query(ctx, columnsQuery, oids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*colInfo, error) {
		k := &colInfo{}
		err := row.Scan(&k.rel, &k.num, &k.name, &k.typ, &k.notNull, &k.def, &k.identity,
			&k.generated, &k.typSchema, &k.baseName, &k.category, &k.collation)
		return k, err
	})
}

// Constraints in the order a CREATE TABLE lists them. conparentid is not
// zero for the copies PostgreSQL makes on partitions, which strata
// reaches through the parent. NOT NULL is a column property here.
const constraintsQuery = `
SELECT con.conrelid, con.conname, con.contype::text, pg_catalog.pg_get_constraintdef(con.oid),
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
       CASE WHEN con.contype = 'c' THEN pg_catalog.pg_get_expr(con.conbin, con.conrelid) END,
       con.convalidated, COALESCE(fn.nspname, ''), COALESCE(fc.relname, ''),
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i),
       con.confdeltype::text, con.confupdtype::text
FROM pg_catalog.pg_constraint con
LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.conrelid = ANY($1::oid[]) AND con.contype IN ('p', 'u', 'c', 'x', 'f') AND con.conparentid = 0
ORDER BY con.conrelid, pg_catalog.strpos('pucxf', con.contype::text), con.conname`

type conInfo struct {
	rel       uint32
	name      string
	kind      string // p, u, c, x or f
	def       string // pg_get_constraintdef
	cols      []string
	expr      *string // CHECK expression
	validated bool
	refSchema string
	refTable  string
	refCols   []string
	// onDelete, onUpdate: a foreign key's actions as pg_constraint codes
	// them (a, r, c, n, d).
	onDelete, onUpdate string
}

func listConstraints(ctx context.Context, c *pgx.Conn, oids []uint32) ([]*conInfo, error) {
	rows, err := c.Query(ctx, constraintsQuery, oids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*conInfo, error) {
		k := &conInfo{}
		err := row.Scan(&k.rel, &k.name, &k.kind, &k.def, &k.cols, &k.expr, &k.validated,
			&k.refSchema, &k.refTable, &k.refCols, &k.onDelete, &k.onUpdate)
		return k, err
	})
}

// Indexes that no constraint owns; the constraints' own indexes come with
// the constraints. Invalid indexes (a failed CREATE INDEX CONCURRENTLY)
// are skipped, as pg_dump skips them.
const indexesQuery = `
SELECT i.indrelid, pg_catalog.pg_get_indexdef(i.indexrelid)
FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = ANY($1::oid[]) AND i.indisvalid
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
                  WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                    AND con.contype IN ('p', 'u', 'x'))
ORDER BY i.indrelid, ic.relname`

type indexInfo struct {
	rel uint32
	def string
}

func listIndexes(ctx context.Context, c *pgx.Conn, oids []uint32) ([]indexInfo, error) {
	rows, err := c.Query(ctx, indexesQuery, oids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (indexInfo, error) {
		var k indexInfo
		err := row.Scan(&k.rel, &k.def)
		return k, err
	})
}

// Sequences of the wanted schemas, and those owned by a column of an
// exported table ($2) wherever they live. owner is the owning table and
// column; dep is a (serial, OWNED BY) or i (identity column).
const sequencesQuery = `
SELECT n.nspname, c.relname, pg_catalog.format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
       s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
       COALESCE(d.refobjid, 0), COALESCE(a.attname::text, ''), COALESCE(d.deptype::text, '')
FROM pg_catalog.pg_sequence s
JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE (` + relFilter + `) OR d.refobjid = ANY($2::oid[])
ORDER BY n.nspname, c.relname`

type seqInfo struct {
	schema, name, typ           string
	start, inc, min, max, cache int64
	cycle                       bool
	owner                       uint32
	ownerCol                    string
	dep                         string
	value                       int64
	called                      bool
}

func (q *seqInfo) ident() string { return ident(q.schema, q.name) }

func listSequences(ctx context.Context, c *pgx.Conn, schemas []string, tables []uint32) ([]*seqInfo, error) {
	rows, err := c.Query(ctx, sequencesQuery, nonNil(schemas), tables)
	if err != nil {
		return nil, err
	}
	seqs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*seqInfo, error) {
		q := &seqInfo{}
		err := row.Scan(&q.schema, &q.name, &q.typ, &q.start, &q.inc, &q.min, &q.max, &q.cache,
			&q.cycle, &q.owner, &q.ownerCol, &q.dep)
		return q, err
	})
	if err != nil {
		return nil, err
	}
	// A sequence's position is not transactional: it is read now, after
	// the snapshot was taken, so it is at or past every value the
	// snapshot's rows hold, never behind.
	for _, q := range seqs {
		err := c.QueryRow(ctx, "SELECT last_value, is_called FROM "+q.ident()).Scan(&q.value, &q.called)
		if err != nil {
			return nil, fmt.Errorf("read position of sequence %s: %w", q.ident(), err)
		}
	}
	return seqs, nil
}

const viewsQuery = `
SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relispopulated, pg_catalog.pg_get_viewdef(c.oid),
       COALESCE(c.reloptions, '{}')::text[],
       ARRAY(SELECT DISTINCT d.refobjid FROM pg_catalog.pg_rewrite r
             JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                  AND d.objid = r.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
             WHERE r.ev_class = c.oid AND d.refobjid <> c.oid)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND ` + relFilter + `
ORDER BY n.nspname, c.relname`

type viewInfo struct {
	oid          uint32
	schema, name string
	kind         string // v, or m for a materialized view
	populated    bool   // a materialized view holds rows (not WITH NO DATA)
	def          string
	options      []string
	deps         []uint32 // relations the view reads
}

func listViews(ctx context.Context, c *pgx.Conn, schemas []string) ([]*viewInfo, error) {
	rows, err := c.Query(ctx, viewsQuery, nonNil(schemas))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*viewInfo, error) {
		v := &viewInfo{}
		err := row.Scan(&v.oid, &v.schema, &v.name, &v.kind, &v.populated, &v.def, &v.options, &v.deps)
		return v, err
	})
}

// listPartitions returns, per partitioned table of oids, the qualified
// names of its partitions at every level, by level and name.
func listPartitions(ctx context.Context, c *pgx.Conn, oids []uint32) (map[uint32][]string, error) {
	rows, err := c.Query(ctx, `SELECT r.oid, n.nspname || '.' || p.relname
		FROM pg_catalog.pg_class r, pg_catalog.pg_partition_tree(r.oid) t
		JOIN pg_catalog.pg_class p ON p.oid = t.relid JOIN pg_catalog.pg_namespace n ON n.oid = p.relnamespace
		WHERE r.oid = ANY($1::oid[]) AND r.relkind = 'p' AND t.relid <> r.oid
		ORDER BY r.oid, t.level, 2`, oids)
	if err != nil {
		return nil, err
	}
	out := map[uint32][]string{}
	var oid uint32
	var name string
	_, err = pgx.ForEachRow(rows, []any{&oid, &name}, func() error {
		out[oid] = append(out[oid], name)
		return nil
	})
	return out, err
}

// nonNil makes an absent list an empty array rather than SQL NULL.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
