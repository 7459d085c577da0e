package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"strata/internal/syncbuf"
	"strata/repo"
	"strata/service/hooks"
	"strata/service/state"
)

var t0 = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// harness is a daemon on a fake clock with a runner the test steers:
// a job whose name is in block waits for its channel (or its context).
type harness struct {
	t      *testing.T
	clock  *fakeClock
	store  *state.Store
	events chan Event
	mu     sync.Mutex
	block  map[string]chan error
	calls  []string
	cancel context.CancelFunc
	done   chan error
	d      *Daemon
}

func newHarness(t *testing.T, dir string, now time.Time, jobs ...Job) *harness {
	t.Helper()
	store, err := state.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, clock: &fakeClock{now: now}, store: store, events: make(chan Event, 100), block: map[string]chan error{}}
	h.d, err = New(jobs, Options{Store: store, Runner: RunnerFunc(h.run), Clock: h.clock})
	if err != nil {
		t.Fatal(err)
	}
	h.d.Subscribe(func(e Event) { h.events <- e })
	return h
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.d.Run(ctx) }()
	h.t.Cleanup(h.stop)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Fatal("Run did not return 10 s after its context was cancelled")
	}
}

func (h *harness) run(ctx context.Context, job Job, log *slog.Logger) (Outcome, error) {
	h.mu.Lock()
	h.calls = append(h.calls, job.Name)
	ch := h.block[job.Name]
	h.mu.Unlock()
	log.Info("working", "job", job.Name)
	if ch != nil {
		select {
		case err := <-ch:
			if err != nil {
				return Outcome{}, err
			}
		case <-ctx.Done():
			return Outcome{}, ctx.Err()
		}
	}
	return Outcome{Snapshot: "snap-" + job.Name, Summary: "done"}, nil
}

// next returns the next event, failing after 10 s without one.
func (h *harness) next() Event {
	h.t.Helper()
	select {
	case e := <-h.events:
		return e
	case <-time.After(10 * time.Second):
		h.t.Fatal("no event within 10 s")
	}
	return Event{}
}

func (h *harness) want(kind EventKind, job string) Event {
	h.t.Helper()
	e := h.next()
	if e.Kind != kind || e.Job.Name != job {
		h.t.Fatalf("event %s of %s, want %s of %s (run %+v)", e.Kind, e.Job.Name, kind, job, e.Run)
	}
	return e
}

// wantEither checks that the next two events are the end of one run and
// the start of the next on its repository, in either order: the run frees
// its repository before it tells of its end, so the next run may start
// first.
// It returns the start.
func (h *harness) wantEither(endKind EventKind, ended, started string) Event {
	h.t.Helper()
	got := map[string]bool{}
	var start Event
	for range 2 {
		e := h.next()
		got[string(e.Kind)+" "+e.Job.Name] = true
		if e.Kind == Started {
			start = e
		}
	}
	if !got[string(endKind)+" "+ended] || !got[string(Started)+" "+started] {
		h.t.Fatalf("events %v, want %s of %s and %s of %s", got, endKind, ended, Started, started)
	}
	return start
}

// quiet checks that no event comes within a short while.
func (h *harness) quiet() {
	h.t.Helper()
	select {
	case e := <-h.events:
		h.t.Fatalf("unexpected event %s of %s", e.Kind, e.Job.Name)
	case <-time.After(100 * time.Millisecond):
	}
}

func job(name, repository string, d time.Duration) Job {
	return Job{Name: name, Kind: "backup", Tier: "hourly", Repository: repository, Schedule: every(d), ScheduleText: "@every " + d.String()}
}

// advance moves the fake clock once the daemon waits on its timer.
func (h *harness) advance(d time.Duration) {
	// The loop may not have set its timer yet: move on in steps until
	// the time wanted, each after the loop had a moment to wait.
	time.Sleep(20 * time.Millisecond)
	h.clock.Advance(d)
}

