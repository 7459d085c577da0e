package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"strata/dbexport"
	"strata/dbexport/sqlite"
	"strata/repo"
	"strata/verify"
)

func cmdVerify(g *globals) *cli.Command {
	var (
		targetDSN string
		tables    cli.StringSlice
		asJSON    bool
		keep      bool
		host      string
		source    string
	)
	return &cli.Command{
		Name:  "verify",
		Usage: "prove that backups restore",
		Subcommands: []*cli.Command{{
			Name:      "drill",
			Usage:     "restore a table snapshot into a scratch database and inspect it",
			ArgsUsage: "SNAPSHOT",
			Description: `Restores SNAPSHOT into a scratch target (a temporary SQLite file by
default; with --target naming a PostgreSQL server, a temporary database
created and dropped there) and reports per table: rows restored against the
snapshot's row count, primary-key uniqueness, foreign-key orphans, CHECK
violations, and the time the restore took. latest means the newest
snapshot of one database: the only one the repository holds, or the one
--source names.

` + checkExitCodesHelp,
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "target", Usage: "scratch server `DSN` (default: a temporary SQLite file)", Destination: &targetDSN},
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
				return g.withReader(c.Context, "verify drill", func(r *repo.Repository) error {
					sn, err := dbexport.PickSnapshot(c.Context, r, snapshotRequest(c.Args().First(), host, source))
					if err != nil {
						return err
					}
					rep, err := drill(c.Context, g, r, sn, targetDSN, tables.Value(), keep)
					if err != nil {
						return err
					}
					rep.Snapshot = sn.ID.String()
					if asJSON {
						if err := printJSON(g.env.stdout, rep); err != nil {
							return err
						}
					} else {
						printDrill(g, sn, rep)
					}
					if !rep.OK() {
						return fmt.Errorf("%w: the drill of snapshot %s found problems", errCheckFailed, sn.ID.Short())
					}
					return nil
				})
			},
		}},
	}
}

func drill(ctx context.Context, g *globals, r *repo.Repository, sn *repo.Snapshot, targetDSN string, tables []string, keep bool) (*verify.DrillReport, error) {
	if targetDSN != "" {
		return drillOnServer(ctx, g, r, sn, targetDSN, tables)
	}
	dir, err := os.MkdirTemp("", "strata-drill-")
	if err != nil {
		return nil, err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	path := filepath.Join(dir, "drill.db")
	target, err := sqlite.OpenTarget(ctx, dbexport.DSN{Engine: dbexport.EngineSQLite, Path: path})
	if err != nil {
		return nil, err
	}
	defer target.Close()
	rep, err := verify.Drill(ctx, r, sn.Tree, target, target, tables)
	if err != nil {
		return nil, err
	}
	rep.Target = "sqlite://" + path
	if keep {
		g.printf("kept the scratch database %s\n", path)
	} else {
		rep.Target += " (temporary, removed)"
	}
	return rep, nil
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
	if rep.OK() {
		fmt.Fprintln(w, "drill passed: every table restored completely and consistently")
	}
}
