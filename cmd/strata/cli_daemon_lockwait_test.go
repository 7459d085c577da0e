package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strata/repo"
	"strata/service/state"
)

// TestDaemonJobsWaitForTheLock: by default a job of the daemon queues on
// the repository's lock instead of failing: a backup waits while another
// process holds the exclusive lock (a prune), and the retention job's
// forget (exclusive) waits while another holds a shared one (a dashboard
// page's read, a restore). Each says in its run's log that it waits, and
// succeeds once the lock is released; no run is lock-busy. (Both failed
// at once as lock-busy before, unless the daemon was given --retry-lock.)
func TestDaemonJobsWaitForTheLock(t *testing.T) {
	tests := []struct {
		name      string
		job       string
		exclusive bool // the lock the test holds
		config    string
	}{
		{"backup behind an exclusive lock", "app", true, `jobs:
  - name: app
    source: app
    tier: hourly
    schedule: "@every 1s"
`},
		{"forget behind a shared lock", "forget", false, `retention:
  keep_last: 1
  schedule: "@every 1s"
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAppDaemonEnv(t, tt.config)
			r := e.c.openAPI(repo.Options{})
			lock, err := r.Lock(context.Background(), tt.exclusive, "test: another process")
			if err != nil {
				t.Fatal(err)
			}
			p := e.startDaemon()
			p.waitFor("a job waiting for the lock", func() bool {
				return strings.Contains(p.log.String(), "test: another process") && strings.Contains(p.log.String(), "waiting up to 1h0m0s")
			})
			if err := lock.Unlock(context.Background()); err != nil {
				t.Fatal(err)
			}
			p.waitFor("a run after the lock was released", func() bool { return len(e.ended(tt.job, state.Succeeded)) >= 1 })
			p.stop()
			if busy := e.ended(tt.job, state.LockBusy); len(busy) > 0 {
				t.Fatalf("lock-busy runs: %+v", busy)
			}
			first := e.ended(tt.job, state.Succeeded)
			run := first[len(first)-1] // the oldest
			if !strings.Contains(run.Log, "waiting up to 1h0m0s") {
				t.Fatalf("the first run's log does not say it waited:\n%s", run.Log)
			}
			e.c.ok("check")
		})
	}
}

// TestDaemonRemovesKilledDaemonsLock: the lock of a daemon killed with
// SIGKILL during a backup is removed by the next daemon's first job, with
// one line in the log, instead of a warning on every run until strata
// unlock; no lock is left once the daemon stops.
func TestDaemonRemovesKilledDaemonsLock(t *testing.T) {
	e := newDaemonEnv(t, "")
	once := filepath.Join(e.dir, "once")
	// The first run blocks (and holds its lock) until the daemon is
	// killed; every later one saves a snapshot.
	e.writeConfig(`sources:
  - name: dump
    type: command
    command: 'if [ -e ` + once + ` ]; then echo data; else touch ` + once + `; sleep 300; fi'
jobs:
  - name: nightly
    source: dump
    schedule: "@every 1s"
`)
	p := e.startDaemon()
	// The run takes its lock before it starts the command: wait for both,
	// or a loaded machine kills the daemon before the command touched
	// once, and the next daemon's run is the one that sleeps.
	p.waitFor("the first run's lock and command", func() bool {
		_, err := os.Stat(once)
		return len(e.c.files("locks")) == 1 && err == nil
	})
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	killed := p.cmd.Process.Pid

	p = e.startDaemon()
	p.waitFor("two backups", func() bool { return len(e.ended("nightly", state.Succeeded)) >= 2 })
	p.stop()
	log := p.log.String()
	gone := fmt.Sprintf("process %d is gone from this host", killed)
	if n := strings.Count(log, "removed stale shared lock"); n != 1 || !strings.Contains(log, gone) || strings.Contains(log, "ignoring stale") {
		t.Fatalf("want one line removing the killed daemon's lock (%q), got %d:\n%s", gone, n, log)
	}
	e.c.noLocksLeft()
}

// TestDaemonPruneWaitingStepsAside: the retention job's forget --prune
// waiting for its exclusive lock (another process holds a shared one: a
// long check from cron) steps aside: the daemon's backups on the same
// repository, which need only a shared lock, run meanwhile (they queued
// behind the waiting prune for up to repository.lock_wait before). Its
// run record says since when it waits, and strata health notes it;
// once the lock is free the prune runs and succeeds.
func TestDaemonPruneWaitingStepsAside(t *testing.T) {
	e := newAppDaemonEnv(t, `jobs:
  - name: app
    source: app
    tier: hourly
    schedule: "@every 1s"
retention:
  keep_last: 1
  prune: true
  schedule: "@every 1s"
`)
	r := e.c.openAPI(repo.Options{})
	lock, err := r.Lock(context.Background(), false, "test: a long check")
	if err != nil {
		t.Fatal(err)
	}
	p := e.startDaemon()
	p.waitFor("the forget waiting for the lock", func() bool {
		return strings.Contains(p.log.String(), "test: a long check") && strings.Contains(p.log.String(), "waiting up to 1h0m0s")
	})
	since := time.Now()
	p.waitFor("two backups while the forget waits", func() bool {
		n := 0
		for _, b := range e.ended("app", state.Succeeded) {
			if b.Start.After(since) {
				n++
			}
		}
		return n >= 2
	})
	runs := e.runs("forget")
	if len(runs) == 0 || runs[0].Result != state.Running || runs[0].LockWaitSince.IsZero() {
		t.Fatalf("the forget's record does not say it waits: %+v", runs)
	}
	waiting := runs[0]
	out, _ := e.c.code(0, "health", "--config", e.config)
	if !strings.Contains(out, "job forget has waited for another process's lock on the repository since") {
		t.Fatalf("health does not note the waiting forget:\n%s", out)
	}
	if err := lock.Unlock(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the forget's success", func() bool {
		for _, f := range e.ended("forget", state.Succeeded) {
			if f.ID == waiting.ID {
				return true
			}
		}
		return false
	})
	p.stop()
	if busy := e.ended("forget", state.LockBusy); len(busy) > 0 {
		t.Fatalf("lock-busy forget runs: %+v", busy)
	}
	e.c.ok("check")
}
