package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/service/state"
)

// TestDaemonSetsAsideDamagedRunRecord: garbage in one file of the state
// folder's runs/ no longer stops strata daemon (it logged started,
// stopped and exited 1 with "remove the file"): the file is renamed
// NAME.json.damaged beside it, kept byte for byte, a warning names it,
// and the daemon runs its jobs.
func TestDaemonSetsAsideDamagedRunRecord(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, `jobs:
  - name: app-hourly
    source: app
    tier: hourly
    schedule: "@every 2s"
`)
	runs := filepath.Join(e.stateDir, "runs")
	if err := os.MkdirAll(runs, 0o700); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(runs, "20260101T000000.000000000Z-app-hourly.json")
	garbage := []byte("{\"id\": garbage\x00")
	if err := os.WriteFile(bad, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	p := e.startDaemon()
	p.waitFor("the damaged record set aside", func() bool { _, err := os.Stat(bad + ".damaged"); return err == nil })
	p.waitFor("a successful run", func() bool { return len(e.ended("app-hourly", state.Succeeded)) >= 1 })
	p.stop()
	if b, err := os.ReadFile(bad + ".damaged"); err != nil || string(b) != string(garbage) {
		t.Fatalf("the damaged record set aside: %q, %v", b, err)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Fatal("the damaged record is still in runs/ under its name")
	}
	if log := p.log.String(); !strings.Contains(log, "damaged run record") || !strings.Contains(log, bad+".damaged") {
		t.Fatalf("the daemon's log names no damaged record:\n%s", log)
	}
}
