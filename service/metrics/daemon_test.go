package metrics_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"strata/repo"
	"strata/service/daemon"
	"strata/service/metrics"
	"strata/service/state"
	"strata/verify"
)

// TestDaemonRunsScraped runs jobs in a real daemon (RunOnce: the same
// hooks, records and events as its loop) subscribed to a Set, and scrapes
// the Set over HTTP.
func TestDaemonRunsScraped(t *testing.T) {
	st, err := state.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	type backupReport struct{ Snapshot *repo.Snapshot } // as workflow.BackupReport
	runner := daemon.RunnerFunc(func(ctx context.Context, job daemon.Job, log *slog.Logger) (daemon.Outcome, error) {
		switch job.Name {
		case "db-hourly":
			return daemon.Outcome{Report: backupReport{&repo.Snapshot{Tier: "hourly", Summary: repo.Summary{BytesAdded: 2048, BytesRead: 1 << 20}}}}, nil
		case "db-daily":
			return daemon.Outcome{}, errors.New("connection refused")
		case "drill":
			return daemon.Outcome{Report: &verify.DrillReport{RestoreSeconds: 4.5, Tables: []verify.TableDrill{{Table: "public.orders", LoadSeconds: 3.25}}}}, nil
		}
		return daemon.Outcome{}, nil
	})
	d, err := daemon.New([]daemon.Job{
		{Name: "db-hourly", Kind: "backup", Tier: "hourly", Source: "db", Repository: "/r"},
		{Name: "db-daily", Kind: "backup", Tier: "daily", Source: "db", Repository: "/r"},
		{Name: "weekly-check", Kind: "check", Repository: "/r"},
		{Name: "drill", Kind: "drill", Repository: "/r"},
		{Name: "forget", Kind: "forget", Repository: "/r"},
	}, daemon.Options{Store: st, Runner: runner})
	if err != nil {
		t.Fatal(err)
	}
	s := metrics.New(metrics.Options{Version: "v"})
	d.Subscribe(s.Subscriber())
	for _, name := range []string{"db-hourly", "db-daily", "weekly-check", "drill", "forget"} {
		if _, err := d.RunOnce(context.Background(), name); err != nil {
			t.Fatal(err)
		}
	}
	fams := scrape(t, s)
	want(t, fams, 2048, "strata_backup_added_bytes", "job", "db-hourly", "tier", "hourly")
	want(t, fams, 1, "strata_backup_success", "job", "db-hourly", "tier", "hourly")
	want(t, fams, 0, "strata_backup_success", "job", "db-daily", "tier", "daily")
	if _, ok := value(fams, "strata_backup_last_success_timestamp_seconds", "job", "db-daily", "tier", "daily"); ok {
		t.Error("a failed run set a last success")
	}
	if v, ok := value(fams, "strata_check_last_success_timestamp_seconds"); !ok || v < 1e9 {
		t.Errorf("strata_check_last_success_timestamp_seconds = %v, %v", v, ok)
	}
	want(t, fams, 4.5, "strata_drill_restore_seconds", "table", "*")
	want(t, fams, 3.25, "strata_drill_restore_seconds", "table", "public.orders")
	want(t, fams, 1, "strata_runs_total", "job", "forget", "kind", "forget", "result", "success")
	want(t, fams, 1, "strata_runs_total", "job", "db-daily", "kind", "backup", "result", "failure")
}

// TestSetJobsDropsRemovedJobs: after SetJobs (the daemon's reload) the
// series of jobs it does not list are gone, the check's too when no check
// job is left, and a run of a removed job that ends later is not
// recorded; the listed jobs keep theirs.
func TestSetJobsDropsRemovedJobs(t *testing.T) {
	st, err := state.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	runner := daemon.RunnerFunc(func(context.Context, daemon.Job, *slog.Logger) (daemon.Outcome, error) { return daemon.Outcome{}, nil })
	jobs := []daemon.Job{
		{Name: "db-hourly", Kind: "backup", Tier: "hourly", Repository: "/r"},
		{Name: "db-daily", Kind: "backup", Tier: "daily", Repository: "/r"},
		{Name: "weekly-check", Kind: "check", Repository: "/r"},
	}
	d, err := daemon.New(jobs, daemon.Options{Store: st, Runner: runner})
	if err != nil {
		t.Fatal(err)
	}
	s := metrics.New(metrics.Options{Version: "v"})
	s.SetJobs(jobs)
	d.Subscribe(s.Subscriber())
	for _, j := range jobs {
		if _, err := d.RunOnce(context.Background(), j.Name); err != nil {
			t.Fatal(err)
		}
	}
	s.SetJobs(jobs[:1])
	if _, err := d.RunOnce(context.Background(), "db-daily"); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, s)
	want(t, fams, 1, "strata_backup_success", "job", "db-hourly", "tier", "hourly")
	for _, gone := range [][]string{
		{"strata_backup_success", "job", "db-daily"},
		{"strata_backup_last_success_timestamp_seconds", "job", "db-daily"},
		{"strata_runs_total", "job", "db-daily"},
		{"strata_runs_total", "job", "weekly-check"},
		{"strata_check_last_success_timestamp_seconds"},
	} {
		if _, ok := value(fams, gone[0], gone[1:]...); ok {
			t.Errorf("%v still reported after the job was removed", gone)
		}
	}
}
