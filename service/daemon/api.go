package daemon

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"strata/service/state"
)

// JobStatus is a job as Jobs reports it, and as GET /api/jobs encodes
// it (README, "Dashboard": the API's fields).
type JobStatus struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Tier       string `json:"tier,omitempty"`
	Source     string `json:"source,omitempty"`
	Repository string `json:"repository"`
	// Schedule is the schedule's text, or for a job that follows others
	// (Job.After) "after each success of JOB, ...".
	Schedule string `json:"schedule,omitempty"`
	// NextDue is when the job is next due (in the past: it is queued or
	// running); zero for a job without a schedule.
	NextDue time.Time `json:"next_due,omitzero"`
	Queued  bool      `json:"queued"`
	Running bool      `json:"running"`
	// Waiting: the job's run waits for another process's lock, stepped
	// aside (the repository's other jobs run meanwhile).
	Waiting bool `json:"waiting"`
	// LockWaitSince is, while Waiting, when the run first stepped aside
	// (its record's lock_wait_since).
	LockWaitSince time.Time `json:"lock_wait_since,omitzero"`
}

// Jobs returns the daemon's jobs, by name.
func (d *Daemon) Jobs() []JobStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []JobStatus
	for _, js := range d.jobs {
		j := js.job
		sched := j.ScheduleText
		if sched == "" && len(j.After) > 0 {
			sched = "after each success of " + strings.Join(j.After, ", ")
		}
		st := JobStatus{Name: j.Name, Kind: j.Kind, Tier: j.Tier, Source: j.Source, Repository: j.Repository,
			Schedule: sched, NextDue: js.next, Queued: js.queued, Running: js.running}
		if js.running && js.slot != nil && !js.slot.held {
			st.Waiting, st.LockWaitSince = true, js.slot.waitSince
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b JobStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Runs returns the records of job's runs ("" for every job's), newest
// first, at most limit (0 for all), as state.Store.Runs does.
func (d *Daemon) Runs(job string, limit int) ([]state.Run, error) {
	return d.store.Runs(job, limit)
}

// RunNow queues the job name at once, as if it were due: it runs when
// no other job runs on its repository.
func (d *Daemon) RunNow(name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.running {
		return ErrNotRunning
	}
	js := d.jobs[name]
	if js == nil {
		return fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	if js.queued || js.running {
		return fmt.Errorf("job %s: %w", name, ErrAlreadyQueued)
	}
	d.enqueue(name, js, d.clock.Now(), TriggerNow)
	d.poke()
	return nil
}

// Reload replaces the daemon's jobs (strata.yaml read again). A running
// job runs to its end; a queued job that is gone is dropped, one that
// stays keeps its place; a job whose schedule changed is next due at its
// new schedule's next time.
func (d *Daemon) Reload(jobs []Job) error {
	fresh, err := jobStates(jobs)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, js := range fresh {
		if old := d.jobs[name]; old != nil {
			js.queued, js.running, js.slot = old.queued, old.running, old.slot
		}
	}
	for k, q := range d.queues {
		// A run that stepped aside keeps its place: it is running.
		q = slices.DeleteFunc(q, func(e queued) bool { return e.resume == nil && fresh[e.job] == nil })
		d.queues[k] = q
	}
	d.jobs = fresh
	if err := d.loadNext(d.clock.Now()); err != nil {
		return err
	}
	d.poke()
	return nil
}

// RunOnce runs the job name at once, without the loop (`strata schedule
// run`, for a systemd timer): its hooks, record, next due time and
// events as the daemon's; after a success, the jobs that follow it
// (Job.After) likewise. It returns the record of name's run.
func (d *Daemon) RunOnce(ctx context.Context, name string) (state.Run, error) {
	d.mu.Lock()
	js := d.jobs[name]
	d.mu.Unlock()
	if js == nil {
		return state.Run{}, fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	now := d.clock.Now()
	run := d.execute(ctx, js.job, now, TriggerNow, nil, nil)
	if run.Result != state.Succeeded || ctx.Err() != nil {
		return run, nil
	}
	// The jobs that follow it run now too, one after the other: no loop
	// would queue them.
	d.mu.Lock()
	var follow []Job
	for _, name := range d.followers(name) {
		follow = append(follow, d.jobs[name].job)
	}
	d.mu.Unlock()
	for _, j := range follow {
		d.execute(ctx, j, d.clock.Now(), TriggerAfter, nil, nil)
	}
	return run, nil
}
