package main

import (
	"os"
	"path/filepath"
	"testing"

	"strata/service/state"
)

// TestDaemonFreshDrillAfterBackup: on a fresh repository a drill and a
// backup of its source due at the same instant (a backup job whose name
// sorts after "drill") run backup first: the drill finds the backup's
// snapshot and passes; no drill_failed event is sent and the failure
// hook does not run. (Before, the drill ran first, failed with "snapshot
// not found" and paged.)
func TestDaemonFreshDrillAfterBackup(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t)
	e := newAppDaemonEnv(t, "")
	failed := filepath.Join(e.dir, "failed")
	e.writeAppConfig(`jobs:
  - {name: nightly, source: app, tier: daily, schedule: "@every 1s"}
drill:
  schedule: "@every 1s"
  source: app
hooks:
  failure:
    - command: 'echo "$STRATA_JOB $STRATA_ERROR" >> ` + failed + `'
notifications:
  channels:
    - {name: ops, type: webhook, url: "` + rcv.URL + `/hook"}
`)
	p := e.startDaemon()
	p.waitFor("a drill run", func() bool {
		return len(e.ended("drill", state.Succeeded))+len(e.ended("drill", state.Failed)) > 0
	})
	p.stop()
	if f := e.ended("drill", state.Failed); len(f) > 0 {
		t.Fatalf("drill failed: %s", f[len(f)-1].Error)
	}
	if ev := rcv.events(t); len(ev["drill_failed"]) > 0 {
		t.Fatalf("events %v", ev)
	}
	if b, err := os.ReadFile(failed); !os.IsNotExist(err) {
		t.Fatalf("failure hook ran: %q %v", b, err)
	}
}
