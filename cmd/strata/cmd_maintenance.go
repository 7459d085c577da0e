package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"strata/repo"
	"strata/repo/backend"
	"strata/repo/objectlock"
)

func cmdMaintenance(g *globals) *cli.Command {
	var asJSON bool
	return &cli.Command{
		Name:  "maintenance",
		Usage: "upkeep of a repository",
		Subcommands: []*cli.Command{{
			Name:  "extend-locks",
			Usage: "renew the object lock of everything the snapshots need",
			Description: `In a repository under S3 object lock (strata init --object-lock), each
file is locked for the repository's lock days from its writing. A pack
written months ago still holds blobs today's snapshots use, and its lock
runs out: extend-locks moves the retention of every file a snapshot needs
(its snapshot file, the packs holding its blobs, delta bases included,
the index files in force, the key files and the config) to the lock days
from now, rounded up to the next midnight UTC. Retentions are never
shortened, and a second run on the same day changes nothing. Run it more
often than the lock days (daily from cron, say), so that no file a
snapshot needs is ever unlocked. It takes a shared lock: backups go on.

` + exitCodesHelp,
			Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the report as JSON", Destination: &asJSON}},
			Action: func(c *cli.Context) error {
				return g.withLock(c.Context, false, "extend-locks", func(r *repo.Repository) error {
					rep, err := objectlock.ExtendLocks(c.Context, r, objectlock.Options{Progress: func(msg string) { g.printf("%s\n", msg) }})
					if err != nil {
						return err
					}
					if asJSON {
						return printJSON(g.env.stdout, rep)
					}
					out := g.env.stdout
					fmt.Fprintf(out, "%d snapshots need %s, now kept (%s) until at least %s\n",
						rep.Snapshots, counted(rep.Files, "file"), rep.Mode, rep.Until.Local().Format(displayLayout))
					fmt.Fprintf(out, "extended %s (%d packs, %d index, %d snapshot, %d key files, %d config), %d already kept that long\n",
						counted(rep.Extended, "file"), rep.ByType[backend.PackFile], rep.ByType[backend.IndexFile], rep.ByType[backend.SnapshotFile],
						rep.ByType[backend.KeyFile], rep.ByType[backend.ConfigFile], rep.Unchanged)
					fmt.Fprintf(out, "run it again well before %s, when these locks run out\n", rep.Until.Local().Format(displayLayout))
					return nil
				})
			},
		}},
	}
}
