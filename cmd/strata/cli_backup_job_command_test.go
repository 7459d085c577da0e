package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"strata/internal/proctest"
)

// TestBackupJobCommandLeftoversEnd: backup --job of a command source
// whose command leaves a process running in the background, holding its
// output, ends when the command exits, saves what it wrote, and ends
// that process, as strata daemon does. It waited for that process
// before.
func TestBackupJobCommandLeftoversEnd(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t, "")
	pidFile := filepath.Join(e.dir, "left.pid")
	e.writeConfig(`sources:
  - name: dump
    type: command
    command: 'echo x; sleep 1000 & echo $! > ` + pidFile + `'
jobs:
  - name: nightly
    source: dump
`)
	e.c.ok("--config", e.config, "backup", "--job", "nightly")
	waitGone(t, proctest.EscapedPID(t, pidFile), "the command source's background command")
	if got := e.c.ok("dump", "latest", "dump"); got != "x\n" {
		t.Errorf("dump of the command's output: %q", got)
	}
}

// TestBackupJobCommandEscapedProcessFails: backup --job of a command
// source whose output a process that left its group (setsid) still holds
// once the command exited fails naming the source and the process, and
// saves no snapshot, as strata daemon does. It waited for that process
// before.
func TestBackupJobCommandEscapedProcessFails(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t, "")
	mark := filepath.Join(e.dir, "escaped.pid")
	e.writeConfig(`sources:
  - name: dump
    type: command
    command: '` + proctest.EscapingCommand(t, mark) + `; echo data'
jobs:
  - name: nightly
    source: dump
`)
	_, errOut := e.c.code(1, "--config", e.config, "backup", "--job", "nightly")
	pid := proctest.EscapedPID(t, mark)
	if proctest.Gone(pid) {
		t.Fatalf("backup returned only once the escaped process %d ended", pid)
	}
	want := "source dump: the command exited, but a process that left the command's process group still holds its output (PID " + strconv.Itoa(pid) + ")"
	if !strings.Contains(errOut, want) {
		t.Fatalf("error lacks %q:\n%s", want, errOut)
	}
	if sns := e.c.snapshots(); len(sns) != 0 {
		t.Fatalf("snapshots %+v", sns)
	}
}