func TestRunsOnScheduleAndRecords(t *testing.T) {
	h := newHarness(t, t.TempDir(), t0.Add(30*time.Minute), job("hourly", "/r", time.Hour))
	h.start()
	h.quiet()
	h.advance(30 * time.Minute)
	h.want(Started, "hourly")
	e := h.want(Succeeded, "hourly")
	r := e.Run
	if r.Result != state.Succeeded || r.Snapshot != "snap-hourly" || !r.Due.Equal(t0.Add(time.Hour)) || r.Trigger != TriggerSchedule ||
		!strings.Contains(r.Log, "working") {
		t.Fatalf("run %+v", r)
	}
	runs, err := h.store.Runs("hourly", 0)
	if err != nil || len(runs) != 1 || runs[0].ID != r.ID || runs[0].Result != state.Succeeded {
		t.Fatalf("stored runs %+v, %v", runs, err)
	}
	jobs, _ := h.store.Jobs()
	if !jobs["hourly"].NextDue.Equal(t0.Add(2*time.Hour)) || jobs["hourly"].LastRun != r.ID {
		t.Fatalf("stored job %+v", jobs["hourly"])
	}
	if st := h.d.Jobs(); len(st) != 1 || !st[0].NextDue.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("Jobs() %+v", st)
	}
}

// Jobs on one repository queue in due order, one at a time; a job on
// another repository runs beside them.
func TestOneJobPerRepositoryInDueOrder(t *testing.T) {
	h := newHarness(t, t.TempDir(), t0,
		job("long", "/r", 10*time.Minute), job("b", "local:/r/", 15*time.Minute), job("a", "/r", 20*time.Minute),
		job("other", "/s", 25*time.Minute))
	release := make(chan error)
	h.block["long"] = release
	h.start()
	h.advance(10 * time.Minute)
	h.want(Started, "long")
	h.advance(16 * time.Minute) // 00:26: b (00:15), a (00:20) and other (00:25) due
	h.want(Started, "other")
	h.want(Succeeded, "other")
	h.quiet() // a and b wait for long
	release <- nil
	h.wantEither(Succeeded, "long", "b")
	h.wantEither(Succeeded, "b", "a")
	h.want(Succeeded, "a")
	if got := strings.Join(h.calls, ","); got != "long,other,b,a" {
		t.Fatalf("runs in order %s", got)
	}
}

// Runs missed while the daemon was down are caught up once.
func TestCatchUpOnce(t *testing.T) {
	dir := t.TempDir()
	store, _ := state.Open(dir, 0)
	// Due at 01:00; the daemon starts at 05:30, four slots later.
	if err := store.SetJob("hourly", state.Job{Schedule: "@every 1h0m0s", NextDue: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, dir, t0.Add(5*time.Hour+30*time.Minute), job("hourly", "/r", time.Hour))
	h.start()
	h.want(Started, "hourly")
	e := h.want(Succeeded, "hourly")
	if e.Run.Trigger != TriggerCatchUp || !e.Run.Due.Equal(t0.Add(time.Hour)) {
		t.Fatalf("run %+v", e.Run)
	}
	h.quiet()
	if jobs, _ := store.Jobs(); !jobs["hourly"].NextDue.Equal(t0.Add(6 * time.Hour)) {
		t.Fatalf("next due %v, want 06:00", jobs["hourly"].NextDue)
	}
	h.advance(30 * time.Minute)
	if e := h.want(Started, "hourly"); e.Run.Trigger != TriggerSchedule {
		t.Fatalf("run %+v", e.Run)
	}
}

// A stop during a run cancels it: the run is recorded as aborted, and
// the job is caught up at the next start, from the persisted due time.
func TestStopAbortsAndRestartCatchesUp(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir, t0.Add(50*time.Minute), job("hourly", "/r", time.Hour))
	h.block["hourly"] = make(chan error)
	h.start()
	h.advance(10 * time.Minute)
	h.want(Started, "hourly")
	h.stop()
	e := h.want(Failed, "hourly")
	if e.Run.Result != state.Aborted || !strings.Contains(e.Run.Error, "stop") {
		t.Fatalf("run %+v", e.Run)
	}
	if jobs, _ := h.store.Jobs(); !jobs["hourly"].NextDue.Equal(t0.Add(time.Hour)) {
		t.Fatalf("next due after an abort %v, want the missed 01:00", jobs["hourly"].NextDue)
	}
	h2 := newHarness(t, dir, t0.Add(3*time.Hour), job("hourly", "/r", time.Hour))
	h2.start()
	h2.want(Started, "hourly")
	if e := h2.want(Succeeded, "hourly"); e.Run.Trigger != TriggerCatchUp {
		t.Fatalf("run after restart %+v", e.Run)
	}
	if runs, _ := h2.store.Runs("hourly", 0); len(runs) != 2 || runs[1].Result != state.Aborted {
		t.Fatalf("runs %+v", runs)
	}
}

