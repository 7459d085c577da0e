package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"strata/repo"
	"strata/repo/backend"
	"strata/service/config"
	"strata/service/metrics"
	"strata/workflow"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// globals are the options every command shares.
type globals struct {
	env          *env
	repoPath     string
	passwordFile string
	quiet        bool
	verbose      int // -v once or more: how much to tell (see verbosef)
	retryLock    time.Duration
	noLock       bool
	lockLease    time.Duration // STRATA_LOCK_LEASE; 0 means the default
	retryMax     time.Duration // STRATA_RETRY_MAX; 0 means the default
	// stop cancels the command's context, with the cause that ends it (a
	// lost lock).
	stop context.CancelCauseFunc
	// args are the arguments as typed, to quote a mistyped flag.
	args []string
	// usageErr is a mistyped command, found by CommandNotFound, which
	// cannot return it.
	usageErr error
	// metricsFile is --metrics-file (or STRATA_METRICS_FILE); mrun what
	// the command reports to it.
	metricsFile string
	mrun        metricsRun
	// audit gathers the command's audit record (audit_record.go).
	audit auditRun
	// configPath and jobName are --config (STRATA_CONFIG) and --job; cfg
	// the config loaded, job and jobSource the job named and its source.
	configPath, jobName string
	cfg                 *config.Config
	job                 *config.Job
	jobSource           *config.Source
	// configPassword reads the password the config names, when no
	// --password-file was given; nil otherwise.
	configPassword func(context.Context) (string, error)
}

func run(ctx context.Context, args []string, e *env) int {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	g := &globals{env: e, args: args, stop: stop, audit: auditRun{start: time.Now()}}
	g.mrun = metricsRun{set: metrics.New(metrics.Options{Version: version}), start: time.Now()}
	app := newApp(g)
	err := app.RunContext(ctx, interspersed(app, verboseArgs(args)))
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, repo.ErrLockLost) && !errors.Is(err, repo.ErrLockLost) {
		// The command stopped because its context was cancelled: say why.
		err = cause
	}
	if err == nil {
		err = g.usageErr
	}
	err = requiredFlagError(err)
	if code := interrupted(ctx); code != 0 && err != nil {
		fmt.Fprintln(e.stderr, "strata: interrupted")
		g.recordAudit(ctx, err, code)
		g.releaseRecordedLocks(ctx)
		g.writeMetricsOrSay(code, err)
		return code
	}
	var status *exitStatus
	if err != nil && !errors.As(err, &status) && !errors.Is(err, syscall.EPIPE) {
		if wantsJSON(args) {
			printJSONError(e.stderr, err)
		} else {
			fmt.Fprintf(e.stderr, "strata: %v\n", err)
			if advice := errorAdvice(err); advice != "" {
				fmt.Fprintf(e.stderr, "strata: %s\n", advice)
			}
		}
	}
	code := exitCode(err)
	g.recordAudit(ctx, err, code)
	g.releaseRecordedLocks(ctx)
	if merr := g.writeMetricsOrSay(code, err); merr != nil && code == exitOK {
		// The command worked, but its monitoring would not learn it.
		return exitError
	}
	return code
}

// writeMetricsOrSay writes --metrics-file and says on stderr when that
// failed.
func (g *globals) writeMetricsOrSay(code int, err error) error {
	merr := g.writeMetrics(code, err)
	if merr != nil {
		fmt.Fprintf(g.env.stderr, "strata: %v\n", merr)
	}
	return merr
}

// errorAdvice says what to do about errors whose message alone does not.
func errorAdvice(err error) string {
	if errors.Is(err, backend.ErrFull) {
		return "the repository's disk is full. strata stores each file under a temporary name and renames it into " +
			"place when complete, and a snapshot only after its data and index, so the repository is " +
			"consistent (strata check confirms it); what an interrupted backup stored is reused by the next " +
			"backup or removed by prune. Free some space (strata forget, then strata prune: on a full disk " +
			"they use the space strata keeps in reserve for them, and prune then deletes what no snapshot " +
			"needs without repacking) and run the command again."
	}
	if errors.Is(err, backend.ErrReadOnly) {
		return "the repository's storage is read-only or not writable by this user. Commands that only read " +
			"(snapshots, ls, dump, restore, stats, check, cat, find, verify drill) work on it without a lock; " +
			"this one writes, so run it where the repository is writable."
	}
	return ""
}

