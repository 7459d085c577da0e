package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRestoreAtTakesTheWholeSecond: snapshots shows times to the second;
// --at with the time as shown finds the snapshot taken within that
// second (at 13:00:00.5, --at 13:00:00 used to find nothing).
func TestRestoreAtTakesTheWholeSecond(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	dsn := "sqlite://" + path
	c.ok("backup", "--db", dsn, "--time", "2025-06-17T13:00:00.5Z")
	if out := c.ok("snapshots"); !strings.Contains(out, "13:00:00") {
		t.Fatalf("snapshots does not show the time to the second:\n%s", out)
	}
	for _, at := range []string{"2025-06-17T13:00:00Z", "2025-06-17T15:00:00+02:00"} {
		inspect := filepath.Join(t.TempDir(), "inspect.db")
		c.ok("restore", "--at", at, "--db", "sqlite://"+inspect)
	}
	_, errOut := c.code(exitError, "restore", "--at", "2025-06-17T13:00:00.4Z", "--db", "sqlite://"+filepath.Join(t.TempDir(), "x.db"))
	if !strings.Contains(errOut, "no snapshot") {
		t.Errorf("--at before the snapshot, to the tenth of a second: %s", errOut)
	}
}
