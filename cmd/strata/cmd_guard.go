package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/urfave/cli/v2"

	"strata/redact"
	"strata/repo"
	"strata/workflow"
)

func cmdGuard(g *globals) *cli.Command {
	var (
		db   dbOptions
		tags cli.StringSlice
		tier string
	)
	return &cli.Command{
		Name:      "guard",
		Usage:     "snapshot a database, then run a risky command",
		ArgsUsage: "-- COMMAND [ARG...]",
		Description: `Takes a snapshot of --db tagged pre-op (recording the command line with
the values of secret flags such as --password, --token or --api-key, of
PASSWORD=... assignments and of URL passwords masked as ***), runs COMMAND,
without strata's STRATA_PASSWORD* and STRATA_FROM_PASSWORD* variables, only if the snapshot succeeded, prints the snapshot ID to restore from, and exits with
the command's exit code. For example:

    strata guard --db mysql://app@localhost/app -- php artisan migrate

Exit codes: the command's own; 1 when the snapshot failed (the command
did not run), 10 no repository, 11 locked, 12 wrong password.`,
		Flags: []cli.Flag{
			// Required, but checked in Action: --job may give it.
			&cli.StringFlag{Name: "db", Usage: "database `DSN` to protect (or --job's database)", Destination: &db.dsn},
			&cli.StringFlag{Name: "db-password-file", Usage: "read the database password from `FILE`", Destination: &db.passwordFile},
			&cli.StringSliceFlag{Name: "tag", Usage: "extra `TAG` for the snapshot", Destination: &tags},
			&cli.StringFlag{Name: "tier", Usage: "retention tier of the snapshot", Destination: &tier},
		},
		Action: func(c *cli.Context) error {
			if db.dsn == "" && g.job != nil {
				if err := g.jobDatabase(c, &db); err != nil {
					return err
				}
			}
			if db.dsn == "" {
				return errors.New("missing required flag --db")
			}
			if c.NArg() == 0 {
				return errors.New("give the command to run after --: strata guard --db DSN -- COMMAND")
			}
			if err := checkSnapshotFlags(c); err != nil {
				return err
			}
			// A command that cannot run needs no snapshot: look it up first.
			args := c.Args().Slice()
			if _, err := exec.LookPath(args[0]); err != nil {
				return fmt.Errorf("cannot run %q, so no snapshot was taken: %w", args[0], err)
			}
			var sn *repo.Snapshot
			err := g.withLock(c.Context, false, "guard", func(r *repo.Repository) error {
				req := g.dbBackupRequest(g.backupRequest(false), db, nil, nil, false)
				req.Tags, req.Tier = append([]string{"pre-op"}, tags.Value()...), tier
				req.Meta = map[string]string{"command": redact.Command(args)}
				rep, err := workflow.BackupLocked(c.Context, r, req)
				sn = rep.Snapshot
				return err
			})
			if err != nil {
				return fmt.Errorf("snapshot failed, %q was not run: %w", args[0], err)
			}
			d, _ := db.parse()
			fmt.Fprintf(g.env.stderr, "strata: snapshot %s saved; to undo: strata restore %s --db %s --replace\n", sn.ID.Short(), sn.ID.Short(), d)
			cmd := exec.CommandContext(c.Context, args[0], args[1:]...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = g.env.stdin, g.env.stdout, g.env.stderr
			cmd.Env = childEnv(os.Environ())
			err = cmd.Run()
			var exitErr *exec.ExitError
			switch {
			case errors.As(err, &exitErr):
				fmt.Fprintf(g.env.stderr, "strata: %s exited with status %d; snapshot %s holds the data from before it\n", args[0], exitErr.ExitCode(), sn.ID.Short())
				return &exitStatus{code: exitErr.ExitCode()}
			case err != nil:
				return fmt.Errorf("running %s: %w", args[0], err)
			}
			return nil
		},
	}
}

// childEnv is strata's environment without the repository passwords, for
// the guarded command: it has no business with strata's secrets.
func childEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "STRATA_PASSWORD") && !strings.HasPrefix(kv, "STRATA_FROM_PASSWORD") {
			out = append(out, kv)
		}
	}
	return out
}
