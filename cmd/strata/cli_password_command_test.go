package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/internal/proctest"
)

// TestPasswordCommand: repository.password_command gives the password
// by its standard output (its standard error goes to strata's, not into
// the password), what it leaves running is ended instead of waited for,
// and a process that left its group holding the output fails the
// command naming it. Before, strata waited for whatever held the output
// (it ran the command with exec's Output).
func TestPasswordCommand(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	delete(c.vars, "STRATA_PASSWORD_FILE")
	dir := t.TempDir()
	config := func(command string) string {
		path := filepath.Join(dir, "strata.yaml")
		yaml := "version: 1\nrepository:\n  url: " + c.repo + "\n  password_command: '" + command + "'\n"
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}

	pidFile := filepath.Join(dir, "left.pid")
	_, errOut := c.code(0, "--config", config("echo asking >&2; cat "+c.pwFile+"; sleep 1000 & echo $! > "+pidFile), "snapshots")
	if !strings.Contains(errOut, "asking") {
		t.Errorf("the command's standard error is not strata's:\n%s", errOut)
	}
	waitGone(t, proctest.EscapedPID(t, pidFile), "the password command's background command")

	mark := filepath.Join(dir, "escaped.pid")
	_, errOut = c.code(1, "--config", config(proctest.EscapingCommand(t, mark)+"; cat "+c.pwFile), "snapshots")
	pid := proctest.EscapedPID(t, mark)
	if proctest.Gone(pid) {
		t.Fatalf("strata returned only once the escaped process %d ended", pid)
	}
	if !strings.Contains(errOut, "repository.password_command failed") || !strings.Contains(errOut, "still holds its output") {
		t.Fatalf("the error names neither the password command nor the process holding its output:\n%s", errOut)
	}
}
