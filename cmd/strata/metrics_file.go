package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"strata/dbexport"
	"strata/repo"
	"strata/repo/archive"
	"strata/service/metrics"
	"strata/verify"
)

// metricsRun collects what a command did for --metrics-file: the
// command, its snapshot or drill, and the repository's state under its
// lock. It is filled whether or not --metrics-file is given (cheap), and
// written only when it is.
type metricsRun struct {
	set     *metrics.Set
	start   time.Time
	command string       // as typed: "backup", "verify drill"
	c       *cli.Context // the command's, for its flags
	// snapshot is the snapshot a backup saved; drill a drill's report.
	snapshot    *repo.Snapshot
	drill       *verify.DrillReport
	drillTables []string
}

// observeCommands wraps the action of every command so that it records
// which command ran.
func (g *globals) observeCommands(cmds []*cli.Command) {
	for _, cmd := range cmds {
		if action := cmd.Action; action != nil {
			cmd.Action = func(c *cli.Context) error {
				g.mrun.command = typedCommand(c)
				g.mrun.c = c
				return action(c)
			}
		}
		g.observeCommands(cmd.Subcommands)
	}
}

// observeRepository records the repository's snapshots per tier and
// size, under the lock of a command that opened it, when --metrics-file
// asks for them. A failure is a notice: the command did its work.
func (g *globals) observeRepository(ctx context.Context, r *repo.Repository) {
	if g.metricsFile == "" || ctx.Err() != nil {
		return
	}
	st, err := metrics.RepositoryState(ctx, r, r.Backend())
	if err != nil {
		g.notice(fmt.Sprintf("--metrics-file: the repository's state is not in the metrics: %v", err))
		return
	}
	g.mrun.set.SetRepository(st)
}

// writeMetrics records the command's end and what it did, and writes
// --metrics-file. A command that never ran (help, a usage error) writes
// nothing.
func (g *globals) writeMetrics(code int, err error) error {
	m := &g.mrun
	if g.metricsFile == "" || m.command == "" {
		return nil
	}
	end := time.Now()
	switch m.command {
	case "backup":
		b := metrics.Backup{Job: g.backupJob(), Tier: m.c.String("tier"), Start: m.start, End: end, Err: err}
		if m.snapshot != nil && err == nil {
			s := m.snapshot.Summary
			b.AddedBytes, b.ReadBytes, b.Files = s.BytesAdded, s.BytesRead, s.FilesNew+s.FilesChanged+s.FilesUnchanged
			b.Tier = m.snapshot.Tier
		}
		if err == nil && m.snapshot == nil {
			break // a --dry-run saved nothing
		}
		m.set.ObserveBackup(b)
	case "check":
		m.set.ObserveCheck(metrics.Check{Start: m.start, End: end, Err: err})
	case "verify drill":
		d := metrics.Drill{Tables: m.drillTables, End: end, Err: err}
		if m.drill != nil && m.drill.Error == "" {
			d.Restored, d.RestoreSeconds, d.TableSeconds = true, m.drill.RestoreSeconds, metrics.TableSeconds(m.drill)
		}
		m.set.ObserveDrill(d)
	}
	m.set.ObserveCommand(metrics.Command{Name: m.command, Start: m.start, End: end, ExitCode: code})
	if g.cfg != nil {
		var names []string
		for _, j := range g.cfg.Jobs {
			names = append(names, j.Name)
		}
		m.set.SetConfiguredJobs(names)
	}
	return m.set.WriteTextfile(g.metricsFile)
}

// backupJob is the job label of a backup: --job, else its source key (the
// snapshot's, or as the flags name it when the backup failed before
// saving one).
func (g *globals) backupJob() string {
	if g.jobName != "" {
		return g.jobName
	}
	if sn := g.mrun.snapshot; sn != nil {
		return dbexport.SourceName(sn)
	}
	c := g.mrun.c
	switch {
	case c.String("db") != "":
		d, err := dbexport.ParseDSN(c.String("db"))
		if err != nil {
			return ""
		}
		return d.SourceKey()
	case c.Bool("stdin"):
		return archive.StreamSource(c.String("stdin-name"))
	}
	paths := append([]string(nil), c.Args().Slice()...)
	for i, p := range paths {
		if abs, err := filepath.Abs(p); err == nil {
			paths[i] = abs
		}
	}
	return archive.FilesSource(paths)
}
