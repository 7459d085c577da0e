package daemon

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"strata/service/hooks"
	"strata/service/state"
)

// Options are what a Daemon needs besides its jobs.
type Options struct {
	// Store keeps the run records and next due times.
	Store *state.Store
	// Runner does the jobs' work.
	Runner Runner
	// Hooks runs the jobs' hooks (a zero Runner if nil).
	Hooks *hooks.Runner
	// Clock is the daemon's time (the real one if nil).
	Clock Clock
	// Log is the daemon's log (discarded if nil).
	Log *slog.Logger
}

// Daemon runs jobs on their schedules.
type Daemon struct {
	store  *state.Store
	runner Runner
	hooks  *hooks.Runner
	clock  Clock
	log    *slog.Logger

	mu          sync.Mutex
	jobs        map[string]*jobState
	queues      map[string][]queued // by repoKey, in due order
	busy        map[string]bool     // repoKeys with a running job
	subscribers []func(Event)
	wake        chan struct{}
	running     bool
	runCtx      context.Context
	// rebuild: jobs.json was set aside; loadNext rebuilds what it held
	// from the run records.
	rebuild bool
	wg      sync.WaitGroup
}

// jobState is a job as the loop sees it.
type jobState struct {
	job     Job
	next    time.Time
	queued  bool
	running bool
	// catchUp: next was already past when the daemon started.
	catchUp bool
	// slot is the running run's hold on its repository.
	slot *slot
}

type queued struct {
	job     string
	due     time.Time
	trigger string
	// resume, when set, is a run that stepped aside (slot.Release) and
	// takes its repository back: granted is closed when it has it.
	resume  *slot
	granted chan struct{}
}

// New returns a daemon for jobs. It checks their names are unique.
func New(jobs []Job, opts Options) (*Daemon, error) {
	if opts.Store == nil || opts.Runner == nil {
		return nil, fmt.Errorf("daemon: Options.Store and Options.Runner are required")
	}
	d := &Daemon{store: opts.Store, runner: opts.Runner, hooks: opts.Hooks, clock: opts.Clock, log: opts.Log,
		queues: map[string][]queued{}, busy: map[string]bool{}, wake: make(chan struct{}, 1)}
	if d.hooks == nil {
		d.hooks = &hooks.Runner{}
	}
	if d.clock == nil {
		d.clock = realClock{}
	}
	if d.log == nil {
		d.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var err error
	d.jobs, err = jobStates(jobs)
	return d, err
}

func jobStates(jobs []Job) (map[string]*jobState, error) {
	m := map[string]*jobState{}
	for _, j := range jobs {
		if j.Name == "" {
			return nil, fmt.Errorf("daemon: a job without a name")
		}
		if m[j.Name] != nil {
			return nil, fmt.Errorf("daemon: two jobs named %q", j.Name)
		}
		m[j.Name] = &jobState{job: j}
	}
	return m, nil
}

// Subscribe adds fn to the functions told of every event. They are
// called one after the other in the goroutine of the run, so a slow one
// delays the run's end: send to a channel or a goroutine of your own.
func (d *Daemon) Subscribe(fn func(Event)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.subscribers = append(d.subscribers, fn)
}

// Run runs the jobs on their schedules until ctx is cancelled; it then
// cancels the running jobs, waits for them to end (their runs recorded
// as aborted, to run again at the next start) and returns nil.
func (d *Daemon) Run(ctx context.Context) error {
	now := d.clock.Now()
	moved, aerr := d.store.SetAsideDamaged()
	for _, p := range moved {
		d.log.Warn("a damaged run record was set aside; its run is missing from the history", "file", p)
	}
	if aerr != nil {
		return aerr
	}
	// A damaged jobs.json costs its next due times, not the daemon: they
	// are rebuilt from the run records (loadNext), and health reports
	// the file set aside until it is removed.
	lostJobs, jerr := d.store.SetAsideDamagedJobs()
	if jerr != nil {
		return jerr
	}
	if lostJobs != "" {
		d.log.Error("the state folder's jobs.json was damaged and is set aside; next due times are rebuilt from the run records "+
			"(a job whose last run is known catches up once if it is past due)", "file", lostJobs)
	}
	if marked, err := d.store.MarkInterrupted(now); err != nil {
		return err
	} else {
		for _, r := range marked {
			d.log.Warn("a run was interrupted by the daemon's end", "job", r.Job, "run", r.ID)
		}
	}
	d.mu.Lock()
	d.rebuild = lostJobs != ""
	err := d.loadNext(now)
	d.rebuild = false
	d.running, d.runCtx = true, ctx
	d.mu.Unlock()
	if err != nil {
		return err
	}
	for _, j := range d.Jobs() {
		next := "only when asked"
		if !j.NextDue.IsZero() {
			next = j.NextDue.Format(time.RFC3339)
		}
		d.log.Info("job", "job", j.Name, "kind", j.Kind, "schedule", j.Schedule, "next", next)
	}
	defer func() {
		d.mu.Lock()
		d.running = false
		d.mu.Unlock()
		d.wg.Wait()
	}()
	for {
		d.mu.Lock()
		now := d.clock.Now()
		d.enqueueDue(now)
		d.startRunnable()
		var wait time.Duration = -1
		for _, js := range d.jobs {
			if js.queued || js.running || js.next.IsZero() {
				continue
			}
			if w := max(js.next.Sub(now), 0); wait < 0 || w < wait {
				wait = w
			}
		}
		d.mu.Unlock()
		if wait < 0 {
			wait = 24 * time.Hour
		}
		t := d.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			d.log.Info("stopping: the running jobs are cancelled")
			return nil
		case <-t.C():
		case <-d.wake:
			t.Stop()
		}
	}
}