func newApp(g *globals) *cli.App {
	app := &cli.App{
		Name:            "strata",
		Usage:           "encrypted, deduplicating backups of database tables, files and streams",
		Version:         version,
		HideVersion:     true,
		Writer:          g.env.stdout,
		ErrWriter:       g.env.stderr,
		Reader:          g.env.stdin,
		ExitErrHandler:  func(*cli.Context, error) {},
		CommandNotFound: g.unknownCommand,
		// The root's action: --version, or a command that is not one.
		Action: func(c *cli.Context) error {
			if c.Bool("version") {
				return printVersion(g)
			}
			if c.NArg() > 0 {
				g.unknownCommand(c, c.Args().First())
				return nil
			}
			return cli.ShowAppHelp(c)
		},
		OnUsageError: g.usageError,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "repo", Aliases: []string{"r"}, Usage: "repository: a folder, or a URL such as local:/srv/backup (or STRATA_REPOSITORY)", Destination: &g.repoPath},
			&cli.StringFlag{Name: "password-file", Aliases: []string{"p"}, Usage: "read the password from `FILE` (or STRATA_PASSWORD_FILE, STRATA_PASSWORD, STRATA_PASSWORD_COMMAND)", Destination: &g.passwordFile},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only errors and requested output", Destination: &g.quiet},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "tell more on stderr: -v the steps, -vv (or --verbose=2) every file too", Count: &g.verbose},
			&cli.BoolFlag{Name: "version", Usage: "print the version (as strata version)"},
			&cli.DurationFlag{Name: "retry-lock", Usage: "when the repository is locked, retry for up to `DURATION` (e.g. 10m) before failing", Destination: &g.retryLock},
			&cli.BoolFlag{Name: "no-lock", Usage: "take no lock (commands that only read; for read-only storage)", Destination: &g.noLock},
			&cli.StringFlag{Name: "metrics-file", Usage: "after the command, write Prometheus metrics to `FILE` for node_exporter's textfile collector, merged with what it holds (or STRATA_METRICS_FILE)", Destination: &g.metricsFile},
		}, g.configFlags()...),
		Before: func(c *cli.Context) error {
			// strata config reads the file itself, to report every problem.
			if c.Args().First() != "config" {
				if err := g.loadConfig(); err != nil {
					return err
				}
			}
			g.configRepository(c.IsSet("repo"), c.IsSet("password-file"))
			if g.cfg != nil && g.metricsFile == "" {
				g.metricsFile = g.cfg.Metrics.File
			}
			if g.repoPath == "" {
				g.repoPath = g.env.getenv("STRATA_REPOSITORY")
			}
			if g.passwordFile == "" {
				g.passwordFile = g.env.getenv("STRATA_PASSWORD_FILE")
			}
			if g.metricsFile == "" {
				g.metricsFile = g.env.getenv("STRATA_METRICS_FILE")
			}
			if s := g.env.getenv("STRATA_LOCK_LEASE"); s != "" {
				d, err := time.ParseDuration(s)
				if err != nil || d < repo.MinLockLease || d > repo.MaxLockLease {
					return fmt.Errorf("STRATA_LOCK_LEASE=%q: want a duration from %v to %v, such as 15m", s, repo.MinLockLease, repo.MaxLockLease)
				}
				g.lockLease = d
			}
			if s := g.env.getenv("STRATA_RETRY_MAX"); s != "" {
				d, err := time.ParseDuration(s)
				if err != nil || d < time.Second || d > 24*time.Hour {
					return fmt.Errorf("STRATA_RETRY_MAX=%q: want a duration from 1s to 24h, such as 10m", s)
				}
				g.retryMax = d
			}
			if g.retryLock < 0 {
				return fmt.Errorf("--retry-lock %v: want a duration of 0 or more, such as 10m", g.retryLock)
			}
			return nil
		},
		Commands: []*cli.Command{
			cmdInit(g), cmdBackup(g), cmdSnapshots(g), cmdLs(g), cmdFind(g), cmdRestore(g), cmdDump(g), cmdDiff(g), cmdHistory(g),
			cmdForget(g), cmdPolicy(g), cmdProtect(g), cmdTag(g), cmdUnprotect(g),
			cmdCopy(g), cmdMount(g), cmdCheck(g), cmdAudit(g), cmdRepair(g), cmdPrune(g), cmdMaintenance(g), cmdVerify(g), cmdGuard(g), cmdStats(g), cmdServe(g), cmdHealth(g), cmdDaemon(g), cmdSchedule(g), cmdKey(g), cmdUnlock(g), cmdCat(g), cmdGenerate(g), cmdVersion(g),
		},
	}
	// strata config: its own line, as other commands come and go above.
	app.Commands = append(app.Commands, cmdConfig(g))
	app.Commands = append(app.Commands, cmdNotify(g))
	setUsageErrors(g, app.Commands)
	g.observeCommands(app.Commands)
	setAuditHooks(g, app.Commands)
	g.withJobDefaults(app.Commands)
	g.afterParsing(app.Commands)
	return app
}

