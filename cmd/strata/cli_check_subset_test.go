package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"strata/repo/audit"
	"strata/service/state"
)

// TestCheckSubsetRecorded: what a check read of the packs' data, all of
// it or a subset, is recorded and shown: the daemon's check job with
// read_data_subset in its run record (read_data_subset, the summary),
// the dashboard's run history, GET /api/runs and the overview's last
// check; in the audit record of the daemon's check and of strata check
// --read-data-subset (result.check.read_data_subset, format version 3;
// the daemon's command line names the flag); in strata audit and in
// strata health's last check ("read data 10%"). Before, a 1/10 subset
// could not be told from a check of the structure alone anywhere but in
// the CLI's command line.
func TestCheckSubsetRecorded(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, `jobs:
  - name: app
    source: app
    tier: daily
check:
  schedule: "@every 1s"
  read_data_subset: "10%"
`)
	c := e.c
	c.ok("--config", e.config, "schedule", "run", "app")
	token := e.withDashboardToken()
	p := e.startDaemon("--listen", "127.0.0.1:0")
	base := p.dashboardURL()
	p.waitFor("a check run", func() bool { return len(e.ended("check", state.Succeeded)) > 0 })
	run := e.ended("check", state.Succeeded)[0]
	if run.ReadDataSubset != "10%" || run.ReadData || !strings.Contains(run.Summary, "check (read data 10%): 0 errors") {
		t.Fatalf("the check's run record: %+v", run)
	}
	get := func(path string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	var apiRuns []map[string]any
	if body := get("/api/runs?job=check&limit=1"); json.Unmarshal([]byte(body), &apiRuns) != nil || len(apiRuns) != 1 || apiRuns[0]["read_data_subset"] != "10%" {
		t.Errorf("GET /api/runs has no read_data_subset:\n%s", body)
	}
	if body := get("/runs?job=check"); !strings.Contains(body, "check (read data 10%)") {
		t.Errorf("the run history does not say the check read 10%%:\n%s", body)
	}
	if body := get("/runs/" + run.ID); !regexp.MustCompile(`<dt>Data</dt><dd>read data 10%</dd>`).MatchString(body) {
		t.Errorf("the run's page does not say the check read 10%%:\n%s", body)
	}
	if body := get("/"); !regexp.MustCompile(`Last check</dt><dd>[^<]*read data 10%, no errors`).MatchString(body) {
		t.Errorf("the overview's last check does not say it read 10%%:\n%s", body)
	}
	p.stop()

	var daemonCheck *audit.Record
	for _, rec := range c.auditRecords("--command", "check") {
		if slices.Contains(rec.Args, "daemon") {
			daemonCheck = rec
		}
	}
	if daemonCheck == nil || daemonCheck.Version != audit.Version3 || daemonCheck.Result.Check == nil || daemonCheck.Result.Check.ReadDataSubset != "10%" ||
		!slices.Contains(daemonCheck.Args, "--read-data-subset") {
		t.Fatalf("the daemon's check record: %+v", daemonCheck)
	}
	if out := c.ok("audit", "--command", "check"); !strings.Contains(out, "--job check --read-data-subset 10%") {
		t.Errorf("strata audit does not show the daemon's check's subset:\n%s", out)
	}
	lastCheck := func() string {
		t.Helper()
		out, errOut, _ := c.run("health", "--config", e.config)
		line := regexp.MustCompile(`(?m)^last check: .*$`).FindString(out)
		if line == "" {
			t.Fatalf("health has no last check:\n%s\n%s", out, errOut)
		}
		return line
	}
	if line := lastCheck(); !strings.HasSuffix(line, "ago), read data 10%, no errors") {
		t.Errorf("health: %q, want the 10%% read", line)
	}

	// The CLI's check likewise, and a full read is told from both.
	for _, tt := range []struct {
		flags []string
		read  string
	}{
		{[]string{"--read-data-subset", "1/10"}, "read data 1/10"},
		{[]string{"--read-data"}, "read all data"},
	} {
		c.ok(append([]string{"check"}, tt.flags...)...)
		recs := c.auditRecords("--command", "check")
		ch := recs[len(recs)-1].Result.Check
		if ch == nil || (ch.ReadDataSubset != "") != (tt.flags[0] == "--read-data-subset") || ch.ReadData != (tt.flags[0] == "--read-data") {
			t.Errorf("check %v: its audit record's result: %+v", tt.flags, ch)
		}
		if line := lastCheck(); !strings.HasSuffix(line, "ago), "+tt.read+", no errors") {
			t.Errorf("check %v: health: %q, want %q", tt.flags, line, tt.read)
		}
	}
}