// A run left "running" by a daemon that died is marked interrupted, and
// its job caught up.
func TestCrashedRunMarkedInterrupted(t *testing.T) {
	dir := t.TempDir()
	store, _ := state.Open(dir, 0)
	_ = store.SetJob("hourly", state.Job{Schedule: "@every 1h0m0s", NextDue: t0.Add(time.Hour)})
	dead, _ := store.StartRun(state.Run{Job: "hourly", Due: t0.Add(time.Hour), Start: t0.Add(time.Hour)})
	h := newHarness(t, dir, t0.Add(90*time.Minute), job("hourly", "/r", time.Hour))
	h.start()
	h.want(Started, "hourly")
	h.want(Succeeded, "hourly")
	if r, _ := store.Run(dead.ID); r.Result != state.Interrupted {
		t.Fatalf("dead run %+v", r)
	}
}

func TestLockBusyAndHooks(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "hooks.log")
	j := job("hourly", "/r", time.Hour)
	rec := func(w string) []hooks.Hook {
		return []hooks.Hook{{Command: `echo "` + w + ` $STRATA_JOB $STRATA_RESULT $STRATA_SNAPSHOT [$STRATA_ERROR]" >>` + out}}
	}
	j.Hooks = hooks.Set{Before: rec("before"), After: rec("after"), Success: rec("success"), Failure: rec("failure")}
	h := newHarness(t, filepath.Join(dir, "state"), t0.Add(59*time.Minute), j)
	ch := make(chan error, 1)
	h.block["hourly"] = ch
	ch <- fmt.Errorf("taking the lock: %w: held by prune", repo.ErrLocked)
	h.start()
	h.advance(time.Minute)
	h.want(Started, "hourly")
	e := h.want(LockBusy, "hourly")
	if e.Run.Result != state.LockBusy || !strings.Contains(e.Run.Log, "hook failure #1") {
		t.Fatalf("run %+v", e.Run)
	}
	// The next hour it succeeds.
	ch <- nil
	h.advance(time.Hour)
	h.want(Started, "hourly")
	h.want(Succeeded, "hourly")
	b, _ := os.ReadFile(out)
	want := "before hourly   []\n" +
		"failure hourly lock-busy  [taking the lock: repository is locked: held by prune]\n" +
		"after hourly lock-busy  [taking the lock: repository is locked: held by prune]\n" +
		"before hourly   []\n" +
		"success hourly succeeded snap-hourly []\n" +
		"after hourly succeeded snap-hourly []\n"
	if string(b) != want {
		t.Fatalf("hooks ran:\n%s\nwant:\n%s", b, want)
	}
}

// A failing before hook fails the job, which does not run; the failure
// and after hooks still run.
func TestBeforeHookFailureFailsJob(t *testing.T) {
	dir := t.TempDir()
	j := job("hourly", "/r", time.Hour)
	j.Hooks = hooks.Set{Before: []hooks.Hook{{Command: "echo cannot >&2; exit 1"}},
		Failure: []hooks.Hook{{Command: "echo failure-hook"}}, After: []hooks.Hook{{Command: "echo after-hook"}}}
	h := newHarness(t, dir, t0.Add(59*time.Minute), j)
	h.start()
	h.advance(time.Minute)
	h.want(Started, "hourly")
	e := h.want(Failed, "hourly")
	if len(h.calls) != 0 {
		t.Fatalf("the job ran after its before hook failed: %v", h.calls)
	}
	for _, want := range []string{"cannot", "failure-hook", "after-hook", "before hook #1"} {
		if !strings.Contains(e.Run.Log, want) {
			t.Fatalf("log lacks %q:\n%s", want, e.Run.Log)
		}
	}
	if e.Run.Result != state.Failed || !strings.Contains(e.Run.Error, "exit status 1") {
		t.Fatalf("run %+v", e.Run)
	}
}

