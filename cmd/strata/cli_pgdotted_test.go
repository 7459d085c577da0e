package main

import (
	"strings"
	"testing"
)

// Two PostgreSQL tables whose schema and table names hold dots have the
// same schema.table name: "a.b".c and a."b.c" are both a.b.c. Their nodes
// get encoded names (a%2Eb.c and a.b%2Ec, docs/design.md "Schema"), so
// one snapshot holds both: the backup, restore, same-engine drill, dump
// and diff tell them apart. Before, the backup refused them.
func TestPostgresBackupDottedNamesCollide(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := pgDB(t)
	src.exec(t, `CREATE SCHEMA "a.b"`, `CREATE SCHEMA a`,
		`CREATE TABLE "a.b".c (id int PRIMARY KEY, v text)`, `CREATE TABLE a."b.c" (id int PRIMARY KEY, w int)`,
		`CREATE TABLE a."50%" (id int PRIMARY KEY)`, `CREATE TABLE a.plain (id int PRIMARY KEY)`,
		`INSERT INTO "a.b".c VALUES (1, 'one')`, `INSERT INTO a."b.c" VALUES (2, 20), (3, 30)`,
		`INSERT INTO a."50%" VALUES (5)`, `INSERT INTO a.plain VALUES (7)`)
	c.ok("backup", "--db", src.dsn)
	ls := c.ok("ls", "latest")
	for _, want := range []string{"a%2Eb.c", "a.b%2Ec", "a.50%25", "a.plain"} {
		if !strings.Contains(ls, want) {
			t.Errorf("ls latest does not list node %s:\n%s", want, ls)
		}
	}

	dst := pgDB(t)
	c.ok("restore", "latest", "--db", dst.dsn, "--source", src.dsn, "--jobs", "2")
	if got := dst.str(t, `SELECT string_agg(id || ':' || v, ',') FROM "a.b".c`); got != "1:one" {
		t.Errorf(`"a.b".c restored as %q, want 1:one`, got)
	}
	if got := dst.str(t, `SELECT string_agg(id || ':' || w, ',' ORDER BY id) FROM a."b.c"`); got != "2:20,3:30" {
		t.Errorf(`a."b.c" restored as %q, want 2:20,3:30`, got)
	}
	if n := dst.int(t, `SELECT count(*) FROM a."50%"`); n != 1 {
		t.Errorf(`a."50%%" restored with %d rows, want 1`, n)
	}
	if drill := c.ok("verify", "drill", "latest", "--same-engine", "--source", src.dsn); !strings.Contains(drill, "drill passed") {
		t.Errorf("same-engine drill:\n%s", drill)
	}

	// dump: by node name, by the qualified name where it is unique, and
	// an ambiguous name names both nodes.
	if out := c.ok("dump", "latest", "a.b%2Ec"); out != "2\t20\n3\t30\n" {
		t.Errorf("dump a.b%%2Ec:\n%q", out)
	}
	if out := c.ok("dump", "latest", "a.50%"); out != "5\n" {
		t.Errorf("dump a.50%%:\n%q", out)
	}
	_, errOut, code := c.run("dump", "latest", "a.b.c")
	if code == 0 || !strings.Contains(errOut, "a%2Eb.c") || !strings.Contains(errOut, "a.b%2Ec") {
		t.Errorf("dump of the ambiguous a.b.c: exit %d:\n%s", code, errOut)
	}

	// diff tells the two apart.
	src.exec(t, `INSERT INTO a."b.c" VALUES (4, 40)`)
	c.ok("backup", "--db", src.dsn)
	stat := c.ok("diff", "latest~1", "latest", "--json")
	if !strings.Contains(stat, `"table": "a.b.c"`) || strings.Count(stat, `"rows_added": 1`) != 1 {
		t.Errorf("diff of one row added to a.\"b.c\":\n%s", stat)
	}
	c.check()
}
