package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestFullDiskReaders: on a disk filled to the last byte, the commands
// that only read run without a lock, with a notice that the disk is full,
// instead of failing on the lock file: a user must be able to list the
// snapshots to follow the advice "strata forget, then strata prune".
func TestFullDiskReaders(t *testing.T) {
	t.Parallel()
	disk := smallDisk(t, "8m")
	c := newCLI(t)
	c.repo = filepath.Join(disk, "repo")
	c.vars["STRATA_REPOSITORY"] = c.repo
	c.ok("init")
	data := sampleData(t)[:200<<10]
	snap := c.backupStdin(data, "export.tsv")
	fill(t, disk)
	if free := freeBytes(t, disk); free != 0 {
		t.Fatalf("the disk still has %d bytes free", free)
	}

	target := t.TempDir()
	readers := [][]string{
		{"snapshots"},
		{"ls", snap[:8]},
		{"dump", snap[:8], "/export.tsv"},
		{"restore", snap[:8], "--target", target},
		{"stats"},
		{"check", "--read-data"},
		{"cat", "snapshot", snap[:8]},
		{"find", "export.tsv"},
		{"forget", "--keep-last", "1", "--dry-run"},
		{"prune", "--dry-run"},
	}
	for _, args := range readers {
		out, errOut := c.code(exitOK, args...)
		if !strings.Contains(errOut, "disk of the repository is full") || !strings.Contains(errOut, "reading without a lock") {
			t.Errorf("%s: no notice that the disk is full and it reads without a lock:\n%s", strings.Join(args, " "), errOut)
		}
		if args[0] == "dump" && out != string(data) {
			t.Errorf("dump on the full disk wrote %d bytes, want %d", len(out), len(data))
		}
		if args[0] == "snapshots" && !strings.Contains(out, snap[:8]) {
			t.Errorf("snapshots on the full disk does not list %s:\n%s", snap[:8], out)
		}
	}
	if got := readFile(t, filepath.Join(target, "export.tsv")); string(got) != string(data) {
		t.Errorf("restore on the full disk wrote %d bytes, want %d", len(got), len(data))
	}
}
