package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"strata/dbexport"
	"strata/pack"
	"strata/repo"
	"strata/repo/audit"
	"strata/service/config"
	"strata/service/daemon"
	"strata/verify"
	"strata/workflow"
)

// drill restores the newest snapshot of the drill section's source (of
// every database source when it names none) into a scratch database and
// inspects it, as strata verify drill does; each drill is recorded in the
// audit trail, where strata health reads the last one. A drill that
// finds problems fails the run.
func (r *Runner) drill(ctx context.Context, cfg *config.Config, rp *repo.Repository, job daemon.Job, log *slog.Logger) (daemon.Outcome, error) {
	d := cfg.Drill
	if d == nil {
		return daemon.Outcome{}, fmt.Errorf("%s has no drill section", cfg.File)
	}
	// The scratch server's password: from the variable
	// drill.target_password_env names, else target_password_file (read
	// by the workflow), else PGPASSWORD / MYSQL_PWD. It never goes into a
	// process's arguments or the run's log.
	password, err := config.ReadSecret(fmt.Sprintf("%s: drill.target_password_env", cfg.File), d.TargetPasswordEnv, "", r.getenv())
	if err != nil {
		return daemon.Outcome{}, err
	}
	var sources []*config.Source
	for i := range cfg.Sources {
		s := &cfg.Sources[i]
		isDB := s.Type == config.SourcePostgres || s.Type == config.SourceMySQL || s.Type == config.SourceSQLite
		if isDB && (d.Source == "" || s.Name == d.Source) {
			sources = append(sources, s)
		}
	}
	if len(sources) == 0 {
		return daemon.Outcome{}, fmt.Errorf("%s: drill: no database source to drill", cfg.File)
	}
	var out daemon.Outcome
	var summaries []string
	var errs []error
	for _, src := range sources {
		start := time.Now()
		rep, err := workflow.Drill(ctx, rp, workflow.DrillRequest{
			Snapshot: "latest", Source: src.DSN, Target: d.Target, Password: password, PasswordFile: d.TargetPasswordFile,
			Tables: d.Tables, SameEngine: d.SameEngine, Lock: r.Lock, Logger: log,
		})
		out.Report = rep
		if errors.Is(err, repo.ErrLocked) || ctx.Err() != nil {
			return out, err
		}
		var res audit.Result
		if rep.Snapshot != nil {
			out.Snapshot = rep.Snapshot.ID.String()
		}
		if err == nil && rep.Report != nil {
			res.Drill = drillResult(rep.Report)
			for _, t := range rep.Report.Tables {
				for _, p := range t.Problems {
					log.Warn(fmt.Sprintf("table %s: %s", t.Table, p))
				}
			}
			for _, p := range rep.Report.SchemaProblems {
				log.Warn(p)
			}
			s := fmt.Sprintf("drill of %s (snapshot %s): %d tables restored in %.1f s", src.Name, rep.Snapshot.ID.Short(), len(rep.Report.Tables), rep.Report.RestoreSeconds)
			if !rep.OK {
				msg := rep.Report.Error
				if msg == "" {
					msg = "see the run's log"
				}
				err = fmt.Errorf("drill of source %s (snapshot %s) found problems: %s", src.Name, rep.Snapshot.ID.Short(), msg)
				s += ", problems found"
			}
			summaries = append(summaries, s)
			log.Info(s)
		}
		if err != nil {
			err = fmt.Errorf("source %s: %w", src.Name, err)
			errs = append(errs, err)
		}
		var read []pack.ID
		var drilled string
		if rep.Snapshot != nil {
			read = append(read, rep.Snapshot.ID)
			drilled = dbexport.SourceName(rep.Snapshot)
		}
		r.recordAuditArgs(ctx, rp, "verify drill", nil, drilled, job, start, res, err, read...)
	}
	out.Summary = strings.Join(summaries, "; ")
	return out, errors.Join(errs...)
}

// drillResult is a drill's result in its audit record: the restore's time
// and each table's rows and verdict (as the CLI's verify drill records).
func drillResult(rep *verify.DrillReport) *audit.DrillResult {
	d := &audit.DrillResult{OK: rep.OK(), RestoreSeconds: rep.RestoreSeconds, Tables: []audit.DrillTable{}}
	for _, t := range rep.Tables {
		d.Tables = append(d.Tables, audit.DrillTable{Table: t.Table, Rows: t.RestoredRows, OK: len(t.Problems) == 0})
	}
	return d
}
