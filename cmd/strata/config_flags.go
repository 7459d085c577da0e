package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"strata/internal/procgroup"
	"strata/repo/archive"
	"strata/repo/retention"
	"strata/service/config"
	"strata/service/jobs"
)

// configFlags are --config and --job, which every command takes.
func (g *globals) configFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Usage: "read the repository, its password source and --job's settings from strata.yaml `FILE` (or STRATA_CONFIG)", Destination: &g.configPath},
		&cli.StringFlag{Name: "job", Usage: "take the source, tier, tags and host of the config's job `NAME` where no flag gives them", Destination: &g.jobName},
	}
}

// loadConfig reads --config (or STRATA_CONFIG) and finds --job in it. It
// runs before the repository and password are resolved, so that the
// config comes after the command line and before STRATA_REPOSITORY and
// the STRATA_PASSWORD* variables. Without a config nothing changes.
func (g *globals) loadConfig() error {
	if g.configPath == "" {
		g.configPath = g.env.getenv("STRATA_CONFIG")
	}
	if g.configPath == "" {
		if g.jobName != "" {
			return errors.New("--job needs a config: give --config strata.yaml or set STRATA_CONFIG")
		}
		return nil
	}
	c, err := config.Load(g.configPath)
	if err != nil {
		return g.configErrors(err)
	}
	for _, w := range c.Warnings() {
		g.notice(w)
	}
	g.cfg = c
	if g.jobName != "" {
		if g.job, err = c.Job(g.jobName); err != nil {
			return err
		}
		if g.jobSource, err = c.Source(g.job.Source); err != nil {
			return err
		}
	}
	return nil
}

// configErrors prints each of a config's problems on a line of its own,
// as "strata: FILE:LINE: KEY: ...", and returns the exit status (under
// --json the joined error is returned as it is, for one JSON line).
func (g *globals) configErrors(err error) error {
	var multi interface{ Unwrap() []error }
	if !errors.As(err, &multi) || wantsJSON(g.args) {
		return err
	}
	for _, e := range multi.Unwrap() {
		fmt.Fprintf(g.env.stderr, "strata: %v\n", e)
	}
	return &exitStatus{code: exitError}
}

// configRepository fills in the repository and its password source from
// the config, where neither --repo nor --password-file gave them.
func (g *globals) configRepository(repoFlag, passwordFlag bool) {
	if g.cfg == nil {
		return
	}
	r := g.cfg.Repository
	if !repoFlag && r.URL != "" {
		g.repoPath = r.URL
	}
	if passwordFlag {
		return
	}
	switch {
	case r.PasswordFile != "":
		g.passwordFile = r.PasswordFile
	case r.PasswordEnv != "", r.PasswordCommand != "", r.Password != "":
		g.passwordFile = ""
		g.configPassword = func(ctx context.Context) (string, error) {
			return g.passwordFromConfig(ctx, r)
		}
	}
}

// passwordFromConfig reads the password that repository.password_env,
// password_command or password names. Errors never hold it.
func (g *globals) passwordFromConfig(ctx context.Context, r config.Repository) (string, error) {
	switch {
	case r.PasswordEnv != "":
		return config.ReadSecret(g.cfg.File+": repository.password_env", r.PasswordEnv, "", g.env.getenv)
	case r.PasswordCommand != "":
		// In a process group of its own, as hooks are: what it leaves
		// running (an agent it started) does not keep strata waiting.
		out, err := procgroup.Output(procgroup.Shell(ctx, r.PasswordCommand, 0), g.env.stderr, 0)
		if err != nil {
			return "", fmt.Errorf("%s: repository.password_command failed: %v", g.cfg.File, err)
		}
		pw := strings.TrimRight(string(out), "\r\n")
		if pw == "" {
			return "", fmt.Errorf("%s: repository.password_command printed nothing", g.cfg.File)
		}
		return pw, nil
	}
	return r.Password, nil
}

// jobFlag says which commands a job's value fills in: tier, tags, host and
// source narrow the snapshots a command lists or picks "latest" from, and
// are what backup records.
var jobFlagCommands = map[string][]string{
	"tier":   {"backup", "snapshots", "find", "copy"},
	"host":   {"backup", "snapshots", "find", "copy", "restore", "dump", "diff", "history", "drill"},
	"source": {"snapshots", "copy", "restore", "dump", "diff", "history", "drill"},
	"tag":    {"backup"},
}

// withJobDefaults wraps the Before of cmd and its subcommands so that,
// with --job, the flags the user did not give take the job's values.
func (g *globals) withJobDefaults(cmds []*cli.Command) {
	for _, cmd := range cmds {
		g.withJobDefaults(cmd.Subcommands)
		before, name := cmd.Before, cmd.Name
		cmd.Before = func(c *cli.Context) error {
			if g.job != nil {
				if err := g.setJobFlags(c, name); err != nil {
					return err
				}
			}
			if before != nil {
				return before(c)
			}
			return nil
		}
	}
}

func (g *globals) setJobFlags(c *cli.Context, command string) error {
	values := map[string][]string{"source": {g.jobRecordedSource()}}
	if g.job.Tier != "" {
		values["tier"] = []string{g.job.Tier}
	}
	if g.job.Host != "" {
		values["host"] = []string{g.job.Host}
	}
	values["tag"] = g.job.Tags
	for flag, commands := range jobFlagCommands {
		if !slices.Contains(commands, command) || !hasFlag(c.Command, flag) || c.IsSet(flag) {
			continue
		}
		for _, v := range values[flag] {
			if v == "" {
				continue
			}
			if err := c.Set(flag, v); err != nil {
				return fmt.Errorf("--job %s: --%s %q: %w", g.job.Name, flag, v, err)
			}
		}
	}
	return nil
}

