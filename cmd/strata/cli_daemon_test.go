package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"strata/repo"
	"strata/service/state"
)

// TestDaemonBacksUpOnSchedule: the daemon backs a SQLite database up
// every 2 s into snapshots of the job's tier, records each run with its
// snapshot and log, runs the success hook with the STRATA_* variables
// and no password, stops on SIGTERM with exit 0, and check passes.
func TestDaemonBacksUpOnSchedule(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, "")
	hookOut := filepath.Join(e.dir, "hook.env")
	e.writeAppConfig(`jobs:
  - name: app-hourly
    source: app
    tier: hourly
    schedule: "@every 2s"
    hooks:
      success:
        - command: 'env | grep -E "^(STRATA|PGPASSWORD)" | sort > ` + hookOut + `.tmp && mv ` + hookOut + `.tmp ` + hookOut + `'
`)
	p := e.startDaemon()
	p.waitFor("two snapshots", func() bool { return len(e.ended("app-hourly", state.Succeeded)) >= 2 })
	p.stop()
	sns := e.c.snapshots()
	runs := e.ended("app-hourly", state.Succeeded)
	if len(sns) < 2 || len(sns) < len(runs) {
		t.Fatalf("%d snapshots, %d successful runs", len(sns), len(runs))
	}
	var ids []string
	for _, sn := range sns {
		ids = append(ids, sn.ID)
		if sn.Tier != "hourly" {
			t.Fatalf("snapshot %s of tier %q", sn.ID, sn.Tier)
		}
	}
	for _, r := range runs {
		if !slices.Contains(ids, r.Snapshot) || !strings.Contains(r.Log, "snapshot") || r.End.Before(r.Start) {
			t.Fatalf("run %+v: snapshot not in %v", r, ids)
		}
	}
	env := string(readFile(t, hookOut))
	for _, want := range []string{"STRATA_JOB=app-hourly\n", "STRATA_TIER=hourly\n", "STRATA_KIND=backup\n", "STRATA_SOURCE=app\n",
		"STRATA_REPOSITORY=" + e.c.repo + "\n", "STRATA_RESULT=succeeded\n", "STRATA_SNAPSHOT="} {
		if !strings.Contains(env, want) {
			t.Errorf("hook environment lacks %q:\n%s", want, env)
		}
	}
	if strings.Contains(env, "PASSWORD") || strings.Contains(env, "secret-pw") {
		t.Errorf("hook environment holds a password:\n%s", env)
	}
	e.c.noLocksLeft()
	e.c.ok("check")
	// The state folder's modes.
	for _, p := range []string{e.stateDir, filepath.Join(e.stateDir, "runs")} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s: %v %v", p, fi.Mode(), err)
		}
	}
	if fi, err := os.Stat(filepath.Join(e.stateDir, "jobs.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("jobs.json: %v", err)
	}
}

// TestDaemonQueuesJobsOnOneRepository: two jobs due together on one
// repository run one after the other: the hooks of one run never
// interleave with the other's.
func TestDaemonQueuesJobsOnOneRepository(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, "")
	order := filepath.Join(e.dir, "order")
	job := func(name string) string {
		return `  - name: ` + name + `
    source: app
    tier: ` + name + `
    schedule: "@every 2s"
    hooks:
      before:
        - command: 'echo start $STRATA_JOB >> ` + order + `; sleep 0.5'
      after:
        - command: 'echo end $STRATA_JOB >> ` + order + `'
`
	}
	e.writeAppConfig(`jobs:
` + job("a") + job("b"))
	p := e.startDaemon()
	p.waitFor("two runs of each job", func() bool {
		return len(e.ended("a", state.Succeeded)) >= 2 && len(e.ended("b", state.Succeeded)) >= 2
	})
	p.stop()
	lines := strings.Split(strings.TrimSpace(string(readFile(t, order))), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		start, end := lines[i], lines[i+1]
		if !strings.HasPrefix(start, "start ") || end != "end "+strings.TrimPrefix(start, "start ") {
			t.Fatalf("runs overlapped at line %d:\n%s", i+1, strings.Join(lines, "\n"))
		}
	}
	if !strings.Contains(p.log.String(), "queued behind another") {
		t.Fatalf("no job waited for the other:\n%s", p.log.String())
	}
	e.c.ok("check")
}

