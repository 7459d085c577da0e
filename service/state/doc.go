// Package state keeps what the strata daemon must not forget across a
// restart or a crash: each job's next due time and the record of every
// run (start, end, result, snapshot ID, error and the run's log).
//
// Layer: a leaf of the service packages. It knows nothing of schedules,
// repositories or hooks; it stores what the daemon (service/daemon) and
// `strata schedule run` tell it, and serves it back to the dashboard,
// health and metrics.
//
// Words: a job is a named entry of strata.yaml's jobs (a backup, check or
// drill on a schedule); a run is one execution of a job; the state
// folder holds them:
//
//	STATE/            0700
//	  jobs.json       0600  {"version":1,"jobs":{NAME:{schedule,next_due,last_run}}}
//	  runs/           0700
//	    YYYYMMDDTHHMMSS.NNNNNNNNNZ-JOB.json   one Run, 0600
//	  lock            0600  flock: one writer of jobs.json at a time
//
// Every file is written whole to a temporary name, fsynced, renamed into
// place and the folder fsynced (writeFile), so a crash leaves either the
// old or the new file, never a torn one. A run's record is written when
// it starts (result "running") and again when it ends; a record still
// "running" when a daemon starts belongs to a daemon that died, and is
// marked "interrupted" (Store.MarkInterrupted). A record that cannot be
// decoded is renamed NAME.json.damaged in runs/ when a daemon starts
// (Store.SetAsideDamaged), never deleted, and the daemon goes on.
package state
