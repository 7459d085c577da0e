package jobs

import (
	"context"
	"os"
	"os/user"
	"time"

	"strata/pack"
	"strata/redact"
	"strata/repo"
	"strata/repo/audit"
	"strata/service/daemon"
)

// auditTimeout bounds the write of a run's audit record.
const auditTimeout = 30 * time.Second

// recordAudit appends the record of a run to the repository's audit trail
// (docs/design.md, "The audit trail"), as the CLI does for the command of
// the same name: the daemon's backups change the repository, and its
// checks and drills are what strata health reads. A record that cannot be
// written is a warning in the run's log; the run's result stands.
//
// read are the snapshots the run restored from (a drill's).
func (r *Runner) recordAudit(ctx context.Context, rp *repo.Repository, command string, job daemon.Job, start time.Time, res audit.Result, err error, read ...pack.ID) {
	r.recordAuditArgs(ctx, rp, command, nil, "", job, start, res, err, read...)
}

// recordAuditArgs is recordAudit with flags that say what the run did
// beyond its command ("--prune"), after the daemon's own, and for a drill
// the source of the snapshot it restored.
func (r *Runner) recordAuditArgs(ctx context.Context, rp *repo.Repository, command string, flags []string, source string, job daemon.Job, start time.Time, res audit.Result, err error, read ...pack.ID) {
	rec := &audit.Record{
		Time: start, Seconds: time.Since(start).Seconds(), Command: command,
		Args:    append([]string{"daemon", "--config", r.config().File, "--job", job.Name}, flags...),
		Result:  res,
		Program: r.Program,
		Source:  source,
	}
	rec.Host, _ = os.Hostname()
	if u, uerr := user.Current(); uerr == nil {
		rec.User = u.Username
	}
	rec.Result.OK = err == nil
	if err != nil {
		rec.Result.Error = redact.String(err.Error())
		rec.Result.ExitCode = 1
	}
	rec.AddSnapshots(rp.SnapshotsTouched()...)
	rec.AddSnapshots(read...)
	stale := rp.StaleLockSnapshots()
	rec.StaleLockSnapshots = stale[:min(len(stale), audit.MaxSnapshots)]
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if _, werr := audit.New(rp.Backend(), rp.Key()).Append(wctx, rec); werr != nil {
		r.logger(ctx).Warn("the audit record of this run could not be written; the run's result stands", "err", werr)
	}
}
