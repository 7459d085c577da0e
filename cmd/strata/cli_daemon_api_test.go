package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"strata/service/state"
)

// TestDaemonListen: --listen serves the JSON API and /metrics behind the
// dashboard's token; "run now" of a job without a schedule runs it.
func TestDaemonListen(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, `jobs:
  - name: manual
    source: app
    tier: daily
`)
	token := e.withDashboardToken()
	p := e.startDaemon("--listen", "127.0.0.1:0")
	addr := regexp.MustCompile(`dashboard on http://([0-9.:]+)/`)
	var base string
	p.waitFor("the dashboard's address", func() bool {
		m := addr.FindStringSubmatch(p.log.String())
		if m != nil {
			base = "http://" + m[1]
		}
		return m != nil
	})
	do := func(method, path string, auth bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, path := range []string{"/api/jobs", "/metrics"} {
		if code, _ := do("GET", path, false); code != http.StatusUnauthorized {
			t.Fatalf("GET %s without the token: %d, want 401", path, code)
		}
	}
	if code, _ := do("POST", "/api/jobs/manual/run", false); code == http.StatusAccepted {
		t.Fatal("run now without the token was accepted")
	}
	// The raw keys, as README lists them: snake_case like /api/runs's
	// (they were Go's field names, "Name", "Waiting").
	code, body := do("GET", "/api/jobs", true)
	var jobs []map[string]any
	if err := json.Unmarshal([]byte(body), &jobs); code != 200 || err != nil || len(jobs) != 1 || jobs[0]["name"] != "manual" {
		t.Fatalf("GET /api/jobs: %d %v\n%s", code, err, body)
	}
	want := map[string]any{"name": "manual", "kind": "backup", "tier": "daily", "source": "app", "queued": false, "running": false, "waiting": false}
	for k, v := range want {
		if jobs[0][k] != v {
			t.Errorf("GET /api/jobs: %s is %v, want %v\n%s", k, jobs[0][k], v, body)
		}
	}
	for k := range jobs[0] {
		if _, ok := want[k]; !ok && k != "repository" {
			t.Errorf("GET /api/jobs: key %q, not one README lists\n%s", k, body)
		}
	}
	if code, body := do("POST", "/api/jobs/manual/run", true); code != http.StatusAccepted {
		t.Fatalf("run now: %d %s", code, body)
	}
	p.waitFor("the run", func() bool { return len(e.ended("manual", state.Succeeded)) == 1 })
	run := e.ended("manual", state.Succeeded)[0]
	if run.Trigger != "now" {
		t.Fatalf("run %+v", run)
	}
	code, body = do("GET", "/api/runs/"+run.ID, true)
	if code != 200 || !strings.Contains(body, run.Snapshot) || !strings.Contains(body, `"log"`) {
		t.Fatalf("GET /api/runs/ID: %d\n%s", code, body)
	}
	code, body = do("GET", "/metrics", true)
	if code != 200 {
		t.Fatalf("GET /metrics: %d\n%s", code, body)
	}
	p2 := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p2.TextToMetricFamilies(bufio.NewReader(strings.NewReader(body)))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	f := fams["strata_backup_last_success_timestamp_seconds"]
	if f == nil || len(f.Metric) != 1 || f.Metric[0].GetGauge().GetValue() < float64(run.End.Unix()-1) {
		t.Fatalf("strata_backup_last_success_timestamp_seconds: %v", f)
	}
	if s := fams["strata_snapshots"]; s == nil || len(s.Metric) != 1 || s.Metric[0].GetGauge().GetValue() != 1 {
		t.Fatalf("strata_snapshots: %v", s)
	}
	p.stop()
	e.c.ok("check")
}

