package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"strata/service/state"
)

// escapingCommand writes a script to dir and returns the command that
// runs it: it starts a process which leaves its process group and
// session (setsid) holding the command's output, and goes on once that
// process has written its PID to mark (before it escaped, the group's
// SIGTERM could still reach it).
func escapingCommand(t *testing.T, dir, mark string) string {
	t.Helper()
	script := filepath.Join(dir, "escape.sh")
	body := `(setsid sh -c 'echo $$ > ` + mark + `.tmp; mv ` + mark + `.tmp ` + mark + `; exec sleep 300' &)
while [ ! -s ` + mark + ` ]; do sleep 0.05; done
`
	if err := os.WriteFile(script, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return "sh " + script
}

// escapedPID reads the PID escapingCommand's process wrote to mark, and
// kills that process when the test ends.
func escapedPID(t *testing.T, mark string) int {
	t.Helper()
	b, err := os.ReadFile(mark)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	return pid
}

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
        - command: '` + escapingCommand(t, e.dir, mark) + `; echo done-before'
          timeout: 5m
`)
	out, errOut := e.c.code(0, "--config", e.config, "schedule", "run", "nightly")
	pid := escapedPID(t, mark)
	if processGone(pid) {
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
    command: '` + escapingCommand(t, e.dir, mark) + `; echo data'
jobs:
  - name: nightly
    source: dump
`)
	_, errOut := e.c.code(1, "--config", e.config, "schedule", "run", "nightly")
	pid := escapedPID(t, mark)
	if processGone(pid) {
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