// afterParsing calls env.parsed as each command's action starts.
func (g *globals) afterParsing(cmds []*cli.Command) {
	if g.env.parsed == nil {
		return
	}
	for _, cmd := range cmds {
		if action := cmd.Action; action != nil {
			cmd.Action = func(c *cli.Context) error {
				g.env.parsed()
				return action(c)
			}
		}
		g.afterParsing(cmd.Subcommands)
	}
}

// verbosef writes a message to stderr when -v was given at least level
// times (1: the steps of a command; 2: every file a backup or restore
// handles too), unless --quiet.
func (g *globals) verbosef(level int, format string, args ...any) {
	if g.verbose >= level && !g.quiet {
		fmt.Fprintf(g.env.stderr, format, args...)
	}
}

// printf writes a progress message to stderr unless --quiet.
func (g *globals) printf(format string, args ...any) {
	if !g.quiet {
		fmt.Fprintf(g.env.stderr, format, args...)
	}
}

// notice prints a notice of the CLI's own on stderr (the workflows' and the
// repository's go through g.logger(), which prints them the same way).
func (g *globals) notice(msg string) {
	if !g.quiet {
		fmt.Fprintf(g.env.stderr, "notice: %s\n", msg)
	}
}

func (g *globals) showProgress() bool { return g.env.stderrTTY && !g.quiet }

// colour says whether output to stdout may be coloured: on a terminal,
// unless NO_COLOR is set to anything (no-color.org) or TERM is dumb.
func (g *globals) colour() bool {
	return g.env.stdoutTTY && g.env.getenv("NO_COLOR") == "" && g.env.getenv("TERM") != "dumb"
}

func (g *globals) repoOptions() repo.Options {
	return repo.Options{KDF: g.env.kdf, Logger: g.logger(), LockLease: g.lockLease}
}

// password finds the password in the documented order: --password-file,
// STRATA_PASSWORD_FILE, STRATA_PASSWORD, STRATA_PASSWORD_COMMAND, then a
// prompt on the terminal. It is never taken from a command-line value.
func (g *globals) password(ctx context.Context, prompt string) (string, error) {
	if g.configPassword != nil {
		return g.configPassword(ctx)
	}
	return g.passwordFrom(ctx, g.passwordFile, "STRATA_PASSWORD", "--password-file", prompt)
}

// passwordFrom reads a password from file (a flag's value or its
// variable, VAR_FILE), else the variable VAR, else the output of the
// command in VAR_COMMAND, else a prompt on the terminal: the main
// repository's (VAR STRATA_PASSWORD) or copy's source's
// (STRATA_FROM_PASSWORD). flag names file's flag in messages.
func (g *globals) passwordFrom(ctx context.Context, file, env, flag, prompt string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading password file: %w", err)
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if pw == "" {
			// Not a wrong password: the file was never filled in, or was
			// truncated.
			return "", fmt.Errorf("password file %s is empty: write the repository's password into it", file)
		}
		return pw, nil
	}
	if pw := g.env.getenv(env); pw != "" {
		return pw, nil
	}
	if cmd := g.env.getenv(env + "_COMMAND"); cmd != "" {
		out, err := exec.CommandContext(ctx, "sh", "-c", cmd).Output()
		if err != nil {
			// The command's output may be the password: never print it.
			return "", fmt.Errorf("%s_COMMAND failed: %v", env, err)
		}
		return strings.TrimRight(string(out), "\r\n"), nil
	}
	if g.env.readPassword != nil {
		return g.env.readPassword(prompt)
	}
	return "", fmt.Errorf("no password given: set %s_FILE, %s or %s_COMMAND, use %s, or run on a terminal", env, env, env, flag)
}

// newPassword asks for a password to set, twice on a terminal. An empty
// password is refused, as init refuses it.
func (g *globals) newPassword(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading new password file: %w", err)
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if pw == "" {
			return "", fmt.Errorf("refusing an empty password from %s", file)
		}
		return pw, nil
	}
	if g.env.readPassword == nil {
		return "", errors.New("no new password: use --new-password-file or run on a terminal")
	}
	pw, err := g.env.readPassword("enter new password: ")
	if err != nil {
		return "", err
	}
	again, err := g.env.readPassword("enter new password again: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the passwords do not match")
	}
	if pw == "" {
		return "", errors.New("refusing an empty password")
	}
	return pw, nil
}

func (g *globals) needRepo() error {
	if g.repoPath == "" {
		return fmt.Errorf("%w: give --repo or set STRATA_REPOSITORY", repo.ErrNoRepository)
	}
	return nil
}

