package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnreadableLockFilesAreRemovedByUnlock plants an empty lock file and
// one far larger than any lock (as damage or an attacker might): commands
// run with a notice naming each, without loading the large one, and
// `strata unlock` (which the notice names) removes both, since they
// exclude no one and would otherwise stay, noticed by every command,
// forever.
func TestUnreadableLockFilesAreRemovedByUnlock(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("rows\n"), "a.tsv")
	empty := strings.Repeat("0", 63) + "1"
	huge := strings.Repeat("0", 63) + "2"
	locks := filepath.Join(c.repo, "locks")
	writeFile0600(t, filepath.Join(locks, empty), "")
	// Sparse: a gigabyte on the file system costs no disk, but a reader
	// that loads the whole lock file would allocate it.
	f, err := os.OpenFile(filepath.Join(locks, huge), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	_, errOut := c.code(0, "snapshots")
	for _, name := range []string{empty, huge} {
		if !strings.Contains(errOut, "locks/"+name) {
			t.Errorf("snapshots: stderr %q does not name locks/%s", errOut, name)
		}
	}
	if !strings.Contains(errOut, "1073741824 bytes, more than any lock file holds") {
		t.Errorf("snapshots: stderr %q does not say the large lock file was refused by its size", errOut)
	}
	if !strings.Contains(errOut, "`strata unlock` removes it") {
		t.Errorf("snapshots: stderr %q does not say what removes the unreadable locks", errOut)
	}

	out := c.ok("unlock")
	if !strings.Contains(out, "2 locks removed") {
		t.Errorf("unlock: %q, want 2 locks removed", out)
	}
	left, err := os.ReadDir(locks)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("after unlock, locks/ still holds %d files", len(left))
	}
	if _, errOut := c.code(0, "snapshots"); strings.Contains(errOut, "unreadable lock") {
		t.Errorf("after unlock: stderr %q still notices an unreadable lock", errOut)
	}
}
