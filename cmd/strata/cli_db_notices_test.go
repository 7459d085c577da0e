package main

import (
	"strings"
	"testing"
)

// TestSchemaNoticeOnce: a schema warning (here: a table whose columns
// hide its rowid, which SQLite tables without primary key are keyed by
// otherwise) is told by the first backup of its database, not by every
// backup after it; a new such table is told about once too.
func TestSchemaNoticeOnce(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, db := sqliteApp(t)
	dsn := "sqlite://" + path
	if _, err := db.Exec(`CREATE TABLE log (rowid INT, _rowid_ INT, oid INT, msg TEXT)`); err != nil {
		t.Fatal(err)
	}
	_, errOut := c.code(exitOK, "backup", "--db", dsn)
	if !strings.Contains(errOut, "table log: its rowid is not saved") {
		t.Fatalf("first backup did not tell about log:\n%s", errOut)
	}
	if _, errOut = c.code(exitOK, "backup", "--db", dsn); strings.Contains(errOut, "rowid") {
		t.Errorf("second backup repeats the notice:\n%s", errOut)
	}
	if _, err := db.Exec(`CREATE TABLE audit (rowid INT, _rowid_ INT, oid INT, what TEXT)`); err != nil {
		t.Fatal(err)
	}
	_, errOut = c.code(exitOK, "backup", "--db", dsn)
	if !strings.Contains(errOut, "table audit: its rowid is not saved") || strings.Contains(errOut, "table log:") {
		t.Errorf("backup after adding audit: want its notice alone:\n%s", errOut)
	}
}

// TestDrillOfFilesSnapshot: verify drill of a files snapshot is a usage
// error (exit 1) that says what to do, not a failed drill (exit 3).
func TestDrillOfFilesSnapshot(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	id := c.backupStdin([]byte("not a table\n"), "notes.txt")
	out, errOut := c.code(exitError, "verify", "drill", id)
	if out != "" || !strings.Contains(errOut, "holds no database tables") || !strings.Contains(errOut, "give a snapshot of a database") {
		t.Errorf("verify drill of a stream snapshot: stdout %q, stderr %q", out, errOut)
	}
}
