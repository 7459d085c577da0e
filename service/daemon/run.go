package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"strata/repo"
	"strata/service/hooks"
	"strata/service/state"
)

// The triggers of a run (state.Run.Trigger).
const (
	TriggerSchedule = "schedule"
	TriggerCatchUp  = "catch-up"
	TriggerNow      = "now"
	// TriggerAfter: queued by a successful run of a job named in its
	// Job.After.
	TriggerAfter = "after"
)

// logBuffer is a run's log, written by the job's logger and its hooks.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Bounded: a record keeps state.MaxLog, its first and last halves.
	if b.buf.Len() > 4*state.MaxLog {
		keep := b.buf.Bytes()[:state.MaxLog]
		tail := b.buf.Bytes()[b.buf.Len()-state.MaxLog:]
		var nb bytes.Buffer
		nb.Write(keep)
		fmt.Fprintf(&nb, "\n[... log cut while the job ran ...]\n")
		nb.Write(tail)
		b.buf = nb
	}
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// execute runs job once: before hooks, the Runner, success or failure
// hooks, after hooks; it records the run in the store and tells the
// subscribers. ctx cancelled (the daemon stopping) aborts the run.
//
// ended, if not nil, is called with the run's result once the run is
// recorded, before the subscribers hear of its end.
//
// sl, when not nil, is the run's hold on its repository, which the
// Runner may give up while it waits for a lock (SlotOf).
func (d *Daemon) execute(ctx context.Context, job Job, due time.Time, trigger string, sl *slot, ended func(state.Result)) state.Run {
	run := state.Run{Job: job.Name, Kind: job.Kind, Due: due, Trigger: trigger, Start: d.clock.Now()}
	run, err := d.store.StartRun(run)
	if err != nil {
		// Without its record the run would be lost after a crash; the
		// job still runs, and the daemon's log says why no record is.
		d.log.Error("cannot record the start of a run", "job", job.Name, "err", err)
	}
	d.emit(Event{Kind: Started, Time: run.Start, Job: job, Run: run})
	d.log.Info("run started", "job", job.Name, "kind", job.Kind, "trigger", trigger, "due", due.Format(time.RFC3339))

	var out logBuffer
	logger := slog.New(slog.NewMultiHandler(
		slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}),
		d.log.Handler().WithAttrs([]slog.Attr{slog.String("job", job.Name)}),
	))
	env := hooks.Env{Job: job.Name, Kind: job.Kind, Tier: job.Tier, Source: job.Source, Repository: job.Repository}
	hookErr := d.hooks.Run(ctx, hooks.Before, job.Hooks.Before, env, &out)
	var outcome Outcome
	if hookErr != nil {
		err = hookErr
	} else {
		rctx := ctx
		if sl != nil {
			sl.run, sl.out = &run, &out
			rctx = context.WithValue(ctx, slotKey{}, sl)
		}
		outcome, err = d.attempts(rctx, job, logger)
	}
	run.Snapshot, run.Summary = outcome.Snapshot, outcome.Summary
	run.ReadData, run.ReadDataSubset = outcome.ReadData, outcome.ReadDataSubset
	switch {
	case err == nil:
		run.Result = state.Succeeded
	case ctx.Err() != nil:
		run.Result = state.Aborted
		run.Error = fmt.Sprintf("stopped: the daemon was told to stop during the run (%v); the job runs again once it is back", err)
	case errors.Is(err, repo.ErrLocked):
		run.Result = state.LockBusy
		run.Error = err.Error()
	default:
		run.Result = state.Failed
		run.Error = err.Error()
	}
	if err != nil {
		fmt.Fprintf(&out, "error: %s\n", run.Error)
	}
	env.Snapshot, env.Result, env.Error = run.Snapshot, string(run.Result), run.Error
	// The after hooks run even when the daemon stops: they may release
	// what a before hook took (a database put in backup mode).
	hctx := context.WithoutCancel(ctx)
	when := hooks.Success
	if run.Result != state.Succeeded {
		when = hooks.Failure
	}
	_ = d.hooks.Run(hctx, when, job.Hooks.Of(when), env, &out)
	_ = d.hooks.Run(hctx, hooks.After, job.Hooks.After, env, &out)

	run.End = d.clock.Now()
	run.Log = out.String()
	if err := d.store.FinishRun(run); err != nil {
		d.log.Error("cannot record the end of a run", "job", job.Name, "run", run.ID, "err", err)
	}
	if run.Result != state.Aborted {
		d.scheduleNext(job, run.End)
	}
	lvl := slog.LevelInfo
	if run.Result != state.Succeeded {
		lvl = slog.LevelError
	}
	if ended != nil {
		ended(run.Result)
	}
	d.log.Log(ctx, lvl, "run ended", "job", job.Name, "result", run.Result, "snapshot", run.Snapshot,
		"seconds", run.End.Sub(run.Start).Seconds(), "err", run.Error)
	d.emit(Event{Kind: endEvent(run.Result), Time: run.End, Job: job, Run: run, Report: outcome.Report})
	return run
}

// scheduleNext persists job's next due time after a run that ended at
// end: its schedule's first time after end. A reload during the run may
// have changed the schedule: the current one counts.
func (d *Daemon) scheduleNext(job Job, end time.Time) {
	d.mu.Lock()
	if js := d.jobs[job.Name]; js != nil {
		job = js.job
		js.next, js.catchUp = job.next(end), false
	}
	d.mu.Unlock()
	next := job.next(end)
	err := d.store.UpdateJobs(func(jobs map[string]state.Job) {
		j := jobs[job.Name]
		j.Schedule, j.NextDue = job.ScheduleText, next
		jobs[job.Name] = j
	})
	if err != nil {
		d.log.Error("cannot record the next due time", "job", job.Name, "err", err)
	}
}

// emit tells every subscriber of e, one after the other.
func (d *Daemon) emit(e Event) {
	d.mu.Lock()
	subs := d.subscribers
	d.mu.Unlock()
	for _, fn := range subs {
		fn(e)
	}
}

// attempts runs the job's Runner, again after a failure as often as
// job.Retries says (Retries+1 tries in all, RetryDelay apart), each
// attempt bounded by job.Timeout. A run that did not get the lock is not
// tried again: it has waited for it (repository.lock_wait) already.
func (d *Daemon) attempts(ctx context.Context, job Job, log *slog.Logger) (Outcome, error) {
	for attempt := 1; ; attempt++ {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if job.Timeout > 0 {
			actx, cancel = context.WithTimeoutCause(ctx, job.Timeout, fmt.Errorf("job %s took longer than its timeout %v", job.Name, job.Timeout))
		}
		out, err := d.runner.RunJob(actx, job, log)
		if err != nil && actx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("%w (%v)", context.Cause(actx), err)
		}
		cancel()
		if err == nil || ctx.Err() != nil || attempt > job.Retries || errors.Is(err, repo.ErrLocked) {
			return out, err
		}
		log.Warn("attempt failed; trying again", "attempt", attempt, "of", job.Retries+1, "in", job.RetryDelay.String(), "err", err)
		t := d.clock.NewTimer(job.RetryDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			return out, err
		case <-t.C():
		}
	}
}
