package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/pack"
)

// TestRestoreOfRepairedTableCountsItsRows: a table snapshot that repair
// snapshots cut lost chunks out of restores fewer rows than its schema
// records, and restore says how many it wrote, not how many the original
// held.
func TestRestoreOfRepairedTableCountsItsRows(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	loseRowsOfTable(t, c)
	c.ok("repair", "index")
	c.ok("repair", "snapshots", "--forget")

	target := filepath.Join(t.TempDir(), "restored.db")
	out, errOut := c.code(0, "restore", "latest", "--db", "sqlite://"+target)
	rdb, err := sql.Open("sqlite", "file:"+target)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	var n int
	if err := rdb.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n >= 60000 {
		t.Fatalf("the repaired snapshot restored %d rows, want some but fewer than 60000", n)
	}
	if want := fmt.Sprintf("(%d rows)", n); !strings.Contains(out+errOut, want) {
		t.Errorf("restore of the repaired snapshot restored %d rows but said:\n%s%s", n, out, errOut)
	}
}

// loseRowsOfTable backs up a SQLite table t of 60,000 rows into c's
// repository (1 MiB packs) and deletes one pack of its rows: never the
// one holding schema.json, without which nothing of the snapshot
// restores.
func loseRowsOfTable(t *testing.T, c *tcli) {
	t.Helper()
	c.ok("init", "--pack-size", "1")
	path := filepath.Join(t.TempDir(), "big.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 60000)
		INSERT INTO t SELECT x, hex(randomblob(24)) FROM n`); err != nil {
		t.Fatal(err)
	}
	c.ok("backup", "--db", "sqlite://"+path)
	schema := c.dataBlob(c.snapshots()[0].ID, "schema.json")
	for id, p := range c.packs() {
		var blobs []pack.Blob
		c.catJSON(&blobs, "pack-header", id)
		if id != schema.Pack && len(blobs) > 0 && blobs[0].Type == pack.DataBlob {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("no pack of rows only")
}
