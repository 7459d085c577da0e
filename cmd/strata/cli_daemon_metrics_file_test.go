package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/service/state"
)

// TestDaemonMetricsFile: strata.yaml's metrics: file is written by the
// daemon after each run (node_exporter's textfile collector reads it
// while the daemon runs), not only when the daemon stops.
func TestDaemonMetricsFile(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, "")
	prom := filepath.Join(e.dir, "textfile", "strata.prom")
	if err := os.MkdirAll(filepath.Dir(prom), 0o755); err != nil {
		t.Fatal(err)
	}
	e.writeAppConfig(`jobs:
  - {name: app-hourly, source: app, tier: hourly, schedule: "@every 1s"}
metrics:
  file: ` + prom + `
`)
	p := e.startDaemon()
	defer p.stop()
	want := `strata_backup_last_success_timestamp_seconds{job="app-hourly",tier="hourly"}`
	p.waitFor("two backups", func() bool { return len(e.ended("app-hourly", state.Succeeded)) >= 2 })
	b, err := os.ReadFile(prom)
	if err != nil || !strings.Contains(string(b), want) {
		t.Fatalf("after two backups the daemon's metrics file has no %s (%v):\n%s", want, err, b)
	}
}

// TestScheduleRunMetricsFile: strata schedule run JOB, what systemd's
// timers run, leaves the job's backup in metrics: file beside the
// command's own series.
func TestScheduleRunMetricsFile(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, "")
	prom := filepath.Join(e.dir, "strata.prom")
	e.writeAppConfig(`jobs:
  - {name: app-daily, source: app, tier: daily}
metrics:
  file: ` + prom + `
`)
	e.c.ok("--config", e.config, "schedule", "run", "app-daily")
	b, err := os.ReadFile(prom)
	for _, want := range []string{`strata_backup_last_success_timestamp_seconds{job="app-daily",tier="daily"}`, `strata_command_success{command="schedule run"} 1`} {
		if err != nil || !strings.Contains(string(b), want) {
			t.Fatalf("metrics file after schedule run has no %s (%v):\n%s", want, err, b)
		}
	}
}

// TestMetricsFileDropsRemovedJob: a job renamed in strata.yaml (app-daily
// to app-nightly) leaves the metrics file at the next write of a command
// reading the file, as it leaves the daemon's: its last success would
// otherwise stay in the file, age, and alert for ever. A backup outside
// any job (labelled by its source) stays. Before, the old job's series stayed.
func TestMetricsFileDropsRemovedJob(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, "")
	prom := filepath.Join(e.dir, "strata.prom")
	write := func(job string) {
		e.writeAppConfig(`jobs:
  - {name: ` + job + `, source: app, tier: daily}
metrics:
  file: ` + prom + `
`)
	}
	write("app-daily")
	e.c.ok("--config", e.config, "schedule", "run", "app-daily")
	e.c.ok("--metrics-file", prom, "backup", "--db", "sqlite://"+e.db)
	write("app-nightly")
	e.c.ok("--config", e.config, "schedule", "run", "app-nightly")
	b, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `job="app-daily"`) {
		t.Errorf("the metrics file still has the renamed job's series:\n%s", b)
	}
	for _, want := range []string{`strata_backup_last_success_timestamp_seconds{job="app-nightly",tier="daily"}`, `strata_backup_last_success_timestamp_seconds{job="sqlite://` + e.db + `",tier=""}`, `strata_job_configured{job="app-nightly"} 1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the metrics file has no %s:\n%s", want, b)
		}
	}
}
