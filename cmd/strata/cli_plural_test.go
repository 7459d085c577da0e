package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestOneIsSingular: counts of one read "1 snapshot", not "1 snapshots".
func TestOneIsSingular(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, db := sqliteApp(t)
	if _, err := db.Exec(`DROP TABLE orders`); err != nil {
		t.Fatal(err)
	}
	c.ok("backup", "--db", "sqlite://"+path)
	if out := c.ok("snapshots"); !strings.HasSuffix(out, "\n1 snapshot\n") {
		t.Errorf("snapshots ends %q, want \"1 snapshot\"", out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	}
	_, errOut := c.code(exitOK, "restore", "latest", "--db", "sqlite://"+filepath.Join(t.TempDir(), "x.db"))
	if !strings.Contains(errOut, "restored 1 table (3 rows)") {
		t.Errorf("restore of one table: %s", errOut)
	}
	c.backupStdin([]byte("x"), "one.txt")
	_, errOut = c.code(exitOK, "restore", "latest", "--target", t.TempDir())
	if !strings.Contains(errOut, ": 1 file, ") {
		t.Errorf("restore of one file: %s", errOut)
	}
	if out := c.ok("check"); !strings.Contains(out, "checked 2 snapshots") {
		t.Errorf("check: %s", out)
	}
	if out := c.ok("forget", "--dry-run", "--keep-last", "1", "--group-by", "host"); !strings.Contains(out, "would remove 1 of 2 snapshots") {
		t.Errorf("forget: %s", out)
	}
}
