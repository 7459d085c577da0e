package daemon

import (
	"context"
	"slices"
	"time"

	"strata/service/state"
)

// slot is a run's hold on its repository: the one job that runs there.
// A run that only waits for another process's lock gives it up
// (Release), so that the repository's other jobs run meanwhile (backups
// need a shared lock, which a prune waiting for its exclusive one does
// not stop), and takes it back before each attempt (Reclaim), queued in
// its due order as any job. "One job at a time on a repository" holds
// for the jobs that do something: a run that stepped aside only waits.
type slot struct {
	d   *Daemon
	key string // the repository's
	job string
	due time.Time
	// held: the repository is this run's (d.busy[key]). Guarded by d.mu.
	held bool
	// waitSince is when the run first stepped aside (JobStatus's
	// LockWaitSince). Guarded by d.mu.
	waitSince time.Time
	// run and out are the run's record and log, written when it first
	// steps aside; used only by the run's goroutine.
	run *state.Run
	out *logBuffer
}

type slotKey struct{}

// SlotOf is the hold on its repository of the daemon's run whose context
// ctx is, nil outside one: a Runner gives it to a workflow that may wait
// for an exclusive lock (workflow.LockOptions.StepAside).
func SlotOf(ctx context.Context) interface {
	Release()
	Reclaim(ctx context.Context) error
} {
	if s, ok := ctx.Value(slotKey{}).(*slot); ok && s != nil {
		return s
	}
	return nil
}

// Release gives the repository up while the run waits.
func (s *slot) Release() {
	d := s.d
	now := d.clock.Now()
	d.mu.Lock()
	released := s.held
	if s.held {
		s.held = false
		d.busy[s.key] = false
		if s.waitSince.IsZero() {
			s.waitSince = now
		}
	}
	d.mu.Unlock()
	if !released {
		return
	}
	d.poke()
	if s.run != nil && s.run.LockWaitSince.IsZero() {
		s.run.LockWaitSince = now
		r := *s.run
		r.Log = s.out.String()
		if err := d.store.UpdateRun(r); err != nil {
			d.log.Error("cannot record that a run waits for the lock", "job", s.job, "err", err)
		}
		d.log.Info("run waits for another process's lock; the repository's other jobs run meanwhile", "job", s.job)
	}
}

// Reclaim queues the run again (in its due order) and returns once the
// repository is its own, or when ctx ends.
func (s *slot) Reclaim(ctx context.Context) error {
	d := s.d
	granted := make(chan struct{})
	d.mu.Lock()
	if s.held {
		d.mu.Unlock()
		return nil
	}
	d.queue(s.key, queued{job: s.job, due: s.due, resume: s, granted: granted})
	d.mu.Unlock()
	d.poke()
	select {
	case <-granted:
		return nil
	case <-ctx.Done():
		d.mu.Lock()
		d.queues[s.key] = slices.DeleteFunc(d.queues[s.key], func(q queued) bool { return q.resume == s })
		d.mu.Unlock()
		return ctx.Err()
	}
}

// free gives the repository up when the run ends, if it holds it. d.mu
// is held.
func (s *slot) free() {
	if s.held {
		s.held = false
		s.d.busy[s.key] = false
	}
}