// openRepo opens the repository named by --repo, without its index:
// commands load it under their lock (withLock).
func (g *globals) openRepo(ctx context.Context) (*repo.Repository, error) {
	if err := g.needRepo(); err != nil {
		return nil, err
	}
	r, err := g.openRepoAt(ctx, g.repoPath, func() (string, error) {
		return g.password(ctx, "enter password for repository: ")
	}, g.logger())
	if err == nil {
		g.verbosef(1, "opened repository %s\n", g.repoName())
		g.audit.opened(r)
	}
	return r, err
}

// openRepoAt opens the repository at location with the password that
// password returns, without its index.
// Its notices go to log.
func (g *globals) openRepoAt(ctx context.Context, location string, password func() (string, error), log *slog.Logger) (*repo.Repository, error) {
	return workflow.Open(ctx, g.openRequest(location, password, log))
}

// openRequest is the request that opens the repository at location with
// the storage's settings from the environment (a copy's source changes
// them: openSource).
func (g *globals) openRequest(location string, password func() (string, error), log *slog.Logger) workflow.OpenRequest {
	return workflow.OpenRequest{
		URL: location, PasswordFunc: password, Getenv: g.env.getenv, RetryMax: g.retryMax,
		LockLease: g.lockLease, KDF: g.env.kdf, Logger: log,
	}
}

// withLock opens the repository, takes a lock, loads the index and runs
// fn. The index is loaded only once the lock is held: loaded before, it
// could list packs that a prune holding the exclusive lock meanwhile
// deleted, and a backup would then skip blobs it must store.
func (g *globals) withLock(ctx context.Context, exclusive bool, command string, fn func(*repo.Repository) error) error {
	return g.withLockThen(ctx, exclusive, command, strictIndex, fn)
}

// withReader is withLock (shared) for commands that only read the
// repository: a damaged index file does not stop them. It is skipped with
// a warning naming it, and the headers of the packs no other index file
// names stand in for it (repo.LoadIndexForReading).
func (g *globals) withReader(ctx context.Context, command string, fn func(*repo.Repository) error) error {
	return g.withLockThen(ctx, false, command, readerIndex, fn)
}

const (
	noIndex       = workflow.NoIndex
	strictIndex   = workflow.StrictIndex
	readerIndex   = workflow.ReaderIndex
	writerNoIndex = workflow.WriterNoIndex
)

// withWriterNoIndex is withLock for commands that need no index: key,
// policy and protect files. A damaged index file does not stop them (check
// may advise them beside repair index).
func (g *globals) withWriterNoIndex(ctx context.Context, exclusive bool, command string, fn func(*repo.Repository) error) error {
	return g.withLockThen(ctx, exclusive, command, writerNoIndex, fn)
}

// withLockNoIndex is withLock for commands that load the index under the
// lock themselves (prune, check), do not need it (forget), or cannot trust
// it (repair).
func (g *globals) withLockNoIndex(ctx context.Context, exclusive bool, command string, fn func(*repo.Repository) error) error {
	return g.withLockThen(ctx, exclusive, command, noIndex, fn)
}

func (g *globals) withLockThen(ctx context.Context, exclusive bool, command string, mode workflow.IndexMode, fn func(*repo.Repository) error) error {
	req := workflow.LockRequest{LockOptions: g.lockOptions(), Command: command, Exclusive: exclusive, Index: mode, Logger: g.logger(), Removes: removesFrom(command)}
	if req.Writes() {
		g.audit.writes = true
	}
	if err := req.CheckNoLock(); err != nil {
		return err
	}
	r, err := g.openRepo(ctx)
	if err != nil {
		return err
	}
	return workflow.WithLock(ctx, r, req, func(_ context.Context, r *repo.Repository) error { return fn(r) })
}

// refuseNoLock fails a command that writes to the repository when
// --no-lock is given: without its lock it could corrupt what another
// process does.
func (g *globals) refuseNoLock(command string) error {
	if !g.noLock {
		return nil
	}
	return workflow.NoLockError(command)
}

// readLock takes the shared lock of a command that only reads, and
// returns what releases it (workflow.ReadLock).
func (g *globals) readLock(ctx context.Context, r *repo.Repository, command string) (func(), error) {
	return workflow.ReadLock(ctx, r, workflow.LockRequest{LockOptions: g.lockOptions(), Command: command, Index: workflow.ReaderIndex, Logger: g.logger()})
}

// warnIndexDamage says, on stderr even with --quiet, which damaged index
// files a reader skipped and what it did instead.
func (g *globals) warnIndexDamage(dmg *repo.IndexDamage) {
	workflow.WarnIndexDamage(g.logger(), dmg)
}
