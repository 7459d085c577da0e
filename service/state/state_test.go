package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunsRoundTripAndOrder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := Open(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 5 {
		for _, job := range []string{"hourly", "hourly-db"} {
			r, err := s.StartRun(Run{Job: job, Kind: "backup", Due: t0, Start: t0.Add(time.Duration(i) * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if r.Result != Running {
				t.Fatalf("started run has result %q", r.Result)
			}
			r.End, r.Result, r.Snapshot, r.Log = r.Start.Add(time.Minute), Succeeded, fmt.Sprint("snap", i), "log of "+job
			if err := s.FinishRun(r); err != nil {
				t.Fatal(err)
			}
			if job == "hourly" {
				ids = append(ids, r.ID)
			}
		}
	}
	runs, err := s.Runs("hourly", 0)
	if err != nil {
		t.Fatal(err)
	}
	// keepRuns 3: the newest three, newest first, and only hourly's.
	if len(runs) != 3 || runs[0].ID != ids[4] || runs[2].ID != ids[2] {
		t.Fatalf("runs of hourly: %+v, want %v", runs, ids[2:])
	}
	for _, r := range runs {
		if r.Job != "hourly" || r.Result != Succeeded || r.Duration() != time.Minute {
			t.Fatalf("run %+v", r)
		}
	}
	if all, _ := s.Runs("", 0); len(all) != 6 {
		t.Fatalf("all runs: %d, want 6", len(all))
	}
	jobs, err := s.Jobs()
	if err != nil || jobs["hourly"].LastRun != ids[4] {
		t.Fatalf("jobs %+v, %v", jobs, err)
	}
	for _, p := range []string{dir, filepath.Join(dir, "runs")} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s: %v %v, want 0700", p, fi.Mode(), err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "runs"))
	for _, e := range entries {
		fi, _ := e.Info()
		if fi.Mode().Perm() != 0o600 || strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("%s: %v", e.Name(), fi.Mode())
		}
	}
}

func TestNextDueSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, 0)
	due := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	if err := s.SetJob("daily", Job{Schedule: "0 3 * * *", NextDue: due}); err != nil {
		t.Fatal(err)
	}
	s2, _ := Open(dir, 0)
	jobs, err := s2.Jobs()
	if err != nil || !jobs["daily"].NextDue.Equal(due) || jobs["daily"].Schedule != "0 3 * * *" {
		t.Fatalf("%+v %v", jobs, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "jobs.json")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("jobs.json mode %v", fi.Mode())
	}
}

func TestMarkInterrupted(t *testing.T) {
	s, _ := Open(t.TempDir(), 0)
	now := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	r, _ := s.StartRun(Run{Job: "hourly", Due: now, Start: now})
	done, _ := s.StartRun(Run{Job: "daily", Due: now, Start: now})
	done.Result, done.End = Failed, now
	_ = s.FinishRun(done)
	marked, err := s.MarkInterrupted(now.Add(time.Hour))
	if err != nil || len(marked) != 1 || marked[0].ID != r.ID {
		t.Fatalf("marked %+v, %v", marked, err)
	}
	got, _ := s.Run(r.ID)
	if got.Result != Interrupted || !got.End.Equal(now.Add(time.Hour)) || got.Error == "" {
		t.Fatalf("%+v", got)
	}
	if d, _ := s.Run(done.ID); d.Result != Failed {
		t.Fatalf("finished run changed: %+v", d)
	}
}