func hasFlag(cmd *cli.Command, name string) bool {
	if cmd == nil {
		return false
	}
	for _, f := range cmd.Flags {
		if slices.Contains(f.Names(), name) {
			return true
		}
	}
	return false
}

// jobRecordedSource is how snapshots of the job's source name it: the
// DSN of a database, files:PATHS, stdin:NAME.
func (g *globals) jobRecordedSource() string {
	s := g.jobSource
	switch s.Type {
	case config.SourcePostgres, config.SourceMySQL, config.SourceSQLite:
		return s.DSN
	case config.SourcePath:
		return archive.FilesSource(s.Paths)
	}
	return archive.StreamSource(streamName(s))
}

func streamName(s *config.Source) string {
	if s.StdinName != "" {
		return s.StdinName
	}
	return s.Name
}

// jobBackup is what backup --job backs up when the command line names
// nothing: the job's database, paths, standard input or command output.
type jobBackup struct {
	paths     []string
	stdin     bool
	stdinName string
	stream    io.Reader // a command source's output; nil: standard input
	cmd       *jobs.CommandOutput
}

// close ends a command source's command (stopped if the backup did not
// read its output to the end) and returns its failure.
func (b *jobBackup) close() error {
	if b.cmd != nil {
		return b.cmd.Close()
	}
	return nil
}

// jobBackupSource applies the job's source to a backup that gave none of
// --db, --stdin and paths: a database's DSN, password, tables and schemas
// where their flags are not given, paths, or a stream.
func (g *globals) jobBackupSource(c *cli.Context, db *dbOptions) (*jobBackup, error) {
	s := g.jobSource
	b := &jobBackup{}
	switch s.Type {
	case config.SourcePostgres, config.SourceMySQL, config.SourceSQLite:
		if err := g.jobDatabase(c, db); err != nil {
			return nil, err
		}
	case config.SourcePath:
		b.paths = s.Paths
		if !c.IsSet("exclude") {
			for _, v := range s.Exclude {
				if err := c.Set("exclude", v); err != nil {
					return nil, fmt.Errorf("--job %s: --exclude %q: %w", g.job.Name, v, err)
				}
			}
		}
	case config.SourceStdin:
		b.stdin, b.stdinName = true, streamName(s)
	case config.SourceCommand:
		// As strata daemon runs it: its leftovers ended, a process that
		// escaped its group and holds its output not waited for.
		cmd, err := jobs.StartCommand(c.Context, g.cfg, s, g.logger())
		if err != nil {
			return nil, err
		}
		b.stdin, b.stdinName = true, streamName(s)
		b.cmd, b.stream = cmd, cmd
	}
	return b, nil
}

// jobDatabase applies the job's database source: its DSN, its password
// (password_file where --db-password-file is not given, or password_env),
// and, where the command has them and they are not given, --tables,
// --exclude-tables and --schema.
func (g *globals) jobDatabase(c *cli.Context, db *dbOptions) error {
	s := g.jobSource
	switch s.Type {
	case config.SourcePostgres, config.SourceMySQL, config.SourceSQLite:
	default:
		return fmt.Errorf("--job %s: its source %s is a %s source, not a database: give --db", g.job.Name, s.Name, s.Type)
	}
	db.dsn = s.DSN
	if db.passwordFile == "" {
		db.passwordFile = s.PasswordFile
	}
	if s.PasswordEnv != "" {
		pw, err := config.ReadSecret(fmt.Sprintf("%s: source %s: password_env", g.cfg.File, s.Name), s.PasswordEnv, "", g.env.getenv)
		if err != nil {
			return err
		}
		db.password = pw
	}
	for flag, values := range map[string][]string{"tables": s.Tables, "exclude-tables": s.ExcludeTables, "schema": s.Schemas} {
		if !hasFlag(c.Command, flag) || c.IsSet(flag) {
			continue
		}
		for _, v := range values {
			if err := c.Set(flag, v); err != nil {
				return fmt.Errorf("--job %s: --%s %q: %w", g.job.Name, flag, v, err)
			}
		}
	}
	return nil
}

// configPolicy is strata.yaml's retention policy, which forget applies
// and policy set stores when no --keep-* rule flag is given (the flags
// win, and the config comes before the repository's stored policy).
// --keep-safety, given alone, still overrides its safety period. ok is
// false without a config or a retention section.
func (g *globals) configPolicy(fromFlags retention.Policy, given bool) (p retention.Policy, r *config.Retention, ok bool, err error) {
	return configPolicyOf(g.cfg, fromFlags, given)
}

// configPolicyOf is configPolicy of cfg (the daemon's as last read).
func configPolicyOf(cfg *config.Config, fromFlags retention.Policy, given bool) (p retention.Policy, r *config.Retention, ok bool, err error) {
	if given || cfg == nil || cfg.Retention == nil {
		return fromFlags, nil, false, nil
	}
	r = cfg.Retention
	if p, err = r.Policy(); err != nil {
		return p, nil, false, fmt.Errorf("%s: retention: %w", cfg.File, err)
	}
	if fromFlags.Safety != nil {
		p.Safety = fromFlags.Safety
	}
	return p, r, true, nil
}
