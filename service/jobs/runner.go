package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"strata/filter"
	"strata/repo"
	"strata/repo/archive"
	"strata/repo/audit"
	"strata/service/config"
	"strata/service/daemon"
	"strata/verify"
	"strata/workflow"
)

// Runner does the work of strata.yaml's jobs through the workflow
// library, in the process that calls it (the daemon's).
type Runner struct {
	// URL is the repository's location (strata.yaml's, or --repo).
	URL string
	// Config is strata.yaml; SetConfig replaces it while jobs run.
	Config *config.Config
	// Password returns the repository's password, from the source the
	// config names.
	Password func(ctx context.Context) (string, error)
	// Getenv reads database passwords and storage credentials (os.Getenv
	// if nil).
	Getenv func(string) string
	// Program is recorded in snapshots ("strata 1.2.3").
	Program string
	// Lock says how long to wait for another process's lock.
	Lock workflow.LockOptions

	mu sync.Mutex
}

// SetConfig replaces the config the next runs read (SIGHUP).
func (r *Runner) SetConfig(cfg *config.Config) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Config = cfg
}

func (r *Runner) config() *config.Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Config
}

// RunJob runs job (as FromConfig made it from r.Config).
func (r *Runner) RunJob(ctx context.Context, job daemon.Job, log *slog.Logger) (daemon.Outcome, error) {
	getenv := r.getenv()
	cfg := r.config()
	rp, err := workflow.Open(ctx, workflow.OpenRequest{
		URL:          r.URL,
		PasswordFunc: func() (string, error) { return r.Password(ctx) },
		Getenv:       getenv,
		Logger:       log,
	})
	if err != nil {
		return daemon.Outcome{}, fmt.Errorf("opening repository %s: %w", workflow.OpenRequest{URL: r.URL}.Name(), err)
	}
	// A lock that names a snapshot the run saved stays until the run's
	// audit record is written (repo.KeepLocksUntilRecorded).
	rp.KeepLocksUntilRecorded()
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
		defer cancel()
		if err := rp.ReleaseRecordedLocks(rctx); err != nil {
			log.Warn("a lock kept for the run's audit record could not be removed; the next run removes it as stale", "err", err)
		}
	}()
	start := time.Now()
	ctx = context.WithValue(ctx, loggerKey{}, log)
	switch job.Kind {
	case KindBackup:
		out, err := r.backup(ctx, cfg, rp, job, log)
		if !errors.Is(err, repo.ErrLocked) {
			r.recordAudit(ctx, rp, "backup", job, start, audit.Result{}, err)
		}
		return out, err
	case KindCheck:
		return r.check(ctx, cfg, rp, job, log, start)
	case KindDrill:
		return r.drill(ctx, cfg, rp, job, log)
	case KindForget:
		return r.forget(ctx, cfg, rp, job, log, start)
	}
	return daemon.Outcome{}, fmt.Errorf("job %s: strata daemon cannot run jobs of kind %q", job.Name, job.Kind)
}

type loggerKey struct{}

// logger is the run's logger that RunJob put in ctx.
func (r *Runner) logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// check checks the repository as strata.yaml's check section says. Damage
// found fails the run; its findings and what to do are in the run's log.
func (r *Runner) check(ctx context.Context, cfg *config.Config, rp *repo.Repository, job daemon.Job, log *slog.Logger, start time.Time) (daemon.Outcome, error) {
	c := cfg.Check
	if c == nil {
		return daemon.Outcome{}, fmt.Errorf("%s has no check section", cfg.File)
	}
	rep, err := workflow.Check(ctx, rp, workflow.CheckRequest{ReadData: c.ReadData, Subset: c.ReadDataSubset, Lock: r.Lock, Logger: log})
	out := daemon.Outcome{Report: rep, ReadData: c.ReadData, ReadDataSubset: c.ReadDataSubset}
	if errors.Is(err, repo.ErrLocked) {
		return out, err
	}
	var res audit.Result
	if err == nil {
		errs := rep.Errors
		res.Check = rep.AuditResult()
		for _, f := range rep.Report.Findings {
			log.Warn(f.Error())
		}
		for _, step := range rep.Report.WhatToDo() {
			log.Info("to do: "+step.Why, "command", step.Command)
		}
		what := "check"
		if read := verify.DataRead(c.ReadData, c.ReadDataSubset); read != "" {
			what += " (" + read + ")"
		}
		out.Summary = fmt.Sprintf("%s: %d errors, %d notices", what, errs, len(rep.Report.Findings)-errs)
		if !rep.OK {
			err = fmt.Errorf("check found %d errors in repository %s: see the run's log, and run strata check for what to do", errs, workflow.OpenRequest{URL: r.URL}.Name())
		}
	}
	// The flags of strata check that say what the check read, so that
	// its record's command line tells a full read from a subset.
	var flags []string
	switch {
	case c.ReadDataSubset != "":
		flags = []string{"--read-data-subset", c.ReadDataSubset}
	case c.ReadData:
		flags = []string{"--read-data"}
	}
	r.recordAuditArgs(ctx, rp, "check", flags, "", job, start, res, err)
	if err == nil {
		log.Info(out.Summary)
	}
	return out, err
}

