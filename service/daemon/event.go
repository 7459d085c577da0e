package daemon

import (
	"time"

	"strata/service/state"
)

// EventKind is what happened to a job.
type EventKind string

// The events of a run: Started, then one of Succeeded, Failed and
// LockBusy. A run aborted by the daemon's stop ends with Failed (its
// Run.Result says Aborted).
const (
	Started   EventKind = "started"
	Succeeded EventKind = "succeeded"
	Failed    EventKind = "failed"
	LockBusy  EventKind = "lock-busy"
)

// Event tells a subscriber of a run's start or end.
type Event struct {
	Kind EventKind
	Time time.Time
	Job  Job
	// Run is the run's record: at Started without End or result, at the
	// end complete (with its log).
	Run state.Run
	// Report is the end event's Outcome.Report: the workflow's typed
	// report, or nil.
	Report any
}

// endEvent is the event that ends a run of result r.
func endEvent(r state.Result) EventKind {
	switch r {
	case state.Succeeded:
		return Succeeded
	case state.LockBusy:
		return LockBusy
	}
	return Failed
}
