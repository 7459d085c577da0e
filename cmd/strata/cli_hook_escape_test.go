package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"strata/internal/proctest"
	"strata/service/state"
)

// TestHookEscapedProcessNotWaitedFor: a hook that leaves a process
// running in a session of its own, holding the hook's output, ends when
// its command exits; the run succeeds and its log names the process.
// strata waited for that process before, past the hook's timeout (and,
// in the daemon, its stop).
func TestHookEscapedProcessNotWaitedFor(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t, "")
	mark := filepath.Join(e.dir, "escaped.pid")
	e.writeConfig(`sources:
  - name: dump
    type: command
    command: echo data
jobs:
  - name: nightly
    source: dump
    hooks:
      before:
        - command: '` + proctest.EscapingCommand(t, mark) + `; echo done-before'
          timeout: 5m
`)
	out, errOut := e.c.code(0, "--config", e.config, "schedule", "run", "nightly")
	pid := proctest.EscapedPID(t, mark)
	if proctest.Gone(pid) {
		t.Fatalf("schedule run returned only once the escaped process %d ended", pid)
	}
	runs := e.ended("nightly", state.Succeeded)
	if len(runs) != 1 {
		t.Fatalf("runs %+v\n%s%s", e.runs("nightly"), out, errOut)
	}
	all := out + errOut + runs[0].Log
	want := "still holds its output (PID " + strconv.Itoa(pid) + ")"
	if !strings.Contains(all, "done-before") || !strings.Contains(all, want) {
		t.Fatalf("no done-before or %q in:\n%s", want, all)
	}
}

// TestCommandSourceEscapedProcessFails: a command source whose output is
// still held, once it exited, by a process that left its group saves no
// snapshot (what that process writes later would be cut or missing) and
// says which source and process; it waited for that process before.
func TestCommandSourceEscapedProcessFails(t *testing.T) {
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
	_, errOut := e.c.code(1, "--config", e.config, "schedule", "run", "nightly")
	pid := proctest.EscapedPID(t, mark)
	if proctest.Gone(pid) {
		t.Fatalf("schedule run returned only once the escaped process %d ended", pid)
	}
	runs := e.ended("nightly", state.Failed)
	if len(runs) != 1 {
		t.Fatalf("runs %+v\n%s", e.runs("nightly"), errOut)
	}
	want := "source dump: the command exited, but a process that left the command's process group still holds its output (PID " + strconv.Itoa(pid) + ")"
	if !strings.Contains(runs[0].Error, want) {
		t.Fatalf("error %q lacks %q\n%s", runs[0].Error, want, errOut)
	}
	if sns := e.c.snapshots(); len(sns) != 0 {
		t.Fatalf("snapshots %+v", sns)
	}
}
