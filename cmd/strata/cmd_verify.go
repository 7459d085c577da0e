package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"strata/dbexport"
	"strata/repo"
	"strata/verify"
	"strata/workflow"
)

func cmdVerify(g *globals) *cli.Command {
	var (
		targetDSN  string
		tables     cli.StringSlice
		asJSON     bool
		keep       bool
		host       string
		source     string
		sameEngine bool
		db         dbOptions
	)
	return &cli.Command{
		Name:  "verify",
		Usage: "prove that backups restore",
		Subcommands: []*cli.Command{{
			Name:      "drill",
			Usage:     "restore a table snapshot into a scratch database and inspect it",
			ArgsUsage: "SNAPSHOT",
			Description: `Restores SNAPSHOT into a scratch target (a temporary SQLite file by
default; with --target naming a PostgreSQL or MySQL server, a temporary
database created there and dropped afterwards, also when the drill fails or
is interrupted) and reports per table: rows restored against the
snapshot's row count, primary-key uniqueness, foreign-key orphans, CHECK
violations, and the time the restore took. latest means the newest
snapshot of one database: the only one the repository holds, or the one
--source names.

--same-engine proves that the snapshot restores into its own engine: a
PostgreSQL or MySQL snapshot is restored into a temporary database on
--target (a server of the same engine; without --target, the snapshot's
source server), a SQLite snapshot into a temporary SQLite file. The
restored database is then read back with strata's own exporter and
compared with the snapshot: per table the SHA-256 of the rows in the
canonical encoding (a difference names the first differing row by its key,
and its columns), and the schema objects (columns, keys, indexes,
constraints, triggers, views, sequences). Any difference fails the drill.
The server's password is never in the snapshot: it comes from the DSN,
PGPASSWORD / MYSQL_PWD, or --db-password-file. The drill needs the right to
create and drop databases there.

` + checkExitCodesHelp,
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "target", Usage: "scratch server `DSN` (default: a temporary SQLite file; with --same-engine the snapshot's source server)", Destination: &targetDSN},
				&cli.BoolFlag{Name: "same-engine", Usage: "restore into the snapshot's own engine and compare every table's rows and schema with the snapshot", Destination: &sameEngine},
				&cli.IntFlag{Name: "jobs", Usage: "restore into a --target server with `N` connections, as restore --jobs", Value: 1, Destination: &db.jobs},
				&cli.StringFlag{Name: "db-password-file", Usage: "read the scratch server's password from `FILE` (or PGPASSWORD / MYSQL_PWD)", Destination: &db.passwordFile},
				&cli.StringSliceFlag{Name: "tables", Usage: "only tables matching `GLOB`", Destination: &tables},
				&cli.BoolFlag{Name: "json", Usage: "print the report as JSON", Destination: &asJSON},
				&cli.BoolFlag{Name: "keep", Usage: "keep the scratch SQLite file and print its path", Destination: &keep},
				&cli.StringFlag{Name: "source", Usage: "latest of the database `DSN` (any spelling; a password is ignored)", Destination: &source},
				&cli.StringFlag{Name: "host", Usage: "latest from `HOST`", Destination: &host},
			},
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return errors.New("give one snapshot: strata verify drill SNAPSHOT")
				}
				if db.jobs < 1 {
					return fmt.Errorf("--jobs %d: give 1 or more", db.jobs)
				}
				r, err := g.openFor(c.Context, workflow.LockRequest{Command: "verify drill", Index: workflow.ReaderIndex})
				if err != nil {
					return err
				}
				drep, err := workflow.Drill(c.Context, r, workflow.DrillRequest{
					Snapshot: c.Args().First(), Host: host, Source: source,
					Target: targetDSN, PasswordFile: db.passwordFile, Tables: tables.Value(), Keep: keep, SameEngine: sameEngine,
					Jobs: db.jobs, PgRestore: g.env.getenv("STRATA_PG_RESTORE"), Lock: g.lockOptions(), Logger: g.logger(),
				})
				if drep.Snapshot != nil {
					g.audit.restoredFrom(drep.Snapshot)
					g.audit.source = dbexport.SourceName(drep.Snapshot)
				}
				if err != nil {
					return err
				}
				sn, rep := drep.Snapshot, drep.Report
				g.mrun.drill, g.mrun.drillTables = rep, tables.Value()
				g.audit.result.Drill = drillResult(rep)
				if asJSON {
					if err := printJSON(g.env.stdout, rep); err != nil {
						return err
					}
				} else {
					printDrill(g, sn, rep)
				}
				if !drep.OK {
					return fmt.Errorf("%w: the drill of snapshot %s found problems", errCheckFailed, sn.ID.Short())
				}
				return nil
			},
		}},
	}
}

func printDrill(g *globals, sn *repo.Snapshot, rep *verify.DrillReport) {
	w := g.env.stdout
	fmt.Fprintf(w, "drill of snapshot %s (%s) into %s\n", sn.ID.Short(), showTime(sn.Time), rep.Target)
	if rep.Error != "" {
		fmt.Fprintf(w, "error: the restore failed after %.2fs: %s\n", rep.RestoreSeconds, rep.Error)
		return
	}
	fmt.Fprintf(w, "restore took %.2fs\n", rep.RestoreSeconds)
	t := newTable(w, "Table", "Snapshot rows", "Restored", "Dup keys", "FK orphans", "CHECK fails", "Result")
	for _, td := range rep.Tables {
		result := "ok"
		if len(td.Problems) > 0 {
			result = "FAILED: " + strings.Join(td.Problems, "; ")
		}
		t.row(td.Table, fmt.Sprint(td.SnapshotRows), fmt.Sprint(td.RestoredRows), fmt.Sprint(td.DuplicateKeys), fmt.Sprint(td.OrphanRows), fmt.Sprint(td.CheckViolations), result)
	}
	_ = t.flush()
	for _, td := range rep.Tables {
		for _, n := range td.Notes {
			fmt.Fprintf(w, "note: %s: %s\n", td.Table, n)
		}
	}
	for _, p := range rep.SchemaProblems {
		fmt.Fprintf(w, "schema differs: %s\n", p)
	}
	if rep.SameEngine {
		for _, td := range rep.Tables {
			if td.RestoredHash != "" && td.RestoredHash == td.SnapshotHash {
				fmt.Fprintf(w, "%s: rows identical to the snapshot (SHA-256 %s)\n", td.Table, td.RestoredHash[:16])
			}
		}
	}
	if rep.OK() {
		if rep.SameEngine {
			fmt.Fprintln(w, "drill passed: every table restored completely and consistently, rows and schema identical to the snapshot")
		} else {
			fmt.Fprintln(w, "drill passed: every table restored completely and consistently")
		}
	}
}