func TestRunNowAndReload(t *testing.T) {
	h := newHarness(t, t.TempDir(), t0.Add(time.Minute), job("daily", "/r", 24*time.Hour))
	h.block["daily"] = make(chan error)
	if err := h.d.RunNow("daily"); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("RunNow before Run: %v", err)
	}
	h.start()
	time.Sleep(20 * time.Millisecond)
	if err := h.d.RunNow("nope"); !errors.Is(err, ErrUnknownJob) {
		t.Fatalf("RunNow of an unknown job: %v", err)
	}
	if err := h.d.RunNow("daily"); err != nil {
		t.Fatal(err)
	}
	if e := h.want(Started, "daily"); e.Run.Trigger != TriggerNow {
		t.Fatalf("run %+v", e.Run)
	}
	if err := h.d.RunNow("daily"); !errors.Is(err, ErrAlreadyQueued) {
		t.Fatalf("RunNow of a running job: %v", err)
	}
	h.block["daily"] <- nil
	h.want(Succeeded, "daily")
	// Reload: daily now every hour, a new job every 2 hours.
	if err := h.d.Reload([]Job{job("daily", "/r", time.Hour), job("new", "/s", 2*time.Hour)}); err != nil {
		t.Fatal(err)
	}
	st := h.d.Jobs()
	if len(st) != 2 || st[0].Name != "daily" || !st[0].NextDue.Equal(t0.Add(time.Hour)) || !st[1].NextDue.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("jobs after reload %+v", st)
	}
	delete(h.block, "daily")
	h.advance(time.Hour)
	h.want(Started, "daily")
	h.want(Succeeded, "daily")
}

// A job without a schedule runs only when asked; a failed run is tried
// again as Retries says; a run past its Timeout fails.
func TestOnDemandRetryTimeout(t *testing.T) {
	ondemand := Job{Name: "manual", Kind: "check", Repository: "/r", Retries: 2, RetryDelay: time.Millisecond}
	slow := job("slow", "/s", time.Hour)
	slow.Timeout = 50 * time.Millisecond
	h := newHarness(t, t.TempDir(), t0.Add(59*time.Minute), ondemand, slow)
	fails := make(chan error, 3)
	fails <- errors.New("first")
	fails <- errors.New("second")
	fails <- nil
	h.block["manual"] = fails
	h.block["slow"] = make(chan error)
	h.start()
	h.advance(time.Minute)
	h.want(Started, "slow")
	e := h.want(Failed, "slow")
	if e.Run.Result != state.Failed || !strings.Contains(e.Run.Error, "longer than its timeout 50ms") {
		t.Fatalf("run %+v", e.Run)
	}
	h.quiet() // manual is never due
	if err := h.d.RunNow("manual"); err != nil {
		t.Fatal(err)
	}
	h.want(Started, "manual")
	// The retry delay waits on the fake clock: move it on until the run
	// ends.
	deadline := time.Now().Add(10 * time.Second)
	for e.Kind != Succeeded && time.Now().Before(deadline) {
		select {
		case e = <-h.events:
		case <-time.After(10 * time.Millisecond):
			h.clock.Advance(time.Millisecond)
		}
	}
	if e.Kind != Succeeded || e.Job.Name != "manual" {
		t.Fatalf("event %s of %s, want succeeded of manual", e.Kind, e.Job.Name)
	}
	if n := strings.Count(e.Run.Log, "trying again"); n != 2 {
		t.Fatalf("%d retries logged:\n%s", n, e.Run.Log)
	}
	if st := h.d.Jobs(); !st[0].NextDue.IsZero() {
		t.Fatalf("on-demand job due at %v", st[0].NextDue)
	}
}

// A job with After runs after each successful run of the jobs it names,
// once for several that end before it starts, never after a failure; a
// RunOnce of one of them runs it too.
func TestAfterRunsFollowers(t *testing.T) {
	a, b := job("a", "/r", time.Hour), job("b", "/r", 2*time.Hour)
	forget := Job{Name: "forget", Kind: "forget", Repository: "/r", After: []string{"a", "b"}}
	h := newHarness(t, t.TempDir(), t0.Add(59*time.Minute), a, b, forget)
	if st := h.d.Jobs(); st[1].Name != "b" || st[2].Schedule != "after each success of a, b" {
		t.Fatalf("Jobs() %+v", st)
	}
	fail := make(chan error, 1)
	fail <- errors.New("backup failed")
	h.block["a"] = fail
	h.start()
	h.advance(time.Minute) // 01:00: a fails; forget does not follow
	h.want(Started, "a")
	h.want(Failed, "a")
	h.quiet()
	delete(h.block, "a")
	h.block["forget"] = make(chan error)
	h.advance(time.Hour) // 02:00: a and b due; forget once after both
	h.want(Started, "a")
	h.wantEither(Succeeded, "a", "b") // b queued at 02:00, before forget
	e := h.wantEither(Succeeded, "b", "forget")
	if e.Run.Trigger != TriggerAfter {
		t.Fatalf("forget's trigger %q, want %q", e.Run.Trigger, TriggerAfter)
	}
	h.block["forget"] <- nil
	h.want(Succeeded, "forget")
	h.quiet()
	if st := h.d.Jobs(); !st[2].NextDue.IsZero() {
		t.Fatalf("forget due at %v: it has no schedule", st[2].NextDue)
	}
	h.stop()

	// RunOnce (strata schedule run) runs the followers after a success.
	delete(h.block, "forget")
	h.clock.Advance(time.Minute)
	run, err := h.d.RunOnce(context.Background(), "b")
	if err != nil || run.Job != "b" || run.Result != state.Succeeded {
		t.Fatalf("RunOnce: %+v, %v", run, err)
	}
	runs, err := h.store.Runs("forget", 0)
	if err != nil || len(runs) != 2 || runs[0].Trigger != TriggerAfter || runs[0].Result != state.Succeeded {
		t.Fatalf("forget's runs after RunOnce: %+v, %v", runs, err)
	}
}

