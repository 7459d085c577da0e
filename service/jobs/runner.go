package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"strata/filter"
	"strata/internal/procgroup"
	"strata/repo"
	"strata/repo/archive"
	"strata/repo/audit"
	"strata/service/config"
	"strata/service/daemon"
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
	if errors.Is(err, repo.ErrLocked) {
		return daemon.Outcome{Report: rep}, err
	}
	var res audit.Result
	out := daemon.Outcome{Report: rep}
	if err == nil {
		errs := rep.Report.Errors()
		res.Check = &audit.CheckResult{Errors: errs, Notices: len(rep.Report.Findings) - errs, ReadData: rep.ReadData}
		for _, f := range rep.Report.Findings {
			log.Warn(f.Error())
		}
		for _, step := range rep.Report.WhatToDo() {
			log.Info("to do: "+step.Why, "command", step.Command)
		}
		out.Summary = fmt.Sprintf("check: %d errors, %d notices", errs, len(rep.Report.Findings)-errs)
		if !rep.OK {
			err = fmt.Errorf("check found %d errors in repository %s: see the run's log, and run strata check for what to do", errs, workflow.OpenRequest{URL: r.URL}.Name())
		}
	}
	r.recordAudit(ctx, rp, "check", job, start, res, err)
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
	var wait func() error
	cmdCtx, stopCmd := context.WithCancel(ctx)
	defer stopCmd()
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
		req.StdinName = stdinName(src)
		req.Stdin, wait, err = startCommand(cmdCtx, src.Name, src.Command, commandEnv(os.Environ(), cfg), log)
		if err != nil {
			return daemon.Outcome{}, fmt.Errorf("source %s: %w", src.Name, err)
		}
	default:
		return daemon.Outcome{}, fmt.Errorf("source %s of type %s cannot be backed up by the daemon, which has no standard input: use a command source", src.Name, src.Type)
	}
	rep, err := workflow.Backup(ctx, rp, req)
	if wait != nil {
		if err != nil {
			// The backup stopped reading: the command, blocked writing,
			// would never end.
			stopCmd()
		}
		if werr := wait(); werr != nil && err == nil {
			err = werr
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

// commandEnv is the environment of a command source: environ without
// strata's own variables (STRATA_PASSWORD, STRATA_DASHBOARD_TOKEN...) and
// those cfg reads secrets from (the repository's password, webhook URLs,
// the dashboard's token), which its output, saved in the snapshot, could
// otherwise carry. PGPASSWORD and MYSQL_PWD stay: a dump command may need
// them.
func commandEnv(environ []string, cfg *config.Config) []string {
	drop := map[string]bool{}
	for _, s := range Secrets(cfg) {
		drop[s] = true
	}
	out := []string{}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if drop[name] || strings.HasPrefix(name, "STRATA_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// commandGrace is how long a command source stopped with its run has to
// end after SIGTERM before SIGKILL.
const commandGrace = 10 * time.Second

// startCommand starts a command source. Its output is read as the
// stream to save; the reader returns the command's failure instead of
// the end of the stream, so that a failed command saves no snapshot.
func startCommand(ctx context.Context, source, command string, env []string, log *slog.Logger) (io.Reader, func() error, error) {
	// Its own process group, ended cleanly (SIGTERM, then SIGKILL) when
	// the run stops, and killed with the daemon when that is killed.
	cmd := procgroup.Shell(ctx, command, commandGrace)
	cmd.Env = env
	// Pipes of our own, not exec's: a process that left the group and
	// holds one would keep exec.Cmd.Wait waiting; procgroup.EndLeftovers
	// closes ours instead.
	out, outW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		out.Close()
		outW.Close()
		return nil, nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		out.Close()
		errR.Close()
		return nil, nil, fmt.Errorf("starting the command: %w", err)
	}
	var stderr strings.Builder
	stderrRead := make(chan struct{})
	go func() {
		_, _ = io.Copy(&limitedWriter{w: &stderr, n: 64 << 10}, errR)
		close(stderrRead)
	}()
	// What the command leaves running when it exits (`... &`) is ended
	// then: holding the output, it would keep the backup from its end.
	drained := make(chan struct{})
	outDrained := make(chan struct{})
	go func() {
		<-outDrained
		<-stderrRead
		close(drained)
	}()
	cr := &commandReader{source: source, r: out, files: []*os.File{out, errR}, cmd: cmd, stderr: &stderr, stderrRead: stderrRead,
		log: log, drained: outDrained, settled: procgroup.EndLeftovers(cmd, commandGrace, drained, out, errR)}
	return cr, cr.wait, nil
}

type commandReader struct {
	source string
	r      io.Reader
	files  []*os.File // the read ends of stdout and stderr
	cmd    *exec.Cmd
	// stderr holds what the command wrote on its standard error, read to
	// its end when stderrRead is closed.
	stderr     *strings.Builder
	stderrRead <-chan struct{}
	log        *slog.Logger
	// drained is closed once the output has ended (every process holding
	// it let it go); settled receives, once what the command left running
	// is ended, whether a process outside its group still held the
	// output.
	drained     chan struct{}
	drainedOnce sync.Once
	settled     <-chan error
	done        bool
	err         error
}

func (c *commandReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil {
		c.drainedOnce.Do(func() { close(c.drained) })
		if werr := c.wait(); werr != nil {
			return n, werr
		}
	}
	return n, err
}

// wait waits for the command once, and for what it left running to end;
// its error names the exit status and what it wrote on stderr, or says
// that a process outside the command's group held its output, which
// then may miss what that process would have written: no snapshot is
// saved of it.
func (c *commandReader) wait() error {
	if c.done {
		return c.err
	}
	c.done = true
	// A backup that stopped reading: the rest of the output is read away,
	// so that its end tells when the leftovers' SIGTERM has ended them.
	go func() {
		_, _ = io.Copy(io.Discard, c.r)
		c.drainedOnce.Do(func() { close(c.drained) })
	}()
	held := <-c.settled
	<-c.stderrRead // at once: the output's end, or closed by EndLeftovers
	for _, f := range c.files {
		f.Close()
	}
	msg := strings.TrimSpace(c.stderr.String())
	if err := c.cmd.Wait(); err != nil {
		c.err = fmt.Errorf("source %s: the command failed (%v): %s", c.source, err, msg)
	} else if held != nil {
		// The output is complete as far as the command knows, but what
		// that process writes later would be cut or missing.
		c.err = fmt.Errorf("source %s: the command exited, but %w: no snapshot is saved of an output it may still write to; send the output of what outlives the command elsewhere (>/dev/null)", c.source, held)
	}
	if msg != "" {
		c.log.Info("command's stderr: " + msg)
	}
	return c.err
}

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