// TestScheduleInstallRunRemove: schedule install writes a service and a
// timer per scheduled job and prints the systemctl commands; schedule
// run runs a job now, recorded in the state folder; status shows it;
// remove removes the units.
func TestScheduleInstallRunRemove(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, `jobs:
  - name: app-daily
    source: app
    tier: daily
    schedule: "30 1 * * *"
    timezone: Europe/Berlin
  - name: manual
    source: app
check:
  schedule: "0 6 * * 1-5"
`)
	units := filepath.Join(t.TempDir(), "units")
	c := e.c
	out, errOut := c.code(0, "--config", e.config, "schedule", "install", "--systemd", "--user", "--unit-dir", units)
	for _, want := range []string{"systemctl --user daemon-reload", "systemctl --user enable --now strata-app-daily.timer strata-check.timer"} {
		if !strings.Contains(out, want) {
			t.Fatalf("install printed no %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "job manual has no schedule") {
		t.Fatalf("install said nothing of the job without a schedule:\n%s", errOut)
	}
	timer := string(readFile(t, filepath.Join(units, "strata-app-daily.timer")))
	service := string(readFile(t, filepath.Join(units, "strata-app-daily.service")))
	if !strings.Contains(timer, "OnCalendar=*-*-* 01:30:00 Europe/Berlin\n") || !strings.Contains(service, " schedule run --config "+e.config+" app-daily\n") {
		t.Fatalf("units:\n%s\n%s", timer, service)
	}
	if check := string(readFile(t, filepath.Join(units, "strata-check.timer"))); !strings.Contains(check, "OnCalendar=Mon..Fri *-*-* 06:00:00 UTC\n") {
		t.Fatalf("check timer:\n%s", check)
	}
	c.ok("--config", e.config, "schedule", "run", "app-daily")
	runs := e.ended("app-daily", state.Succeeded)
	sns := c.snapshots()
	if len(runs) != 1 || len(sns) != 1 || runs[0].Snapshot != sns[0].ID || sns[0].Tier != "daily" {
		t.Fatalf("runs %+v, snapshots %+v", runs, sns)
	}
	out = c.ok("--config", e.config, "schedule", "status", "--unit-dir", units)
	// Times with their zone, as every other command shows them (they were
	// local times without one).
	const when = `\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ([A-Z]{2,5}|[+-]\d\d(\d\d)?)`
	if !regexp.MustCompile(`app-daily +backup +30 1 \* \* \* +strata-app-daily.timer +` + when + ` +succeeded +` + when + `\n`).MatchString(out) {
		t.Fatalf("status:\n%s", out)
	}
	out = c.ok("--config", e.config, "schedule", "remove", "--user", "--unit-dir", units)
	if !strings.Contains(out, "systemctl --user disable --now strata-app-daily.service strata-app-daily.timer strata-check.service strata-check.timer") {
		t.Fatalf("remove:\n%s", out)
	}
	if left, _ := os.ReadDir(units); len(left) != 0 {
		t.Fatalf("units left: %v", left)
	}
	// A failed job: schedule run exits 1 and says why.
	if err := os.Remove(e.db); err != nil {
		t.Fatal(err)
	}
	_, errOut = c.code(1, "--config", e.config, "schedule", "run", "app-daily")
	if !strings.Contains(errOut, "job app-daily: failed") {
		t.Fatalf("failed run: %s", errOut)
	}
}

// TestDaemonListenFromConfig: the daemon serves on strata.yaml's
// dashboard.listen without --listen (it served nothing before), and
// --listen wins over it.
func TestDaemonListenFromConfig(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, "")
	token := e.withDashboardToken()
	// An address in use: a daemon that honours the file cannot listen.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	config := func(listen string) {
		e.writeAppConfig("jobs:\n  - {name: manual, source: app, tier: daily}\ndashboard:\n  listen: \"" + listen + "\"\n")
	}
	config(busy.Addr().String())
	p := e.startDaemon()
	select {
	case err := <-p.exited:
		if err == nil || !strings.Contains(p.log.String(), busy.Addr().String()) {
			t.Fatalf("daemon with dashboard.listen on a busy address: %v\n%s", err, p.log.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("daemon still running with dashboard.listen on a busy address:\n%s", p.log.String())
	}
	// --listen wins over the file.
	p = e.startDaemon("--listen", "127.0.0.1:0")
	addr := regexp.MustCompile(`dashboard on http://([0-9.:]+)/`)
	p.waitFor("the dashboard's address", func() bool { return addr.MatchString(p.log.String()) })
	if got := addr.FindStringSubmatch(p.log.String())[1]; got == busy.Addr().String() {
		t.Fatalf("--listen 127.0.0.1:0 served on the file's %s", got)
	}
	p.stop()
	// The file's free address: served there.
	config("127.0.0.1:0")
	p = e.startDaemon()
	var base string
	p.waitFor("the dashboard's address", func() bool {
		if m := addr.FindStringSubmatch(p.log.String()); m != nil {
			base = "http://" + m[1]
		}
		return base != ""
	})
	req, _ := http.NewRequest("GET", base+"/api/jobs", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/jobs on dashboard.listen: %d", resp.StatusCode)
	}
	p.stop()
}
