// Package daemon runs strata.yaml's jobs (backups, checks, drills) on
// their schedules: the engine behind `strata daemon` and `strata schedule
// run`.
//
// Layer: above service/state (run records, next due times) and
// service/hooks; below cmd/strata, which turns strata.yaml into Jobs and
// gives a Runner that calls the workflow library. The package knows
// nothing of flags, YAML or how a backup is made.
//
// Words: a Job is a named, scheduled piece of work on one repository; a
// run is one execution of it (state.Run); a job is due when its next due
// time has come; due jobs queue per repository, in due order, and one
// job at a time runs on each repository (jobs on different repositories
// run side by side). When a run ends, the job's next due time is its
// schedule's next time after the end, so runs missed while the daemon was
// down, or while the job waited or ran, are caught up once, not once per
// missed slot (as systemd's Persistent=true timers do). Next due times
// are persisted in the state folder when they change, and a queued or
// running job keeps its past due time there until its run ends: a daemon
// that dies or is stopped loses no run.
//
// Events (started, succeeded, failed, lock-busy) go to the functions
// given to Subscribe: notifications and metrics hang off them. Jobs and
// Runs read the state for a dashboard; RunNow queues a job at once.
package daemon