// TestDaemonCatchUpAndRestart: the next due time survives a restart; a
// job whose due time passed while the daemon was down (here: 10 hourly
// slots) runs once at the start, marked catch-up, and is then due at its
// schedule's next time.
func TestDaemonCatchUpAndRestart(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, `jobs:
  - name: hourly
    source: app
    tier: hourly
    schedule: "0 * * * *"
`)
	p := e.startDaemon()
	jobsFile := filepath.Join(e.stateDir, "jobs.json")
	p.waitFor("jobs.json", func() bool { _, err := os.Stat(jobsFile); return err == nil })
	p.stop()
	var saved struct {
		Version int
		Jobs    map[string]struct {
			Schedule string    `json:"schedule"`
			NextDue  time.Time `json:"next_due"`
		}
	}
	if err := json.Unmarshal(readFile(t, jobsFile), &saved); err != nil {
		t.Fatal(err)
	}
	next := saved.Jobs["hourly"].NextDue
	if want := time.Now().Truncate(time.Hour).Add(time.Hour); !next.Equal(want) && !next.Equal(want.Add(time.Hour)) {
		t.Fatalf("next due %v, want the next full hour %v", next, want)
	}
	if len(e.runs("hourly")) != 0 {
		t.Fatal("the job ran before it was due")
	}
	// The machine was off for ten hours: move the due time back.
	b := strings.Replace(string(readFile(t, jobsFile)), next.Format(time.RFC3339Nano), next.Add(-10*time.Hour).Format(time.RFC3339Nano), 1)
	if err := os.WriteFile(jobsFile, []byte(b), 0o600); err != nil {
		t.Fatal(err)
	}
	p = e.startDaemon()
	p.waitFor("the catch-up run", func() bool { return len(e.ended("hourly", state.Succeeded)) == 1 })
	time.Sleep(2 * time.Second) // time for a second run, which must not come
	p.stop()
	runs := e.runs("hourly")
	if len(runs) != 1 || runs[0].Trigger != "catch-up" || !runs[0].Due.Equal(next.Add(-10*time.Hour)) {
		t.Fatalf("runs after ten missed slots: %+v", runs)
	}
	if n := len(e.c.snapshots()); n != 1 {
		t.Fatalf("%d snapshots, want 1", n)
	}
	if err := json.Unmarshal(readFile(t, jobsFile), &saved); err != nil {
		t.Fatal(err)
	}
	if got := saved.Jobs["hourly"].NextDue; !got.After(time.Now()) || got.Minute() != 0 {
		t.Fatalf("next due after the catch-up %v", got)
	}
}

// TestDaemonSIGTERMDuringBackup: SIGTERM while a backup reads its
// source (a command still writing) aborts it: the daemon exits 0, the
// run is recorded as aborted, no lock is left, check passes, and the
// next start runs the job again.
func TestDaemonSIGTERMDuringBackup(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t, "")
	started, fast := filepath.Join(e.dir, "started"), filepath.Join(e.dir, "fast")
	e.writeConfig(`sources:
  - name: dump
    type: command
    command: 'if [ -e ` + fast + ` ]; then echo done; exit 0; fi; head -c 3000000 /dev/urandom; touch ` + started + `; sleep 60'
jobs:
  - name: dump
    source: dump
    tier: daily
    schedule: "@every 2s"
`)
	p := e.startDaemon()
	p.waitFor("the backup to read its source", func() bool { _, err := os.Stat(started); return err == nil })
	p.stop()
	runs := e.runs("dump")
	if len(runs) != 1 || runs[0].Result != state.Aborted {
		t.Fatalf("runs after SIGTERM: %+v", runs)
	}
	e.c.noLocksLeft()
	if n := len(e.c.snapshots()); n != 0 {
		t.Fatalf("%d snapshots of an aborted backup", n)
	}
	e.c.ok("check")
	if err := os.WriteFile(fast, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p = e.startDaemon()
	p.waitFor("the job run again", func() bool { return len(e.ended("dump", state.Succeeded)) >= 1 })
	p.stop()
	if r := e.ended("dump", state.Succeeded); r[len(r)-1].Trigger != "catch-up" {
		t.Fatalf("first run after the restart: %+v", r[len(r)-1])
	}
	e.c.ok("check")
}