// loadNext sets each job's next due time from the store: a past one is
// a run missed while the daemon was down, caught up now; a job new to
// the store, or whose schedule changed, is next due at its schedule's
// next time.
func (d *Daemon) loadNext(now time.Time) error {
	stored, err := d.store.Jobs()
	if err != nil {
		return err
	}
	changed := map[string]state.Job{}
	for name, js := range d.jobs {
		// A queued or running job's next due time is set when its run
		// ends (scheduleNext).
		st, ok := stored[name]
		if !ok && d.rebuild {
			st, ok = d.fromRuns(js.job)
			if ok {
				changed[name] = st
			}
		}
		if !ok || st.Schedule != js.job.ScheduleText || st.NextDue.IsZero() {
			js.next = js.job.next(now)
			st.Schedule, st.NextDue = js.job.ScheduleText, js.next
			firstDue(&st, now)
			changed[name] = st
			continue
		}
		js.next = st.NextDue
		js.catchUp = !js.next.After(now)
		if st.FirstDue.IsZero() && st.LastRun == "" {
			firstDue(&st, now)
			changed[name] = st
		}
	}
	if len(changed) == 0 {
		return nil
	}
	return d.store.UpdateJobs(func(jobs map[string]state.Job) {
		for name, st := range changed {
			jobs[name] = st
		}
	})
}

// Register records jobs in store as a daemon that first sees them does
// (loadNext), without running anything: a job new to the store, or whose
// schedule changed, gets its schedule's next time after now as its next
// due time, and one that never ran its first due time. strata schedule
// install calls it for the jobs systemd timers run (RunOnce), which no
// daemon sees, so that health calls a job without a snapshot pending
// until its first slot plus its limit, as under the daemon.
func Register(store *state.Store, jobs []Job, now time.Time) error {
	js, err := jobStates(jobs)
	if err != nil {
		return err
	}
	d := &Daemon{store: store, jobs: js}
	return d.loadNext(now)
}

// fromRuns is what jobs.json held of job, rebuilt from its newest run
// record when jobs.json was lost: the next due time after that run's
// end, or its due time when the run did not end (aborted, interrupted),
// so that a run missed meanwhile is caught up once. ok is false when no
// record of the job is readable (it is then scheduled afresh).
func (d *Daemon) fromRuns(job Job) (state.Job, bool) {
	runs, _ := d.store.Runs(job.Name, 1)
	if len(runs) == 0 {
		return state.Job{}, false
	}
	last := runs[0]
	st := state.Job{Schedule: job.ScheduleText, LastRun: last.ID, NextDue: job.next(last.End)}
	if last.Result == state.Aborted || last.Result == state.Interrupted || last.End.IsZero() {
		st.NextDue = last.Due
	}
	return st, true
}