func (r *Runner) getenv() func(string) string {
	if r.Getenv != nil {
		return r.Getenv
	}
	return os.Getenv
}

// backup saves the job's source in a new snapshot.
func (r *Runner) backup(ctx context.Context, cfg *config.Config, rp *repo.Repository, job daemon.Job, log *slog.Logger) (daemon.Outcome, error) {
	cj, err := cfg.Job(job.Name)
	if err != nil {
		return daemon.Outcome{}, err
	}
	src, err := cfg.Source(cj.Source)
	if err != nil {
		return daemon.Outcome{}, err
	}
	req := workflow.BackupRequest{Host: cj.Host, Tags: cj.Tags, Tier: cj.Tier, Program: r.Program, Lock: r.Lock, Logger: log}
	var cmd *CommandOutput
	switch src.Type {
	case config.SourcePostgres, config.SourceMySQL, config.SourceSQLite:
		pw, err := r.dbPassword(cfg, src)
		if err != nil {
			return daemon.Outcome{}, err
		}
		req.Database = &workflow.DatabaseSource{DSN: src.DSN, Password: pw, PasswordFile: src.PasswordFile, Tables: src.Tables,
			ExcludeTables: src.ExcludeTables, Schemas: src.Schemas}
	case config.SourcePath:
		req.Paths = src.Paths
		if len(src.Exclude) > 0 {
			l, err := filter.ParseList(src.Exclude, false)
			if err != nil {
				return daemon.Outcome{}, fmt.Errorf("source %s: exclude: %w", src.Name, err)
			}
			req.Exclude = archive.Exclusions{Patterns: l}
		}
	case config.SourceCommand:
		if cmd, err = StartCommand(ctx, cfg, src, log); err != nil {
			return daemon.Outcome{}, err
		}
		req.Stdin, req.StdinName = cmd, stdinName(src)
	default:
		return daemon.Outcome{}, fmt.Errorf("source %s of type %s cannot be backed up by the daemon, which has no standard input: use a command source", src.Name, src.Type)
	}
	rep, err := workflow.Backup(ctx, rp, req)
	if cmd != nil {
		if cerr := cmd.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	if err != nil {
		return daemon.Outcome{Report: rep}, err
	}
	sn := rep.Snapshot
	s := sn.Summary
	out := daemon.Outcome{Snapshot: sn.ID.String(), Report: rep,
		Summary: fmt.Sprintf("snapshot %s saved: %d new, %d changed, %d unchanged; %d bytes read, %d added, in %.1f s",
			sn.ID.Short(), s.FilesNew, s.FilesChanged, s.FilesUnchanged, s.BytesRead, s.BytesAdded, s.Seconds)}
	log.Info(out.Summary)
	return out, nil
}

// dbPassword is the password of src's password_env, if it names one.
func (r *Runner) dbPassword(cfg *config.Config, src *config.Source) (string, error) {
	if src.PasswordEnv == "" {
		return "", nil
	}
	return config.ReadSecret(fmt.Sprintf("%s: source %s: password_env", cfg.File, src.Name), src.PasswordEnv, "", r.getenv())
}

func stdinName(src *config.Source) string {
	if src.StdinName != "" {
		return src.StdinName
	}
	return src.Name
}
