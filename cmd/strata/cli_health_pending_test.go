package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"strata/service/health"
	"strata/service/state"
)

// TestHealthPendingAfterInstall: a fresh install (the daemon started, its
// daily job not yet due) is not critical: strata health says the job is
// pending, in text, --json and --nagios, and exits 0; once its first run
// is overdue it is critical. (Before, a job that had never run was
// critical at once, so a fresh install paged.)
func TestHealthPendingAfterInstall(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, `jobs:
  - {name: app-daily, source: app, tier: daily, schedule: "0 3 * * *"}
`)
	p := e.startDaemon()
	p.waitFor("the job's first due time in jobs.json", func() bool {
		jobs, err := state.ReadJobs(e.stateDir)
		return err == nil && !jobs["app-daily"].FirstDue.IsZero()
	})
	p.stop()
	c := e.c
	out, _ := c.code(0, "--config", e.config, "health")
	if !regexp.MustCompile(`(?m)^app-daily +0 .* pending$`).MatchString(out) || !strings.Contains(out, "note: app-daily: pending: no snapshot yet; its first run is due") {
		t.Fatalf("health of a fresh install:\n%s", out)
	}
	rep := c.healthJSON(0, "--config", e.config)
	if len(rep.Jobs) != 1 || !rep.Jobs[0].Pending || rep.Jobs[0].FirstDue == nil || rep.Jobs[0].Status != health.OK || len(rep.Findings) != 0 ||
		rep.StateFolder == nil || rep.StateFolder.Dir != e.stateDir || rep.StateFolder.Status != health.OK {
		t.Fatalf("health --json of a fresh install: %+v", rep)
	}
	if out, _ := c.code(0, "--config", e.config, "health", "--nagios"); !strings.HasPrefix(out, "STRATA OK - pending (first run not overdue): app-daily") {
		t.Fatalf("health --nagios of a fresh install: %s", out)
	}
	// Two days on: the first run is overdue.
	st, err := state.Open(e.stateDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateJobs(func(jobs map[string]state.Job) {
		j := jobs["app-daily"]
		j.FirstDue = time.Now().Add(-48 * time.Hour)
		jobs["app-daily"] = j
	}); err != nil {
		t.Fatal(err)
	}
	rep = c.healthJSON(2, "--config", e.config)
	if f := findingOf(rep, "age app-daily"); f == nil || f.Status != health.Critical || !strings.Contains(f.Message, "its first run was due") || rep.Jobs[0].Pending {
		t.Fatalf("health with the first run overdue: %+v", rep)
	}
}

