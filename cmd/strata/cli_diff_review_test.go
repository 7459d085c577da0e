package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"strata/pack"
)

// TestDiffOfTwoDatabasesSaysSo: snapshots of two different databases are
// compared (production against a restored copy is a real question), but
// the diff says so instead of passing it off as one database's history.
func TestDiffOfTwoDatabasesSaysSo(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	pathA, _ := diffSQLite(t, 10)
	pathB := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", "file:"+pathB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	execAll(t, db, `CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, balance NUMERIC, note BLOB)`)
	c.ok("backup", "--db", "sqlite://"+pathA, "--time", "2025-06-17 13:00:00")
	c.ok("backup", "--db", "sqlite://"+pathB, "--time", "2025-06-17 14:00:00")
	sns := c.snapshots()
	_, errOut := c.code(0, "diff", sns[0].ID[:8], sns[1].ID[:8])
	for _, want := range []string{"two different databases", pathA, pathB} {
		if !strings.Contains(errOut, want) {
			t.Errorf("diff of two databases: stderr lacks %q:\n%s", want, errOut)
		}
	}
	// Two snapshots of one database: no note.
	c.ok("backup", "--db", "sqlite://"+pathA, "--time", "2025-06-17 15:00:00")
	if _, errOut := c.code(0, "diff", sns[0].ID[:8], "latest"); strings.Contains(errOut, "different") {
		t.Errorf("diff of one database: %s", errOut)
	}
}

// TestDiffTablesTypoNamesEachTableOnce: the tables of both snapshots are
// listed once each, not once per snapshot.
func TestDiffTablesTypoNamesEachTableOnce(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, _ := diffSQLite(t, 10)
	c.ok("backup", "--db", "sqlite://"+path, "--time", "2025-06-17 13:00:00")
	c.ok("backup", "--db", "sqlite://"+path, "--time", "2025-06-17 14:00:00")
	sns := c.snapshots()
	_, errOut := c.code(1, "diff", sns[0].ID[:8], sns[1].ID[:8], "--tables", "customer")
	if !strings.Contains(errOut, "its tables: customers, tags)") {
		t.Errorf("diff --tables typo: %s", errOut)
	}
}

// TestDiffDamagedChunkListNamesSnapshot: a table's chunk list that cannot
// be read fails the diff (exit 1, nothing on stdout presented as the
// result) with an error naming the table and the snapshot it belongs to.
func TestDiffDamagedChunkListNamesSnapshot(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, db := diffSQLite(t, 10)
	c.ok("backup", "--db", "sqlite://"+path, "--time", "2025-06-17 13:00:00")
	execAll(t, db, `UPDATE customers SET email = 'x' WHERE id = 3`)
	c.ok("backup", "--db", "sqlite://"+path, "--time", "2025-06-17 14:00:00")
	sns := c.snapshots()
	a, b := sns[0].ID[:8], sns[1].ID[:8]
	var sn struct{ Tree string }
	c.catJSON(&sn, "snapshot", b)
	var tree struct {
		Nodes []struct {
			Name  string
			Pages string
		}
	}
	c.catJSON(&tree, "tree", sn.Tree)
	var pages string
	for _, n := range tree.Nodes {
		if n.Name == "customers" {
			pages = n.Pages
		}
	}
	if pages == "" {
		t.Fatalf("snapshot %s: no pages for customers: %+v", b, tree)
	}
	damaged := 0
	for id, p := range c.packs() {
		var blobs []pack.Blob
		c.catJSON(&blobs, "pack-header", id)
		for _, bl := range blobs {
			if bl.ID.String() == pages {
				flipByte(t, p, int64(bl.Offset)+int64(bl.Length)/2)
				damaged++
			}
		}
	}
	if damaged == 0 {
		t.Fatalf("no pack holds page %s", pages)
	}
	out, errOut := c.code(1, "diff", a, b, "--format", "jsonl", "--tables", "customers")
	noPanic(t, out, errOut)
	if out != "" {
		t.Errorf("damaged diff wrote a result: %s", out)
	}
	for _, want := range []string{"customers", "snapshot " + b} {
		if !strings.Contains(errOut, want) {
			t.Errorf("diff of a damaged chunk list: stderr lacks %q:\n%s", want, errOut)
		}
	}
}
