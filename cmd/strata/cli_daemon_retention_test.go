package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"strata/service/state"
)

// TestDaemonAppliesRetention: with retention.schedule the daemon applies
// strata.yaml's policy and prunes (workflow.Forget, in its process)
// while backups go on: snapshots beyond keep_last are removed, the run's
// record says what forget removed and prune freed, forget's audit record
// carries no secret, and check passes after it. (The daemon's forget job
// failed on every slot before: "does not apply the retention policy
// yet".)
func TestDaemonAppliesRetention(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, `jobs:
  - name: app
    source: app
    tier: hourly
    schedule: "@every 2s"
retention:
  keep_last: 2
  keep_safety: "0"
  schedule: "@every 3s"
  prune: true
`)
	p := e.startDaemon()
	// forget runs every 3 s; the first may come before there are more
	// than two snapshots to judge.
	removedSome := regexp.MustCompile(`^forget: removed [1-9][0-9]* of [0-9]+ snapshots, kept 2; freed: `)
	p.waitFor("a forget run that removed snapshots", func() bool {
		for _, r := range e.ended("forget", state.Succeeded) {
			if removedSome.MatchString(r.Summary) {
				return true
			}
		}
		return false
	})
	p.stop()
	backups := e.ended("app", state.Succeeded)
	sns := e.c.snapshots()
	if len(sns) >= len(backups) {
		t.Fatalf("%d snapshots after %d backups: forget removed none", len(sns), len(backups))
	}
	for _, r := range e.ended("forget", state.Succeeded) {
		if !strings.Contains(r.Log, "policy: from "+e.config+" (--keep-last 2 --keep-safety 0h)") {
			t.Fatalf("forget run did not take strata.yaml's policy:\n%s", r.Log)
		}
	}
	var recs []struct {
		Command string
		Args    []string
	}
	if err := json.Unmarshal([]byte(e.c.ok("audit", "--json", "--command", "forget")), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		t.Fatal("forget left no audit record")
	}
	for _, r := range recs {
		if a := strings.Join(r.Args, " "); !strings.Contains(a, "--prune") || strings.Contains(a, "secret") {
			t.Fatalf("forget's audit record args %q", a)
		}
	}
	e.c.noLocksLeft()
	e.c.ok("check")
}

// TestDaemonRetentionAfterBackup: a retention section without a schedule
// is applied after every successful backup, as the job "forget" whose
// runs say they followed one (trigger "after"). Before, the daemon
// applied no retention without retention.schedule and the snapshots
// piled up.
func TestDaemonRetentionAfterBackup(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, `jobs:
  - name: app
    source: app
    tier: hourly
    schedule: "@every 1s"
retention:
  keep_last: 2
  keep_safety: "0"
`)
	p := e.startDaemon()
	removedSome := regexp.MustCompile(`^forget: removed [1-9][0-9]* of [0-9]+ snapshots, kept 2$`)
	p.waitFor("a forget after a backup that removed snapshots", func() bool {
		for _, r := range e.ended("forget", state.Succeeded) {
			if r.Trigger == "after" && removedSome.MatchString(r.Summary) {
				return true
			}
		}
		return false
	})
	p.stop()
	for _, r := range e.runs("forget") {
		if r.Trigger != "after" {
			t.Fatalf("forget run %s triggered by %q, want after", r.ID, r.Trigger)
		}
	}
	// The last backup may have ended after the last forget: at most one
	// snapshot beyond keep_last.
	if n := len(e.c.snapshots()); n > 3 {
		t.Fatalf("%d snapshots after backups each followed by forget with keep_last 2", n)
	}
	e.c.noLocksLeft()
	e.c.ok("check")
}

// TestScheduleRunAppliesRetention: with systemd timers (strata schedule
// run) a retention section without a schedule is applied after each
// successful backup too, and install says so instead of offering the
// forget job a timer of its own.
func TestScheduleRunAppliesRetention(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, `jobs:
  - {name: app-daily, source: app, tier: daily, schedule: "30 1 * * *"}
retention:
  keep_last: 1
  keep_safety: "0"
`)
	c := e.c
	units := t.TempDir()
	_, errOut := c.code(0, "--config", e.config, "schedule", "install", "--systemd", "--user", "--unit-dir", units)
	if !strings.Contains(errOut, "job forget runs after each successful run of app-daily") {
		t.Fatalf("install said nothing of the forget job that follows the backups:\n%s", errOut)
	}
	for range 2 {
		c.ok("--config", e.config, "schedule", "run", "app-daily")
	}
	if n := len(c.snapshots()); n != 1 {
		t.Fatalf("%d snapshots after two scheduled backups with keep_last 1, want 1", n)
	}
	runs := e.ended("forget", state.Succeeded)
	if len(runs) != 2 || runs[0].Trigger != "after" || !strings.HasPrefix(runs[0].Summary, "forget: removed 1 of 2 snapshots, kept 1") {
		t.Fatalf("forget runs %+v", runs)
	}
	out := c.ok("--config", e.config, "schedule", "status", "--unit-dir", units)
	if !regexp.MustCompile(`forget +forget +after each success of app-daily`).MatchString(out) {
		t.Fatalf("status:\n%s", out)
	}
	c.ok("check")
}
