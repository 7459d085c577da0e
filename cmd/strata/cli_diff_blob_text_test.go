package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// A SQLite BLOB and the TEXT of its \x hex look alike in JSON; diff and
// history --format text show the BLOB as SQLite's literal x'00', so a
// BLOB that became TEXT shows as a change.
func TestDiffBlobAndTextDiffer(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "b.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	execAll(t, db, `CREATE TABLE t (id INTEGER PRIMARY KEY, v)`, `INSERT INTO t VALUES (1, x'00')`)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", "sqlite://"+path, "--time", historyHour(0))
	execAll(t, db, `UPDATE t SET v = '\x00' WHERE id = 1`)
	c.ok("backup", "--db", "sqlite://"+path, "--time", historyHour(1))
	want := `x'00' -> "\\x00"`
	if out := c.ok("diff", "latest~1", "latest", "--format", "text"); !strings.Contains(out, "v: "+want) {
		t.Errorf("diff --format text:\n%s\nwant v: %s", out, want)
	}
	if out := c.ok("history", "t", "--key", "1"); !strings.Contains(out, want) {
		t.Errorf("history:\n%s\nwant %s", out, want)
	}
}
