package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorHintsNameWhatToType: the advice in an error is a command that
// works: dump of a file by its base name suggests the file's full path,
// and a restore onto existing files names the --overwrite flag.
func TestErrorHintsNameWhatToType(t *testing.T) {
	c := newCLI(t)
	c.ok("init")
	src := t.TempDir()
	writeTree(t, src, map[string]string{"exports/orders.csv": "id\n1\n"})
	c.ok("backup", src)

	full := filepath.ToSlash(src) + "/exports/orders.csv"
	_, errOut := c.code(exitError, "dump", "latest", "orders.csv")
	if !strings.Contains(errOut, "strata dump latest "+full) {
		t.Errorf("dump latest orders.csv: stderr %q, want the hint strata dump latest %s", errOut, full)
	}
	if out := c.ok("dump", "latest", full); out != "id\n1\n" {
		t.Errorf("the hinted command printed %q", out)
	}

	target := t.TempDir()
	c.ok("restore", "latest", "--target", target)
	_, errOut = c.code(exitError, "restore", "latest", "--target", target)
	if !strings.Contains(errOut, "--overwrite") {
		t.Errorf("restore onto existing files: stderr %q, want it to name --overwrite", errOut)
	}
	c.ok("restore", "latest", "--target", target, "--overwrite")
}