// TestDaemonStateFolderUnwritable: when the daemon cannot write its state
// folder (here its runs/ is a file, which stops root too; a full disk
// does the same), a critical finding "state" is sent as unhealthy and
// shown on the dashboard, and recovered is sent once writes work again.
// (Before, the failures were only logged.)
func TestDaemonStateFolderUnwritable(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t)
	e := newAppDaemonEnv(t, `jobs:
  - {name: app, source: app, tier: hourly, schedule: "@every 1s"}
notifications:
  channels:
    - {name: ops, type: webhook, url: "`+rcv.URL+`/hook"}
`)
	token := e.withDashboardToken()
	p := e.startDaemon("--listen", "127.0.0.1:0")
	p.waitFor("a backup", func() bool { return len(e.ended("app", state.Succeeded)) > 0 })
	runs := filepath.Join(e.stateDir, "runs")
	moved := runs + ".away"
	if err := os.Rename(runs, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(runs, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	stateFinding := func(kind string) bool {
		for _, ev := range rcv.events(t)[kind] {
			if ev == "state|" {
				return true
			}
		}
		return false
	}
	p.waitFor("an unhealthy event about the state folder", func() bool { return stateFinding("unhealthy") })
	base := "http://" + regexp.MustCompile(`dashboard on http://([0-9.:]+)/`).FindStringSubmatch(p.log.String())[1]
	req, _ := http.NewRequest("GET", base+"/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "State folder") || !strings.Contains(string(page), "cannot be written") {
		t.Fatalf("the dashboard does not show the state folder failing:\n%s", page)
	}
	// Writes work again: recovered.
	if err := os.Remove(runs); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(moved, runs); err != nil {
		t.Fatal(err)
	}
	p.waitFor("a recovered event about the state folder", func() bool { return stateFinding("recovered") })
	p.stop()
	var ev map[string]any
	for _, b := range rcv.bodies {
		if json.Unmarshal(b, &ev) == nil && ev["event"] == "unhealthy" && ev["check"] == "state" {
			break
		}
	}
	if ev["severity"] != "critical" || !strings.Contains(ev["message"].(string), e.stateDir) {
		t.Fatalf("unhealthy event %v", ev)
	}
}

// TestHealthCheckDrillPendingAfterInstall: on a fresh install the check
// and drill that have never run are pending, as jobs are, until their
// first due time plus their limit: strata health --nagios says OK and
// exits 0, with a note of each; once overdue, each is a warning. (Before,
// "no check is recorded" and "no drill is recorded" were warnings at once,
// so a fresh install paged.) The Nagios line and the text's first line
// name the pending check and drill beside the pending job, as --json
// does (check.pending, pending_drills). (Before, they named the job only,
// and --json said nothing of the pending drill but in a note.)
func TestHealthCheckDrillPendingAfterInstall(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, `jobs:
  - {name: app-daily, source: app, tier: daily, schedule: "0 3 * * *"}
check:
  schedule: "0 3 * * *"
drill:
  schedule: "0 4 * * *"
`)
	p := e.startDaemon()
	p.waitFor("the check's and drill's first due times in jobs.json", func() bool {
		jobs, err := state.ReadJobs(e.stateDir)
		return err == nil && !jobs["check"].FirstDue.IsZero() && !jobs["drill"].FirstDue.IsZero()
	})
	p.stop()
	c := e.c
	rep := c.healthJSON(0, "--config", e.config)
	if rep.Check == nil || !rep.Check.Pending || rep.Check.FirstDue == nil || rep.Check.Status != health.OK || len(rep.Findings) != 0 ||
		len(rep.Jobs) != 1 || len(rep.PendingDrills) != 1 || rep.PendingDrills[0].Source != rep.Jobs[0].Source || rep.PendingDrills[0].FirstDue.IsZero() {
		t.Fatalf("health --json of a fresh install with a check and a drill: %+v", rep)
	}
	pending := "pending (first run not overdue): app-daily, check, drill of " + rep.Jobs[0].Source
	if out, _ := c.code(0, "--config", e.config, "health", "--nagios"); !strings.HasPrefix(out, "STRATA OK - "+pending+", storage ") {
		t.Fatalf("health --nagios of a fresh install with a check and a drill: %s\nwant it to start STRATA OK - %s", out, pending)
	}
	out, _ := c.code(0, "--config", e.config, "health")
	if !strings.HasPrefix(out, "OK: "+pending+", storage ") ||
		!strings.Contains(out, "note: check: pending: no check recorded yet; its first run is due") ||
		!strings.Contains(out, "pending: no drill recorded yet; its first run is due") {
		t.Fatalf("health of a fresh install with a check and a drill:\n%s", out)
	}
	// A month on: both are overdue.
	st, err := state.Open(e.stateDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateJobs(func(jobs map[string]state.Job) {
		for _, name := range []string{"check", "drill"} {
			j := jobs[name]
			j.FirstDue = time.Now().Add(-30 * 24 * time.Hour)
			jobs[name] = j
		}
	}); err != nil {
		t.Fatal(err)
	}
	out, _ = c.code(1, "--config", e.config, "health", "--nagios")
	if !strings.Contains(out, "no check is recorded") || !strings.Contains(out, "no drill is recorded") {
		t.Fatalf("health --nagios with the check and drill overdue: %s", out)
	}
}

// TestHealthPendingAfterScheduleInstall: the jobs systemd timers run
// (schedule install --systemd, no daemon) are pending after the install
// as under the daemon: their first due time is their schedule's first
// time after the install, so strata health exits 0 naming the job and
// the check pending, and once that plus the limit has passed the job is
// critical. (Before, only the daemon recorded first due times: without
// one the job was critical and the check a warning from the install on.)
func TestHealthPendingAfterScheduleInstall(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, `jobs:
  - {name: app-daily, source: app, tier: daily, schedule: "0 3 * * *"}
check:
  schedule: "0 4 * * *"
`)
	c := e.c
	installed := time.Now()
	out, _ := c.code(0, "--config", e.config, "schedule", "install", "--systemd", "--user", "--unit-dir", filepath.Join(t.TempDir(), "units"))
	if !strings.Contains(out, "recorded each job's first due time in "+e.stateDir) {
		t.Fatalf("install said nothing of the first due times:\n%s", out)
	}
	rep := c.healthJSON(0, "--config", e.config)
	if len(rep.Jobs) != 1 || !rep.Jobs[0].Pending || rep.Jobs[0].FirstDue == nil || len(rep.Findings) != 0 || rep.Check == nil || !rep.Check.Pending {
		t.Fatalf("health --json after schedule install: %+v", rep)
	}
	// The schedule's first 03:00 UTC after the install.
	if fd := rep.Jobs[0].FirstDue.UTC(); fd.Hour() != 3 || fd.Minute() != 0 || !fd.After(installed) || fd.After(installed.Add(24*time.Hour)) {
		t.Fatalf("first due %v after an install at %v, want the next 03:00 UTC", fd, installed.UTC())
	}
	if out, _ := c.code(0, "--config", e.config, "health", "--nagios"); !strings.HasPrefix(out, "STRATA OK - pending (first run not overdue): app-daily, check") {
		t.Fatalf("health --nagios after schedule install: %s", out)
	}
	// Two days on: the first run is overdue.
	st, err := state.Open(e.stateDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateJobs(func(jobs map[string]state.Job) {
		j := jobs["app-daily"]
		j.FirstDue = time.Now().Add(-48 * time.Hour)
		jobs["app-daily"] = j
	}); err != nil {
		t.Fatal(err)
	}
	rep = c.healthJSON(2, "--config", e.config)
	if f := findingOf(rep, "age app-daily"); f == nil || f.Status != health.Critical || rep.Jobs[0].Pending {
		t.Fatalf("health with the first run overdue: %+v", rep)
	}
}
