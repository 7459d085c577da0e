package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestDaemonSetsAsideDamagedJobsFile: a damaged jobs.json no longer stops
// strata daemon (it exited at once, naming the file): it is set aside as
// jobs.json.damaged, byte for byte, the log says so, the next due times
// are rebuilt from the run records (a job whose last run is an hour
// past its interval catches up once, at once, instead of waiting for
// its schedule's next time as with no state), and strata health warns
// of the file set aside until it is removed.
func TestDaemonSetsAsideDamagedJobsFile(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, `jobs:
  - name: app-hourly
    source: app
    tier: hourly
    schedule: "@every 1h"
`)
	st, err := state.Open(e.stateDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-2 * time.Hour)
	run, err := st.StartRun(state.Run{Job: "app-hourly", Kind: "backup", Due: start, Trigger: "schedule", Start: start})
	if err != nil {
		t.Fatal(err)
	}
	run.End, run.Result = start.Add(time.Minute), state.Succeeded
	if err := st.FinishRun(run); err != nil {
		t.Fatal(err)
	}
	jobsFile := filepath.Join(e.stateDir, "jobs.json")
	garbage := []byte("{\"version\": 1, \"jobs\": {\x00")
	if err := os.WriteFile(jobsFile, garbage, 0o600); err != nil {
		t.Fatal(err)
	}

	p := e.startDaemon()
	p.waitFor("a catch-up run", func() bool { return len(e.ended("app-hourly", state.Succeeded)) >= 2 })
	p.stop()
	if b, err := os.ReadFile(jobsFile + ".damaged"); err != nil || string(b) != string(garbage) {
		t.Fatalf("jobs.json set aside: %q, %v", b, err)
	}
	runs := e.ended("app-hourly", state.Succeeded)
	if len(runs) != 2 || runs[0].Trigger != "catch-up" {
		t.Fatalf("want one catch-up run after the recorded one, got %+v", runs)
	}
	if log := p.log.String(); !strings.Contains(log, "jobs.json was damaged and is set aside") || !strings.Contains(log, jobsFile+".damaged") {
		t.Fatalf("the daemon's log does not name the damaged jobs.json:\n%s", log)
	}
	out, _ := e.c.code(1, "health", "--config", e.config)
	if !strings.Contains(out, "holds damaged files it set aside: jobs.json.damaged") {
		t.Fatalf("health does not warn of the file set aside:\n%s", out)
	}
	if err := os.Remove(jobsFile + ".damaged"); err != nil {
		t.Fatal(err)
	}
	if out, _ := e.c.code(0, "health", "--config", e.config); strings.Contains(out, "set aside") {
		t.Fatalf("health still warns once the file is removed:\n%s", out)
	}
}
