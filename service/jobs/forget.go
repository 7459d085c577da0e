package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"strata/internal/progress"
	"strata/repo"
	"strata/repo/audit"
	"strata/repo/prune"
	"strata/service/config"
	"strata/service/daemon"
	"strata/workflow"
)

// forget applies strata.yaml's retention policy as `strata forget
// --config FILE` does (with --prune when retention.prune is set), in the
// daemon's process, and records it in the audit trail. The run's log
// says the policy, each group's decision and each snapshot removed.
func (r *Runner) forget(ctx context.Context, cfg *config.Config, rp *repo.Repository, job daemon.Job, log *slog.Logger, start time.Time) (daemon.Outcome, error) {
	req, err := ForgetRequest(cfg)
	if err != nil {
		return daemon.Outcome{}, err
	}
	// Waiting for its exclusive lock (another process's check or
	// restore holds a shared one), the forget steps aside: the daemon's
	// backups, which need only a shared lock, run meanwhile.
	lock := r.Lock
	if s := daemon.SlotOf(ctx); s != nil {
		lock.StepAside = s
	}
	req.Lock, req.Logger = lock, log
	if req.Prune != nil {
		req.Prune.Lock, req.Prune.Logger = lock, log
	}
	req.Decided = func(rep *workflow.ForgetReport) {
		ch := rep.Policy
		log.Info(fmt.Sprintf("policy: from %s (%s); times in %s", ch.From, ch.Rules.String(), ch.Location))
		for _, gr := range rep.Groups {
			removing := 0
			for _, d := range gr.Decisions {
				if !d.Keep {
					removing++
				}
			}
			log.Info(fmt.Sprintf("%s: %s, keep %d, remove %d", gr.Key, progress.Counted(len(gr.Decisions), "snapshot"), len(gr.Decisions)-removing, removing))
		}
	}
	rep, err := workflow.Forget(ctx, rp, req)
	if errors.Is(err, repo.ErrLocked) {
		return daemon.Outcome{}, err
	}
	out := daemon.Outcome{}
	if rep != nil {
		out.Report = rep
		out.Summary = forgetSummary(rep)
		log.Info(out.Summary)
	}
	var flags []string
	if req.Prune != nil {
		flags = append(flags, "--prune")
	}
	r.recordAuditArgs(ctx, rp, "forget", flags, "", job, start, audit.Result{}, err)
	return out, err
}

// ForgetRequest is the forget strata.yaml's retention section asks for:
// its policy, zone and grouping, and a prune (with prune's defaults)
// when retention.prune is set. Its Lock and Logger are the caller's.
func ForgetRequest(cfg *config.Config) (workflow.ForgetRequest, error) {
	ret := cfg.Retention
	if ret == nil {
		return workflow.ForgetRequest{}, fmt.Errorf("%s has no retention section: the daemon has no policy to apply", cfg.File)
	}
	p, err := ret.Policy()
	if err != nil {
		return workflow.ForgetRequest{}, fmt.Errorf("%s: retention: %w", cfg.File, err)
	}
	req := workflow.ForgetRequest{Policy: workflow.PolicyChoice{Rules: &p, Source: workflow.PolicyFromConfig, From: cfg.File,
		Timezone: ret.Timezone, TimezoneFrom: cfg.File}}
	if ret.GroupBy != "" {
		req.GroupBy = strings.Split(ret.GroupBy, ",")
	}
	if ret.Prune {
		req.Prune = &workflow.PruneRequest{MaxUnused: prune.DefaultMaxUnused}
	}
	return req, nil
}

// forgetSummary is a forget's one line: "forget: removed 2 of 4
// snapshots, kept 2; freed: 1.2 MiB".
func forgetSummary(rep *workflow.ForgetReport) string {
	s := fmt.Sprintf("forget: removed %d of %s, kept %d", len(rep.Removed), progress.Counted(len(rep.Removed)+rep.Kept, "snapshot"), rep.Kept)
	if rep.KeptProtected > 0 {
		s += fmt.Sprintf(" (%d protected)", rep.KeptProtected)
	}
	if n := len(rep.Locked); n > 0 {
		s += fmt.Sprintf(", %d left under object lock", n)
	}
	if p := rep.Prune; p != nil && p.Report != nil {
		s += "; freed: " + progress.Bytes(uint64(max(p.Report.Freed(), 0)))
		if p.SpaceShort {
			s += " (space short: nothing repacked)"
		}
	}
	return s
}
