package main

import (
	"strings"
	"testing"
)

// A diff of a snapshot with itself, or of a later snapshot with an
// earlier one, says so on stderr (and still runs).
func TestDiffSameOrBackwardsSaysSo(t *testing.T) {
	t.Parallel()
	path, _ := diffSQLite(t, 10)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", "sqlite://"+path, "--time", historyHour(0))
	c.ok("backup", "--db", "sqlite://"+path, "--time", historyHour(2))
	_, errOut := c.code(0, "diff", "--from-at", historyHour(3), "--to-at", historyHour(4))
	if !strings.Contains(errOut, "A and B are the same snapshot") {
		t.Errorf("diff of one snapshot with itself: stderr %q", errOut)
	}
	_, errOut = c.code(0, "diff", "latest", "latest~1")
	if !strings.Contains(errOut, "the diff runs backwards") {
		t.Errorf("diff of a later snapshot with an earlier one: stderr %q", errOut)
	}
	if _, errOut = c.code(0, "diff", "latest~1", "latest"); errOut != "" {
		t.Errorf("diff forwards: stderr %q", errOut)
	}
}
