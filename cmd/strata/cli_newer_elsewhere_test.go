package main

import (
	"strings"
	"testing"
)

// latest of a local database is this machine's snapshots; when another
// host holds a newer snapshot of it, diff and dump say so on stderr.
func TestLatestNotesNewerSnapshotOfAnotherHost(t *testing.T) {
	t.Parallel()
	path, _ := diffSQLite(t, 10)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", "sqlite://"+path, "--time", historyHour(0))
	c.ok("backup", "--db", "sqlite://"+path, "--time", historyHour(1))
	c.ok("backup", "--db", "sqlite://"+path, "--time", historyHour(2), "--host", "elsewhere")
	_, errOut := c.code(0, "dump", "latest", "customers", "--format", "csv")
	if !strings.Contains(errOut, "host elsewhere has a newer one") {
		t.Errorf("dump latest: stderr %q", errOut)
	}
	_, errOut = c.code(0, "diff", "latest~1", "latest")
	if !strings.Contains(errOut, "host elsewhere has a newer one") {
		t.Errorf("diff latest: stderr %q", errOut)
	}
	_, errOut = c.code(0, "history", "customers", "--key", "1")
	if !strings.Contains(errOut, "host elsewhere has a newer one") {
		t.Errorf("history: stderr %q", errOut)
	}
	if _, errOut = c.code(0, "dump", "latest", "customers", "--format", "csv", "--host", "elsewhere"); strings.Contains(errOut, "newer one") {
		t.Errorf("dump --host elsewhere: stderr %q", errOut)
	}
}
