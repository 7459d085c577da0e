package monitor

import (
	"crypto/sha256"
	"fmt"

	"strata/service/daemon"
	"strata/service/notify"
	"strata/service/state"
	"strata/workflow"
)

// errorCounter is a check's report (verify.Report): the number of
// findings of severity error.
type errorCounter interface{ Errors() int }

// checkErrors is the number of errors a check job's report holds: the
// daemon's runner gives a workflow.CheckReport.
func checkErrors(report any) int {
	switch r := report.(type) {
	case workflow.CheckReport:
		return r.Errors
	case *workflow.CheckReport:
		if r != nil {
			return r.Errors
		}
	case errorCounter:
		return r.Errors()
	}
	return 0
}

// JobEvent turns a daemon event into the event the channels are sent,
// and false for a run the daemon aborted at its stop (it runs again at
// the next start: neither a success nor a failure).
func JobEvent(e daemon.Event, host, repository string) (notify.Event, bool) {
	run := e.Run
	ev := notify.Event{Time: e.Time, Host: host, Repository: repository, Job: e.Job.Name, Tier: e.Job.Tier,
		Source: e.Job.Source, Snapshot: run.Snapshot, RunID: RunUUID(run.ID), Duration: run.Duration(), Log: run.Log}
	what := e.Job.Kind
	if what == "" {
		what = "job"
	}
	if e.Kind == daemon.Started {
		ev.Kind = notify.JobStarted
		ev.Message = fmt.Sprintf("%s %s started", what, e.Job.Name)
		return ev, true
	}
	if run.Result == state.Aborted {
		return ev, false
	}
	ok := e.Kind == daemon.Succeeded
	ev.Error = run.Error
	if e.Kind == daemon.LockBusy && ev.Error == "" {
		ev.Error = "another process held the repository's lock"
	}
	switch e.Job.Kind {
	case "backup":
		ev.Kind = pick(ok, notify.BackupSucceeded, notify.BackupFailed)
	case "check":
		ev.Kind = pick(ok, notify.JobSucceeded, notify.CheckFailed)
		if checkErrors(e.Report) > 0 {
			ev.Kind = notify.CheckDamage
		}
	case "drill":
		ev.Kind = pick(ok, notify.DrillSucceeded, notify.DrillFailed)
	default:
		ev.Kind = pick(ok, notify.JobSucceeded, notify.JobFailed)
	}
	switch {
	case ok && run.Summary != "":
		ev.Message = fmt.Sprintf("%s %s: %s", what, e.Job.Name, run.Summary)
	case ok:
		ev.Message = fmt.Sprintf("%s %s succeeded", what, e.Job.Name)
	case e.Kind == daemon.LockBusy:
		ev.Message = fmt.Sprintf("%s %s could not take the repository's lock", what, e.Job.Name)
	case ev.Kind == notify.CheckDamage:
		ev.Message = fmt.Sprintf("check %s found damage in the repository: run strata check for the findings and what to do", e.Job.Name)
	default:
		ev.Message = fmt.Sprintf("%s %s failed", what, e.Job.Name)
	}
	return ev, true
}

func pick(ok bool, yes, no notify.Kind) notify.Kind {
	if ok {
		return yes
	}
	return no
}

// RunUUID is a UUID (version 5 form, from SHA-256) made of a run's ID, so
// the start and the end of one run carry the same one; "" for no ID.
func RunUUID(id string) string {
	if id == "" {
		return ""
	}
	h := sha256.Sum256([]byte("strata run " + id))
	h[6] = h[6]&0x0f | 0x50 // version 5
	h[8] = h[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
