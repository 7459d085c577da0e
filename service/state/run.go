package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Result is how a run ended.
type Result string

// The results of a run.
const (
	// Running: the run has started and not ended (or its daemon died:
	// see Interrupted).
	Running Result = "running"
	// Succeeded: the job did what it was asked.
	Succeeded Result = "succeeded"
	// Failed: the job, or a before hook, failed; Error says why.
	Failed Result = "failed"
	// LockBusy: another process held the repository's lock.
	LockBusy Result = "lock-busy"
	// Aborted: the daemon was stopped (SIGTERM) during the run, which it
	// cancelled; the job is run again once the daemon is back.
	Aborted Result = "aborted"
	// Interrupted: the daemon died during the run (found "running" at the
	// next start).
	Interrupted Result = "interrupted"
)

// MaxLog is the most of a run's log a record keeps: the first and last
// halves, with a line saying how much was left out between them.
const MaxLog = 256 << 10

// Run is the record of one run of a job, as stored in runs/ARCHIVE.json.
type Run struct {
	// ID names the run: its start time (UTC, nanoseconds) and job, as in
	// its file name.
	ID string `json:"id"`
	// Job is the job's name in strata.yaml; Kind is backup, check, drill,
	// forget or prune.
	Job  string `json:"job"`
	Kind string `json:"kind,omitempty"`
	// Due is when the run was due (its schedule's time, or the time of a
	// "run now"); Trigger says which: "schedule", "catch-up", "now".
	Due     time.Time `json:"due"`
	Trigger string    `json:"trigger,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
	Result  Result    `json:"result"`
	// Snapshot is the ID of the snapshot a backup saved.
	Snapshot string `json:"snapshot,omitempty"`
	// Summary is the job's one-line report (what a backup added, what a
	// check found).
	Summary string `json:"summary,omitempty"`
	Error   string `json:"error,omitempty"`
	// ReadData and ReadDataSubset say, for a check, what it read of the
	// packs' data: all of it, or a subset ("1/10", "10%"); neither: the
	// structure alone.
	ReadData       bool   `json:"read_data,omitempty"`
	ReadDataSubset string `json:"read_data_subset,omitempty"`
	// LockWaitSince is when the run first stepped aside to wait for
	// another process's lock (its repository free for the daemon's other
	// jobs meanwhile); a run still "running" with it set is waiting, or
	// runs after waiting.
	LockWaitSince time.Time `json:"lock_wait_since,omitzero"`
	// Log is the run's log: the job's messages and its hooks' output,
	// cut to MaxLog.
	Log string `json:"log,omitempty"`
}

// Duration is how long the run took (0 while it runs).
func (r Run) Duration() time.Duration {
	if r.End.IsZero() {
		return 0
	}
	return r.End.Sub(r.Start)
}

// runID is the ID (and file name without .json) of a run of job that
// started at start: sorting IDs sorts runs by start.
func runID(job string, start time.Time) string {
	return start.UTC().Format("20060102T150405.000000000Z") + "-" + job
}

// errDecode marks a file of the state folder that is not what strata
// wrote there.
var errDecode = errors.New("not a strata state file")

// DecodeRun decodes a run's record.
func DecodeRun(b []byte) (Run, error) {
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return Run{}, fmt.Errorf("%w: %v", errDecode, err)
	}
	if r.ID == "" || r.Job == "" || r.Result == "" {
		return Run{}, fmt.Errorf("%w: a run without ID, job or result", errDecode)
	}
	for _, t := range []time.Time{r.Due, r.Start, r.End, r.LockWaitSince} {
		if t.Year() < 0 || t.Year() > 9999 {
			return Run{}, fmt.Errorf("%w: a time in the year %d", errDecode, t.Year())
		}
	}
	return r, nil
}

// cutLog keeps the first and last halves of a log longer than max.
func cutLog(log string, max int) string {
	if len(log) <= max {
		return log
	}
	half := max / 2
	return log[:half] + fmt.Sprintf("\n[... %d bytes of the log left out ...]\n", len(log)-2*half) + log[len(log)-half:]
}
