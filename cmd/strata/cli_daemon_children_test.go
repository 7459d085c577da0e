package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"strata/internal/proctest"
	"strata/service/state"
)

// This file tests that what the daemon's hooks and command sources start
// ends with the daemon: a SIGKILL leaves none of it running, and SIGTERM
// ends it cleanly (it gets SIGTERM and may clean up).

// readPID waits for a process to write its PID to path.
func readPID(p *daemonProc, path string) int {
	p.t.Helper()
	var pid int
	p.waitFor(filepath.Base(path), func() bool {
		var err error
		pid, err = proctest.ReadPID(path)
		return err == nil
	})
	return pid
}

// waitGone fails the test unless pid is gone within 20 s.
func waitGone(t *testing.T, pid int, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !proctest.Gone(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("%s (PID %d) still runs 20 s after the daemon ended", what, pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDaemonKilledTakesHookChildren: a daemon killed with SIGKILL while a
// before hook runs leaves none of the hook's processes running: not the
// command the hook started in the background, nor the shell.
func TestDaemonKilledTakesHookChildren(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t, "")
	pidFile := filepath.Join(e.dir, "child.pid")
	shFile := filepath.Join(e.dir, "sh.pid")
	e.writeConfig(`sources:
  - name: dump
    type: command
    command: echo data
jobs:
  - name: nightly
    source: dump
    schedule: "@every 1s"
    hooks:
      before:
        - command: 'echo $$ > ` + shFile + `; sleep 300 & echo $! > ` + pidFile + `; wait'
          timeout: 10m
`)
	p := e.startDaemon()
	child := readPID(p, pidFile)
	sh := readPID(p, shFile)
	if proctest.Gone(child) || proctest.Gone(sh) {
		t.Fatalf("the hook's processes ended before the daemon was killed\n%s", p.log.String())
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	waitGone(t, child, "the hook's background command")
	waitGone(t, sh, "the hook's shell")
}

// TestDaemonStopEndsCommandSourceCleanly: SIGTERM to a daemon whose
// backup reads a command source's output sends SIGTERM to what the
// command started (its trap runs), none of it runs once the daemon has
// exited, and the run is recorded as aborted.
func TestDaemonStopEndsCommandSourceCleanly(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t, "")
	pidFile := filepath.Join(e.dir, "child.pid")
	ended := filepath.Join(e.dir, "ended")
	// The child writes nothing: the backup waits on it until stopped.
	e.writeConfig(`sources:
  - name: dump
    type: command
    command: 'sh -c "trap \"echo cleaned-up > ` + ended + `; exit 0\" TERM; echo \$\$ > ` + pidFile + `; while :; do sleep 0.1; done"; echo after'
jobs:
  - name: nightly
    source: dump
    schedule: "@every 1s"
`)
	p := e.startDaemon()
	child := readPID(p, pidFile)
	p.stop()
	waitGone(t, child, "the command source's child")
	if b, err := os.ReadFile(ended); err != nil || string(b) != "cleaned-up\n" {
		t.Fatalf("the child's SIGTERM trap did not run (%q, %v)\n%s", b, err, p.log.String())
	}
	runs := e.runs("nightly")
	if len(runs) == 0 || runs[0].Result != state.Aborted {
		t.Fatalf("runs %+v, want the newest aborted\n%s", runs, p.log.String())
	}
	if len(e.c.snapshots()) != 0 {
		t.Fatalf("a stopped command source saved a snapshot: %v", e.c.snapshots())
	}
}

// TestHookLeftoversEnd: what a hook leaves running when it exits is
// ended with it: a background command that holds the hook's output (the
// run waited for it to end before) and one writing elsewhere (it ran on
// after the run). The daemon runs on meanwhile.
func TestHookLeftoversEnd(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t, "")
	held := filepath.Join(e.dir, "held.pid")
	quiet := filepath.Join(e.dir, "quiet.pid")
	e.writeConfig(`sources:
  - name: dump
    type: command
    command: echo data
jobs:
  - name: nightly
    source: dump
    schedule: "@every 1s"
    hooks:
      success:
        - command: '[ -e ` + held + ` ] || { sleep 300 & echo $! > ` + held + `; }'
      after:
        - command: '[ -e ` + quiet + ` ] || { sleep 301 >/dev/null 2>&1 & echo $! > ` + quiet + `; }'
`)
	p := e.startDaemon()
	p.waitFor("a run's end", func() bool { return len(e.ended("nightly", state.Succeeded)) >= 1 })
	waitGone(t, readPID(p, held), "the success hook's background command")
	waitGone(t, readPID(p, quiet), "the after hook's background command")
	p.stop()
}

// TestCommandSourceLeftoversEnd: a command source that leaves a process
// running which holds its output (`sleep 300 &`) still ends its backup
// when it exits: the leftover is ended then (the backup waited for it
// before, reading an output that never ended).
func TestCommandSourceLeftoversEnd(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t, "")
	pidFile := filepath.Join(e.dir, "left.pid")
	e.writeConfig(`sources:
  - name: dump
    type: command
    command: 'echo data; [ -e ` + pidFile + ` ] || { sleep 300 & echo $! > ` + pidFile + `; }'
jobs:
  - name: nightly
    source: dump
    schedule: "@every 1s"
`)
	p := e.startDaemon()
	p.waitFor("a backup", func() bool { return len(e.ended("nightly", state.Succeeded)) >= 1 })
	waitGone(t, readPID(p, pidFile), "the command source's background command")
	p.stop()
	if len(e.c.snapshots()) == 0 {
		t.Fatal("no snapshot")
	}
}