// A job new to the state folder records when it was first due (a job
// without a schedule: when the daemon first saw it), and keeps it over
// restarts; a job that ran before strata recorded it gets none.
func TestFirstDueRecorded(t *testing.T) {
	dir := t.TempDir()
	store, _ := state.Open(dir, 0)
	if err := store.SetJob("old", state.Job{Schedule: "@every 1h0m0s", NextDue: t0.Add(time.Hour), LastRun: "x"}); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(10 * time.Minute)
	manual := Job{Name: "manual", Kind: "backup", Repository: "/r"}
	h := newHarness(t, dir, now, job("hourly", "/r", time.Hour), job("old", "/r", time.Hour), manual)
	h.start()
	h.quiet()
	h.stop()
	jobs, err := h.store.Jobs()
	if err != nil {
		t.Fatal(err)
	}
	if !jobs["hourly"].FirstDue.Equal(t0.Add(time.Hour)) || !jobs["manual"].FirstDue.Equal(now) || !jobs["old"].FirstDue.IsZero() {
		t.Fatalf("first due times: hourly %v, manual %v, old %v", jobs["hourly"].FirstDue, jobs["manual"].FirstDue, jobs["old"].FirstDue)
	}
	h2 := newHarness(t, dir, now.Add(3*time.Hour), job("hourly", "/r", time.Hour), manual)
	h2.start()
	h2.want(Started, "hourly") // caught up
	h2.want(Succeeded, "hourly")
	h2.stop()
	jobs, _ = h2.store.Jobs()
	if !jobs["hourly"].FirstDue.Equal(t0.Add(time.Hour)) || !jobs["manual"].FirstDue.Equal(now) {
		t.Fatalf("first due times after a restart: hourly %v, manual %v", jobs["hourly"].FirstDue, jobs["manual"].FirstDue)
	}
}

// TestDamagedRunRecordSetAside: a run record with garbage in it does not
// stop the daemon: it is renamed NAME.json.damaged in runs/ (kept, never
// deleted), a warning names it, and jobs run. Before, Run returned the
// decode error ("remove the file") and the daemon exited.
func TestDamagedRunRecordSetAside(t *testing.T) {
	dir := t.TempDir()
	store, _ := state.Open(dir, 0)
	_ = store.SetJob("hourly", state.Job{Schedule: "@every 1h0m0s", NextDue: t0.Add(time.Hour)})
	good, err := store.StartRun(state.Run{Job: "hourly", Due: t0, Start: t0})
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "runs", "20260531T000000.000000000Z-hourly.json")
	garbage := []byte("\x00\x17not json{{")
	if err := os.WriteFile(bad, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	// A file already of the first aside name is not replaced.
	if err := os.WriteFile(bad+".damaged", []byte("older"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, dir, t0.Add(90*time.Minute), job("hourly", "/r", time.Hour))
	var logs syncbuf.Buffer
	h.d.log = slog.New(slog.NewTextHandler(&logs, nil))
	h.start()
	h.want(Started, "hourly")
	h.want(Succeeded, "hourly")
	if _, err := os.Stat(bad); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the damaged record is still in place: %v", err)
	}
	if b, err := os.ReadFile(bad + ".damaged.2"); err != nil || !bytes.Equal(b, garbage) {
		t.Fatalf("the damaged record set aside: %q, %v; want its bytes kept", b, err)
	}
	if b, _ := os.ReadFile(bad + ".damaged"); string(b) != "older" {
		t.Fatalf("an earlier .damaged file was replaced: %q", b)
	}
	if !strings.Contains(logs.String(), "damaged run record") || !strings.Contains(logs.String(), bad+".damaged.2") {
		t.Fatalf("log %q: want a warning naming %s.damaged.2", logs.String(), bad)
	}
	if r, err := store.Run(good.ID); err != nil || r.Result != state.Interrupted {
		t.Fatalf("the good record: %+v, %v", r, err)
	}
	if _, err := store.Runs("", 0); err != nil {
		t.Fatalf("Runs after the daemon's start: %v", err)
	}
}

