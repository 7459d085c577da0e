package main

import (
	"strings"
	"testing"
)

// restic users type `dump latest mydb.sql` for a --stdin backup: it
// writes the newest backup of that stream, whatever was backed up since
// (a database, another stream), as /mydb.sql does and as an ID does.
func TestDumpStreamByName(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("-- old dump\n"), "mydb.sql")
	id := c.backupStdin([]byte("-- new dump\n"), "mydb.sql")
	c.backupStdin([]byte("other\n"), "other.sql")
	path, _ := sqliteApp(t)
	c.ok("backup", "--db", "sqlite://"+path)
	for _, args := range [][]string{
		{"dump", "latest", "mydb.sql"},
		{"dump", "latest", "/mydb.sql"},
		{"dump", id[:8], "mydb.sql"},
		{"dump", id, "/mydb.sql"},
		{"dump", "latest", "mydb.sql", "--source", "stdin:mydb.sql"},
	} {
		if got := c.ok(args...); got != "-- new dump\n" {
			t.Errorf("strata %s = %q, want the newest mydb.sql", strings.Join(args, " "), got)
		}
	}
	if got := c.ok("dump", "latest", "other.sql"); got != "other\n" {
		t.Errorf("dump latest other.sql = %q", got)
	}
	// Tables of the database still dump by name.
	if got := c.ok("dump", "latest", "orders"); !strings.HasPrefix(got, "1\t1\t9.5\n") {
		t.Errorf("dump latest orders = %q", got)
	}
	// A name that is neither stream nor table says so.
	if _, errOut := c.code(exitError, "dump", "latest", "nothing.sql"); !strings.Contains(errOut, "nothing.sql") {
		t.Errorf("dump latest nothing.sql: %s", errOut)
	}
}
