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
	db, _ := sqliteApp(t)
	e := newDaemonEnv(t, "")
	prom := filepath.Join(e.dir, "textfile", "strata.prom")
	if err := os.MkdirAll(filepath.Dir(prom), 0o755); err != nil {
		t.Fatal(err)
	}
	e.writeConfig(`sources:
  - {name: app, type: sqlite, dsn: "sqlite://` + db + `"}
jobs:
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
