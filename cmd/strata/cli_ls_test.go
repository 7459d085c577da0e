package main

import (
	"strings"
	"testing"
)

// TestLsFolder: ls SNAPSHOT FOLDER lists that folder and what is under
// it, as restic's ls SNAPSHOT DIR does; a path not in the snapshot is an
// error naming it.
func TestLsFolder(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := t.TempDir()
	writeTree(t, src, map[string]string{"exports/a.csv": "1\n", "exports/sub/b.csv": "2\n", "exportsold/c.csv": "3\n", "notes.txt": "n"})
	c.ok("backup", src)
	got := strings.Fields(c.ok("ls", "latest", src+"/exports/"))
	want := []string{src + "/exports", src + "/exports/a.csv", src + "/exports/sub", src + "/exports/sub/b.csv"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ls latest %s/exports/ = %q, want %q", src, got, want)
	}
	if got := strings.Fields(c.ok("ls", "-l", "latest", src+"/notes.txt")); len(got) == 0 || got[len(got)-1] != src+"/notes.txt" {
		t.Errorf("ls -l latest notes.txt = %q", got)
	}
	if got := strings.Fields(c.ok("ls", "latest", src+"/exports", src+"/exports/sub")); len(got) != 4 {
		t.Errorf("ls of a folder and a folder in it = %q, want each node once", got)
	}
	if _, errOut := c.code(exitError, "ls", "latest", src+"/nothing"); !strings.Contains(errOut, src+"/nothing") {
		t.Errorf("ls of a missing path: %q, want it named", errOut)
	}
}
