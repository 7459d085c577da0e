package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Two PostgreSQL tables whose schema and table names hold dots can give
// the same schema.table name, which names a table in a snapshot: "a.b".c
// and a."b.c" are both a.b.c. The backup refuses them before it writes
// anything, naming both unambiguously; each backs up in a snapshot of its
// own schema.
func TestPostgresBackupDottedNamesCollide(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := pgDB(t)
	src.exec(t, `CREATE SCHEMA "a.b"`, `CREATE SCHEMA a`,
		`CREATE TABLE "a.b".c (id int PRIMARY KEY)`, `CREATE TABLE a."b.c" (id int PRIMARY KEY)`,
		`INSERT INTO "a.b".c VALUES (1)`, `INSERT INTO a."b.c" VALUES (2), (3)`)
	_, errOut, code := c.run("backup", "--db", src.dsn)
	if code == 0 {
		t.Fatalf("backup of two tables named a.b.c succeeded:\n%s", errOut)
	}
	for _, want := range []string{`"a.b"."c"`, `"a"."b.c"`, "--schema", "no snapshot was saved"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("backup error does not say %q:\n%s", want, errOut)
		}
	}
	if packs := c.packs(); len(packs) != 0 {
		t.Errorf("the refused backup wrote %d packs", len(packs))
	}
	if snaps, _ := os.ReadDir(filepath.Join(c.repo, "snapshots")); len(snaps) != 0 {
		t.Errorf("the refused backup wrote %d snapshots", len(snaps))
	}
	c.ok("backup", "--db", src.dsn, "--schema", "a.b")
	c.ok("backup", "--db", src.dsn, "--schema", "a")
	dst := pgDB(t)
	c.ok("restore", "latest", "--db", dst.dsn, "--source", src.dsn)
	if n := dst.int(t, `SELECT count(*) FROM a."b.c"`); n != 2 {
		t.Errorf(`a."b.c" restored with %d rows, want 2`, n)
	}
}
