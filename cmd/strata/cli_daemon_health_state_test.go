package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/service/health"
	"strata/service/state"
)

// TestDaemonHealthStateUnwritable: when the daemon cannot write its
// health state (a full or read-only state folder; here health.json is a
// folder it cannot replace, which stops root as well), a finding is
// still sent once, not again after every run.
func TestDaemonHealthStateUnwritable(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t)
	e := newAppDaemonEnv(t, `jobs:
  - {name: app-hourly, source: app, tier: hourly, schedule: "@every 1s"}
  - {name: app-daily, source: app, tier: daily, max_age: 1s}
notifications:
  channels:
    - {name: ops, type: webhook, url: "`+rcv.URL+`/hook"}
`)
	blocker := filepath.Join(e.stateDir, health.StateFile)
	if err := os.MkdirAll(filepath.Join(blocker, "keep"), 0o700); err != nil {
		t.Fatal(err)
	}
	p := e.startDaemon()
	p.waitFor("three backups after the first finding", func() bool {
		return len(rcv.events(t)["unhealthy"]) > 0 && len(e.ended("app-hourly", state.Succeeded)) >= 4
	})
	p.stop()
	if n := strings.Count(strings.Join(rcv.events(t)["unhealthy"], " "), "age app-daily"); n != 1 {
		t.Fatalf("age app-daily reported %d times over %d runs (the state could not be saved): %v", n, len(e.ended("app-hourly", state.Succeeded)), rcv.events(t)["unhealthy"])
	}
	if !strings.Contains(p.log.String(), health.StateFile) {
		t.Errorf("the daemon's log does not say the health state could not be written:\n%s", p.log.String())
	}
}