// TestDaemonPostgres: a PostgreSQL source whose password comes from the
// environment variable strata.yaml names (the test server trusts
// loopback, so any password does); hooks do not see that variable.
func TestDaemonPostgres(t *testing.T) {
	t.Parallel()
	s := pgDB(t)
	if _, err := s.db.Exec(`CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b')`); err != nil {
		t.Fatal(err)
	}
	e := newDaemonEnv(t, "")
	e.env = []string{"SHOP_DB_PASSWORD=db-secret-4711"}
	hookEnv := filepath.Join(e.dir, "hook.env")
	e.writeConfig(`sources:
  - name: shop
    type: postgres
    dsn: ` + s.dsn + `
    password_env: SHOP_DB_PASSWORD
jobs:
  - name: shop
    source: shop
    tier: hourly
    schedule: "@every 2s"
    hooks:
      after:
        - command: 'env > ` + hookEnv + `'
`)
	p := e.startDaemon()
	p.waitFor("a snapshot", func() bool { return len(e.ended("shop", state.Succeeded)) >= 1 })
	p.stop()
	out := e.c.ok("dump", "latest", "public.t")
	if !strings.Contains(out, "a") || !strings.Contains(out, "b") {
		t.Fatalf("dump of the daemon's snapshot: %q", out)
	}
	if env := string(readFile(t, hookEnv)); strings.Contains(env, "db-secret-4711") || !strings.Contains(env, "STRATA_SOURCE=shop") {
		t.Fatalf("hook environment:\n%s", env)
	}
	e.c.ok("check")
}

// TestDaemonCheckAndAuditTrail: the daemon's check job checks the
// repository and its drill job restores the newest snapshot into a
// scratch SQLite file; its backups, checks and drills are in the audit
// trail as the CLI's are (command, job, snapshots, the check's and the
// drill's results), which strata health then reads.
func TestDaemonCheckAndAuditTrail(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, `jobs:
  - name: app
    source: app
    tier: hourly
    schedule: "@every 2s"
check:
  schedule: "@every 2s"
drill:
  schedule: "@every 2s"
`)
	p := e.startDaemon()
	p.waitFor("a backup, a check and a drill", func() bool {
		return len(e.ended("app", state.Succeeded)) >= 1 && len(e.ended("check", state.Succeeded)) >= 1 &&
			len(e.ended("drill", state.Succeeded)) >= 1
	})
	p.stop()
	check := e.ended("check", state.Succeeded)[0]
	if !strings.Contains(check.Summary, "check: 0 errors") {
		t.Fatalf("check run %+v", check)
	}
	var recs []struct {
		Command   string
		Args      []string
		Snapshots []string
		Result    struct {
			OK    bool
			Check *struct{ Errors int }
			Drill *struct {
				OK     bool
				Tables []struct{ Table string }
			}
		}
	}
	if err := json.Unmarshal([]byte(e.c.ok("audit", "--json")), &recs); err != nil {
		t.Fatal(err)
	}
	var backups, checks, drills int
	for _, r := range recs {
		if len(r.Args) == 0 || r.Args[0] != "daemon" {
			continue
		}
		switch r.Command {
		case "backup":
			backups++
			if !r.Result.OK || len(r.Snapshots) != 1 || !slices.Contains(r.Args, "app") {
				t.Fatalf("backup record %+v", r)
			}
		case "check":
			checks++
			if !r.Result.OK || r.Result.Check == nil || r.Result.Check.Errors != 0 {
				t.Fatalf("check record %+v", r)
			}
		case "verify drill":
			drills++
			if !r.Result.OK || r.Result.Drill == nil || !r.Result.Drill.OK || len(r.Result.Drill.Tables) != 2 || len(r.Snapshots) != 1 {
				t.Fatalf("drill record %+v", r)
			}
		}
	}
	if backups < 1 || checks < 1 || drills < 1 {
		t.Fatalf("%d backup, %d check and %d drill records of the daemon in %+v", backups, checks, drills, recs)
	}
	if d := e.ended("drill", state.Succeeded)[0]; !strings.Contains(d.Summary, "2 tables restored") {
		t.Fatalf("drill run %+v", d)
	}
	if out := e.c.ok("--config", e.config, "health"); !strings.Contains(out, "no errors") {
		t.Fatalf("health does not see the daemon's check:\n%s", out)
	}
	e.c.ok("check")
}