// A damaged record is named in the error and the others still listed.
func TestDamagedRecordNamed(t *testing.T) {
	s, _ := Open(t.TempDir(), 0)
	now := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	a, _ := s.StartRun(Run{Job: "j", Due: now, Start: now})
	b, _ := s.StartRun(Run{Job: "j", Due: now, Start: now.Add(time.Second)})
	if err := os.WriteFile(s.runPath(a.ID), []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs("j", 0)
	if len(runs) != 1 || runs[0].ID != b.ID || err == nil || !strings.Contains(err.Error(), a.ID) {
		t.Fatalf("runs %+v, err %v", runs, err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), "jobs.json"), []byte(`{"version":9}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Jobs(); err == nil || !strings.Contains(err.Error(), "jobs.json") {
		t.Fatalf("damaged jobs.json: %v", err)
	}
}

func TestCutLog(t *testing.T) {
	log := strings.Repeat("a", 100) + strings.Repeat("b", 100)
	got := cutLog(log, 50)
	if !strings.HasPrefix(got, strings.Repeat("a", 25)+"\n") || !strings.HasSuffix(got, "\n"+strings.Repeat("b", 25)) || !strings.Contains(got, "150 bytes") {
		t.Fatalf("%q", got)
	}
	if cutLog("short", 50) != "short" {
		t.Fatal("short log changed")
	}
}

func FuzzDecodeRun(f *testing.F) {
	b, _ := encodeRun(Run{ID: "x", Job: "j", Result: Failed, Error: "e", Log: "l"})
	f.Add(b)
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRun(b)
		if err != nil {
			return
		}
		b2, err := encodeRun(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeRun(b2); err != nil {
			t.Fatalf("re-encoded run does not decode: %v", err)
		}
	})
}

func FuzzDecodeJobs(f *testing.F) {
	b, _ := encodeJobs(map[string]Job{"daily": {Schedule: "0 3 * * *", NextDue: time.Unix(1e9, 0)}})
	f.Add(b)
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		jobs, err := DecodeJobs(b)
		if err != nil {
			return
		}
		b2, err := encodeJobs(jobs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeJobs(b2); err != nil {
			t.Fatalf("re-encoded jobs do not decode: %v", err)
		}
	})
}

func TestLockDaemon(t *testing.T) {
	dir := t.TempDir()
	a, _ := Open(dir, 0)
	b, _ := Open(dir, 0)
	unlock, err := a.LockDaemon()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.LockDaemon(); !errors.Is(err, ErrDaemonRunning) || !strings.Contains(err.Error(), fmt.Sprint(os.Getpid())) {
		t.Fatalf("second daemon: %v", err)
	}
	unlock()
	unlock2, err := b.LockDaemon()
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock2()
}

// TestFailingAndRecovery: a change that cannot be written is remembered
// (since its first failure) until one succeeds; Probe finds the same
// from another process; ReadJobs reads without creating anything.
func TestFailingAndRecovery(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Failing(); err != nil {
		t.Fatalf("a new store is failing: %v", err)
	}
	// runs/ a file: no record can be written there (as root too).
	runs := filepath.Join(dir, "runs")
	if err := os.Remove(runs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(runs, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if _, err := s.StartRun(Run{Job: "a", Start: t0}); err == nil {
		t.Fatal("StartRun succeeded with runs/ a file")
	}
	since, ferr := s.Failing()
	if ferr == nil || since.Before(t0) || !strings.Contains(ferr.Error(), "job a") {
		t.Fatalf("Failing after a failed write: %v since %v", ferr, since)
	}
	if _, err := s.StartRun(Run{Job: "b", Start: t0.Add(time.Second)}); err == nil {
		t.Fatal("second StartRun succeeded")
	}
	if again, _ := s.Failing(); !again.Equal(since) {
		t.Fatalf("failing since %v, then %v: the streak's start moved", since, again)
	}
	// jobs.json can be written: the run records still cannot.
	if err := s.SetJob("a", Job{Schedule: "@daily"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Failing(); err == nil {
		t.Fatal("a write of jobs.json ended the failure of the run records")
	}
	if err := Probe(filepath.Join(dir, "nope")); err != nil {
		t.Fatalf("Probe of a missing folder: %v", err)
	}
	if err := Probe(runs); err == nil {
		t.Fatal("Probe of a folder that cannot be written succeeded")
	}
	if err := os.Remove(runs); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(runs, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartRun(Run{Job: "a", Start: t0.Add(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Failing(); err != nil {
		t.Fatalf("still failing after a write succeeded: %v", err)
	}
	if err := Probe(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.SetJob("a", Job{Schedule: "@daily", NextDue: t0, FirstDue: t0}); err != nil {
		t.Fatal(err)
	}
	jobs, err := ReadJobs(dir)
	if err != nil || !jobs["a"].FirstDue.Equal(t0) {
		t.Fatalf("ReadJobs: %+v, %v", jobs, err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	if jobs, err := ReadJobs(missing); err != nil || len(jobs) != 0 {
		t.Fatalf("ReadJobs of a missing folder: %v, %v", jobs, err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("ReadJobs created the folder")
	}
}
