package main

import (
	"strings"
	"testing"
	"time"
)

// A mistaken --time would stay "latest" and the parent of every later
// backup: one far in the future, or before 1970, is refused before
// anything is read, and no snapshot is written.
func TestBackupTimeOutOfRange(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	future := time.Now().Add(2 * time.Hour).Format("2006-01-02 15:04:05")
	for _, at := range []string{future, "2999-01-01 00:00:00", "1969-12-31 12:00:00", "0001-01-01 00:00:00"} {
		c.stdin = []byte("data\n")
		_, errOut := c.code(exitError, "backup", "--stdin", "--time", at)
		if !strings.Contains(errOut, at) || !strings.Contains(errOut, "snapshot time out of range") {
			t.Errorf("backup --time %q: the error does not name the value and the reason:\n%s", at, errOut)
		}
		path, _ := sqliteApp(t)
		if _, errOut := c.code(exitError, "backup", "--db", "sqlite://"+path, "--time", at); !strings.Contains(errOut, at) {
			t.Errorf("backup --db --time %q: %s", at, errOut)
		}
	}
	if sns := c.snapshots(); len(sns) != 0 {
		t.Fatalf("refused backups wrote %d snapshots", len(sns))
	}
	// Within the hour's margin (clocks differ a little) it is accepted.
	soon := time.Now().Add(30 * time.Minute).Format("2006-01-02 15:04:05")
	c.backupStdin([]byte("data\n"), "soon", "--time", soon)
	c.backupStdin([]byte("data\n"), "old", "--time", "1970-01-02 00:00:00")
	c.check()
}