// TestDaemonLockBusyFiresFailureHook: a backup that cannot take its lock
// within repository.lock_wait (another process holds the exclusive one)
// is recorded as lock-busy and fires the failure hook with the error;
// once the lock is gone the next run succeeds.
func TestDaemonLockBusyFiresFailureHook(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, "")
	e.repoKeys = "  lock_wait: 1s\n"
	failed := filepath.Join(e.dir, "failed")
	e.writeAppConfig(`jobs:
  - name: app
    source: app
    tier: hourly
    schedule: "@every 2s"
hooks:
  failure:
    - command: 'echo "$STRATA_JOB $STRATA_RESULT $STRATA_ERROR" >> ` + failed + `'
`)
	r := e.c.openAPI(repo.Options{})
	lock, err := r.Lock(context.Background(), true, "test: a prune")
	if err != nil {
		t.Fatal(err)
	}
	p := e.startDaemon()
	p.waitFor("a lock-busy run", func() bool { return len(e.ended("app", state.LockBusy)) >= 1 })
	if err := lock.Unlock(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.waitFor("a run after the lock was released", func() bool { return len(e.ended("app", state.Succeeded)) >= 1 })
	p.stop()
	got := string(readFile(t, failed))
	if !strings.HasPrefix(got, "app lock-busy ") || !strings.Contains(got, "repository is locked") || !strings.Contains(got, "test: a prune") ||
		!strings.Contains(got, "gave up after repository.lock_wait 1s") {
		t.Fatalf("failure hook wrote %q", got)
	}
	e.c.ok("check")
}

// TestDaemonSIGHUPReloads: SIGHUP reads strata.yaml again: a job given a
// schedule then runs on it; a file that does not load leaves the jobs as
// they were.
func TestDaemonSIGHUPReloads(t *testing.T) {
	t.Parallel()
	e := newAppDaemonEnv(t, "")
	body := func(schedule string) string {
		return `jobs:
  - name: app
    source: app
    tier: hourly
` + schedule
	}
	e.writeAppConfig(body(""))
	p := e.startDaemon()
	p.waitFor("the daemon to start", func() bool { return strings.Contains(p.log.String(), "only when asked") })
	if err := os.WriteFile(e.config, []byte("version: 1\njobs: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the failed reload", func() bool { return strings.Contains(p.log.String(), "reload failed") })
	e.writeAppConfig(body(`    schedule: "@every 2s"` + "\n"))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitFor("a run on the new schedule", func() bool { return len(e.ended("app", state.Succeeded)) >= 1 })
	p.stop()
	if r := e.ended("app", state.Succeeded)[0]; r.Trigger != "schedule" {
		t.Fatalf("run %+v", r)
	}
	e.c.ok("check")
}
