package main

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadersSkipDamagedIndexFile damages one of two index files: ls,
// dump, restore, snapshots and stats still work, each with a warning
// naming the file (even with --quiet), and what the file listed is found
// through the pack headers, so both snapshots restore in full. check still
// reports the file; after repair index the warning is gone.
func TestReadersSkipDamagedIndexFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	first := sampleData(t)[:700<<10]
	second := []byte("the second backup\n")
	snap1 := c.backupStdin(first, "a.tsv")
	damaged := c.files("index")
	snap2 := c.backupStdin(second, "b.tsv")
	if len(damaged) != 1 || len(c.files("index")) != 2 {
		t.Fatalf("index files: %v then %v, want one per backup", damaged, c.files("index"))
	}
	flipByte(t, filepath.Join(c.repo, "index", damaged[0]), 100)
	warning := "warning: skipping damaged index file index/" + damaged[0]

	target := t.TempDir()
	for _, args := range [][]string{
		{"ls", snap1[:8]},
		{"ls", "latest"},
		{"dump", snap1[:8], "/a.tsv"},
		{"dump", "--quiet", snap2[:8], "/b.tsv"},
		{"restore", snap1[:8], "--target", target},
		{"snapshots"},
		{"stats"},
	} {
		out, errOut := c.code(exitOK, args...)
		if !strings.Contains(errOut, warning) {
			t.Errorf("%s: stderr does not warn about the damaged index file:\n%s", strings.Join(args, " "), errOut)
		}
		switch {
		case args[0] == "dump" && args[1] == snap1[:8] && out != string(first):
			t.Errorf("dump of the first snapshot: %d bytes, want %d", len(out), len(first))
		case args[0] == "dump" && args[2] == snap2[:8] && out != string(second):
			t.Errorf("dump of the second snapshot: %q", out)
		}
	}
	if got := readFile(t, filepath.Join(target, "a.tsv")); !bytes.Equal(got, first) {
		t.Errorf("restore wrote %d bytes, want the %d backed up", len(got), len(first))
	}

	out, _ := c.code(exitCheckFailed, "check")
	if !strings.Contains(out, "index/"+damaged[0]) {
		t.Errorf("check does not name the damaged index file:\n%s", out)
	}
	c.ok("repair", "index")
	if slices.Contains(c.files("index"), damaged[0]) {
		t.Errorf("repair index left the damaged file")
	}
	if _, errOut := c.code(exitOK, "ls", snap1[:8]); strings.Contains(errOut, "warning") {
		t.Errorf("ls after repair index still warns:\n%s", errOut)
	}
	c.check()
}