// firstDue sets the first due time of a job that never ran and has
// none: its next due time, or now for a job without a schedule (health
// calls it pending, not critical, until then plus its limit). A job
// that ran before keeps none: when it was first due is not known.
func firstDue(st *state.Job, now time.Time) {
	if !st.FirstDue.IsZero() || st.LastRun != "" {
		return
	}
	st.FirstDue = st.NextDue
	if st.FirstDue.IsZero() {
		st.FirstDue = now
	}
}

// enqueueDue queues the jobs due at now. d.mu is held.
func (d *Daemon) enqueueDue(now time.Time) {
	for name, js := range d.jobs {
		if js.queued || js.running || js.next.IsZero() || js.next.After(now) {
			continue
		}
		trigger := TriggerSchedule
		if js.catchUp {
			trigger, js.catchUp = TriggerCatchUp, false
		}
		d.enqueue(name, js, js.next, trigger)
	}
}

func (d *Daemon) enqueue(name string, js *jobState, due time.Time, trigger string) {
	js.queued = true
	k := js.job.repoKey()
	d.queue(k, queued{job: name, due: due, trigger: trigger})
	if len(d.queues[k]) > 1 || d.busy[k] {
		d.log.Info("job queued behind another on its repository", "job", name, "repository", k)
	}
}

// queue puts q in the queue of repository k, in due order; of the jobs
// due at one instant the backups go first, so that a check, drill or
// forget due with them sees their snapshots (on a fresh install, the
// first). d.mu is held.
func (d *Daemon) queue(k string, q queued) {
	d.queues[k] = append(d.queues[k], q)
	slices.SortStableFunc(d.queues[k], func(a, b queued) int {
		return cmp.Or(a.due.Compare(b.due), cmp.Compare(d.rank(a.job), d.rank(b.job)), cmp.Compare(a.job, b.job))
	})
}

// rank orders the jobs due at one instant: backups (0) before the rest
// (1). d.mu is held.
func (d *Daemon) rank(name string) int {
	if js := d.jobs[name]; js != nil && js.job.Kind == "backup" {
		return 0
	}
	return 1
}

// startRunnable starts the first queued job of every repository that has
// none running. d.mu is held.
func (d *Daemon) startRunnable() {
	for k, q := range d.queues {
		if d.busy[k] || len(q) == 0 {
			continue
		}
		next := q[0]
		d.queues[k] = q[1:]
		if sl := next.resume; sl != nil {
			sl.held = true
			d.busy[k] = true
			close(next.granted)
			continue
		}
		js := d.jobs[next.job]
		if js == nil {
			continue // removed by a reload
		}
		js.queued, js.running = false, true
		d.busy[k] = true
		job := js.job
		ctx := d.runCtx
		sl := &slot{d: d, key: k, job: job.Name, due: next.due, held: true}
		js.slot = sl
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.execute(ctx, job, next.due, next.trigger, sl, func(result state.Result) {
				d.mu.Lock()
				js.running = false
				if cur := d.jobs[job.Name]; cur != nil {
					cur.running = false // a reload replaced js
				}
				sl.free()
				if result == state.Succeeded {
					d.enqueueFollowers(job.Name)
				}
				d.mu.Unlock()
				d.poke()
			})
		}()
	}
}

// followers are the jobs whose After names job, by name. d.mu is held.
func (d *Daemon) followers(job string) []string {
	var out []string
	for name, js := range d.jobs {
		if slices.Contains(js.job.After, job) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// enqueueFollowers queues the jobs that follow a successful run of job,
// unless they are queued already (one run serves every run before it)
// or the daemon is stopping. d.mu is held.
func (d *Daemon) enqueueFollowers(job string) {
	if !d.running || d.runCtx.Err() != nil {
		return
	}
	for _, name := range d.followers(job) {
		js := d.jobs[name]
		if js.queued {
			continue
		}
		d.enqueue(name, js, d.clock.Now(), TriggerAfter)
	}
}

// poke wakes the loop.
func (d *Daemon) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}