// A run that steps aside while it waits for a lock (SlotOf: Release)
// lets the next job on its repository run, and takes its turn back
// (Reclaim) only once that job has ended: jobs that do something never
// run two at once on a repository.
func TestSteppedAsideRunWaitsForItsTurn(t *testing.T) {
	h := newHarness(t, t.TempDir(), t0, job("prune", "/r", 10*time.Minute), job("b", "/r", 15*time.Minute))
	released, retry, reclaimed := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	stepAside := RunnerFunc(func(ctx context.Context, j Job, log *slog.Logger) (Outcome, error) {
		if j.Name != "prune" {
			return h.run(ctx, j, log)
		}
		s := SlotOf(ctx)
		if s == nil {
			return Outcome{}, errors.New("no slot in a daemon's run")
		}
		s.Release()
		close(released)
		<-retry
		err := s.Reclaim(ctx)
		reclaimed <- err
		return Outcome{}, err
	})
	var err error
	h.d, err = New([]Job{job("prune", "/r", 10*time.Minute), job("b", "/r", 15*time.Minute)},
		Options{Store: h.store, Runner: stepAside, Clock: h.clock})
	if err != nil {
		t.Fatal(err)
	}
	h.d.Subscribe(func(e Event) { h.events <- e })
	finish := make(chan error)
	h.block["b"] = finish
	h.start()
	h.advance(16 * time.Minute) // prune (00:10) and b (00:15) due
	h.want(Started, "prune")
	<-released
	h.want(Started, "b") // the repository is free while prune waits
	for _, j := range h.d.Jobs() {
		if j.Waiting != (j.Name == "prune") || j.Waiting != j.LockWaitSince.Equal(t0.Add(16*time.Minute)) {
			t.Fatalf("Jobs(): %+v", j)
		}
	}
	close(retry)
	select {
	case err := <-reclaimed:
		t.Fatalf("prune reclaimed the repository while b runs (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	runs, _ := h.store.Runs("prune", 1)
	if len(runs) != 1 || runs[0].Result != state.Running || !runs[0].LockWaitSince.Equal(t0.Add(16*time.Minute)) {
		t.Fatalf("the waiting run's record: %+v", runs)
	}
	finish <- nil
	if err := <-reclaimed; err != nil {
		t.Fatal(err)
	}
	got := map[string]EventKind{}
	for range 2 {
		e := h.next()
		got[e.Job.Name] = e.Kind
	}
	if got["b"] != Succeeded || got["prune"] != Succeeded {
		t.Fatalf("ends %v, want both succeeded", got)
	}
}

// TestRetryNotOnLockBusy: a run that could not take the lock (having
// waited repository.lock_wait for it) is recorded lock-busy at once, not
// tried again as Retries says; other failures are. It was tried again.
func TestRetryNotOnLockBusy(t *testing.T) {
	ondemand := Job{Name: "manual", Kind: "check", Repository: "/r", Retries: 2, RetryDelay: time.Millisecond}
	h := newHarness(t, t.TempDir(), t0, ondemand)
	fails := make(chan error, 3)
	fails <- fmt.Errorf("repository /r: %w", repo.ErrLocked)
	fails <- nil
	fails <- nil
	h.block["manual"] = fails
	h.start()
	h.quiet()
	if err := h.d.RunNow("manual"); err != nil {
		t.Fatal(err)
	}
	h.want(Started, "manual")
	e := h.want(LockBusy, "manual")
	if strings.Contains(e.Run.Log, "trying again") || len(fails) != 2 {
		t.Fatalf("a lock-busy run was tried again:\n%s", e.Run.Log)
	}
}
