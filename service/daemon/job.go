package daemon

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"strata/service/hooks"
)

// Schedule gives a job's due times: Next returns the first due time
// strictly after t.
type Schedule interface {
	Next(t time.Time) time.Time
}

// Job is a named, scheduled piece of work.
type Job struct {
	// Name is the job's name in strata.yaml; Kind is what it does
	// (backup, check, drill, forget, prune), for the Runner, hooks and
	// events.
	Name, Kind string
	// Tier and Source are the backup's tier and the name of its source,
	// for hooks and events ("" for a check or drill).
	Tier, Source string
	// Repository is where the job works. Jobs on one repository never run
	// at once.
	Repository string
	// Schedule says when the job is due; ScheduleText is its text in
	// strata.yaml: when it changes, the next due time is computed afresh.
	// A nil Schedule, or one whose Next is the zero time, is never due:
	// the job runs only when asked (RunNow, RunOnce).
	Schedule     Schedule
	ScheduleText string
	// After names jobs whose successful run queues this one (trigger
	// TriggerAfter), once however many of them succeed before it runs:
	// the retention policy applied after every backup.
	After []string
	Hooks hooks.Set
	// Timeout aborts a run that takes longer (0: none).
	Timeout time.Duration
	// Retries is how often a failed run is tried again, RetryDelay
	// after the failure; a run the daemon's stop aborted is not.
	Retries    int
	RetryDelay time.Duration
}

// next is the job's first due time after t; zero: never.
func (j Job) next(t time.Time) time.Time {
	if j.Schedule == nil {
		return time.Time{}
	}
	return j.Schedule.Next(t)
}

// repoKey is the key that keeps two jobs off one repository: the
// location without a local: scheme or trailing slashes.
func (j Job) repoKey() string {
	return strings.TrimRight(strings.TrimPrefix(j.Repository, "local:"), "/")
}

// Outcome is what a run of a job reports.
type Outcome struct {
	// Snapshot is the ID of the snapshot a backup saved.
	Snapshot string
	// Summary is a one-line report for the run's record.
	Summary string
	// ReadData and ReadDataSubset are what a check read of the packs'
	// data, for the run's record.
	ReadData       bool
	ReadDataSubset string
	// Report is the workflow's typed report (workflow.BackupReport,
	// CheckReport, DrillReport...), for the subscribers of the end event
	// (metrics read byte counts and durations from it); nil if none.
	Report any
}

// Runner does a job's work: the backup, check or drill. It writes what
// it does to log (which goes to the run's log and the daemon's), returns
// once ctx is cancelled with the repository left consistent and its lock
// released, and returns an error wrapping repo.ErrLocked when another
// process held the repository's lock.
type Runner interface {
	RunJob(ctx context.Context, job Job, log *slog.Logger) (Outcome, error)
}

// RunnerFunc is a function as a Runner.
type RunnerFunc func(ctx context.Context, job Job, log *slog.Logger) (Outcome, error)

// RunJob calls f.
func (f RunnerFunc) RunJob(ctx context.Context, job Job, log *slog.Logger) (Outcome, error) {
	return f(ctx, job, log)
}

// The errors of the daemon's entries.
var (
	// ErrUnknownJob: no job of that name.
	ErrUnknownJob = errors.New("no such job")
	// ErrAlreadyQueued: RunNow of a job that is queued or running.
	ErrAlreadyQueued = errors.New("the job is already queued or running")
	// ErrNotRunning: RunNow or Reload of a daemon whose Run has returned.
	ErrNotRunning = errors.New("the daemon is not running")
)
