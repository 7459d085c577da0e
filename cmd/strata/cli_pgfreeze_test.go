package main

import (
	"testing"
)

// A restore into a new database loads a plain table's rows frozen (COPY
// ... WITH (FREEZE), in the transaction that created or emptied the
// table), so neither the index builds nor the first reads rewrite every
// page to set hint bits; with --jobs 1 and with --jobs 2. A partitioned
// table, where PostgreSQL refuses FREEZE, and an inheritance parent load
// as before.
func TestPostgresRestoreLoadsFrozen(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := pgDB(t)
	src.exec(t,
		`CREATE TABLE plain (id int PRIMARY KEY, v text)`,
		`INSERT INTO plain SELECT g, repeat('x', 50) || g FROM generate_series(1, 5000) g`,
		`CREATE TABLE measure (id int, at date NOT NULL) PARTITION BY RANGE (at)`,
		`CREATE TABLE measure_a PARTITION OF measure FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`,
		`CREATE TABLE measure_b PARTITION OF measure FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
		`INSERT INTO measure SELECT g, date '2024-06-01' + g FROM generate_series(1, 300) g`,
		`CREATE TABLE animal (name text)`, `CREATE TABLE dog (bark text) INHERITS (animal)`,
		`INSERT INTO animal VALUES ('cat')`, `INSERT INTO dog VALUES ('rex', 'woof')`)
	c.ok("backup", "--db", src.dsn)
	for _, jobs := range []string{"1", "2"} {
		t.Run("jobs "+jobs, func(t *testing.T) {
			dst := pgDB(t)
			c.ok("restore", "latest", "--db", dst.dsn, "--source", src.dsn, "--jobs", jobs)
			dst.exec(t, `CREATE EXTENSION pg_visibility`)
			pages := dst.int(t, `SELECT pg_relation_size('plain') / current_setting('block_size')::int`)
			frozen := dst.int(t, `SELECT all_frozen FROM pg_visibility_map_summary('plain')`)
			if pages == 0 || frozen != pages {
				t.Errorf("plain: %d of %d pages frozen after the restore, want all", frozen, pages)
			}
			for q, want := range map[string]int64{
				`SELECT count(*) FROM plain`:          5000,
				`SELECT count(*) FROM measure`:        300,
				`SELECT count(*) FROM ONLY measure_a`: 213,
				`SELECT count(*) FROM ONLY animal`:    1,
				`SELECT count(*) FROM animal`:         2,
				`SELECT count(*) FROM dog`:            1,
			} {
				if got := dst.int(t, q); got != want {
					t.Errorf("%s: %d, want %d", q, got, want)
				}
			}
		})
	}
}
