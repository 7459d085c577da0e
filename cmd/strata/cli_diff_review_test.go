package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiffOfTwoDatabasesSaysSo: snapshots of two different databases are
// compared (production against a restored copy is a real question), but
// the diff says so instead of passing it off as one database's history.
func TestDiffOfTwoDatabasesSaysSo(t *testing.T) {
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
