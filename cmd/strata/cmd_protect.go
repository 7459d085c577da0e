package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

func cmdProtect(g *globals) *cli.Command {
	var until, reason string
	return &cli.Command{
		Name:      "protect",
		Usage:     "keep a snapshot whatever the retention policy says",
		ArgsUsage: "SNAPSHOT",
		Description: `Writes a protection of SNAPSHOT: forget keeps it, listing the protection
as the reason, until --until passes (or for good without --until).
TIME is "YYYY-MM-DD" (00:00 that day) or "YYYY-MM-DD HH:MM[:SS]" in local
time, or RFC 3339. A snapshot may hold several protections; strata
unprotect removes them all. strata snapshots marks protected snapshots.

` + exitCodesHelp,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "until", Usage: "protect until `TIME`", Destination: &until},
			&cli.StringFlag{Name: "reason", Usage: "why, in `TEXT` forget and snapshots show", Destination: &reason},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return errors.New("give one snapshot: strata protect SNAPSHOT [--until TIME] [--reason TEXT]")
			}
			var end time.Time
			if until != "" {
				var err error
				if end, err = parseUntil(until); err != nil {
					return err
				}
			}
			return g.withWriterNoIndex(c.Context, false, "protect", func(r *repo.Repository) error {
				sn, err := r.FindSnapshot(c.Context, c.Args().First())
				if err != nil {
					return err
				}
				p, err := r.Protect(c.Context, sn.ID, end, reason)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.env.stdout, "protected snapshot %s: %s\n", sn.ID.Short(), describeProtection(p, time.Local))
				return nil
			})
		},
	}
}

func cmdUnprotect(g *globals) *cli.Command {
	var damaged bool
	return &cli.Command{
		Name:      "unprotect",
		Usage:     "remove every protection of a snapshot",
		ArgsUsage: "SNAPSHOT",
		Description: `Removes every protect file naming SNAPSHOT, so forget applies the policy
to it again. --damaged instead removes the protect files that cannot be
read (check names them): which snapshot they protect is unknown, and
forget refuses to run while they exist. Protect the snapshots again
afterwards if they still need it.

` + exitCodesHelp,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "damaged", Usage: "remove the damaged protect files instead", Destination: &damaged},
		},
		Action: func(c *cli.Context) error {
			if damaged {
				if c.NArg() != 0 {
					return errors.New("--damaged takes no snapshot: strata unprotect --damaged")
				}
				return g.withWriterNoIndex(c.Context, false, "unprotect", func(r *repo.Repository) error {
					removed, err := r.RemoveDamagedProtections(c.Context)
					for _, id := range removed {
						fmt.Fprintf(g.env.stdout, "removed damaged protect file %s\n", id.Short())
					}
					if err == nil && len(removed) == 0 {
						fmt.Fprintln(g.env.stdout, "no protect file is damaged")
					}
					return err
				})
			}
			if c.NArg() != 1 {
				return errors.New("give one snapshot: strata unprotect SNAPSHOT")
			}
			return g.withWriterNoIndex(c.Context, false, "unprotect", func(r *repo.Repository) error {
				// By the file's name, not its content: a damaged snapshot
				// file's protection must be removable too.
				ref := c.Args().First()
				var (
					id  pack.ID
					err error
				)
				if repo.IsLatest(ref) {
					sn, err := r.FindSnapshot(c.Context, ref)
					if err != nil {
						return err
					}
					id = sn.ID
				} else if id, err = r.FindID(c.Context, backend.SnapshotFile, ref); err != nil {
					return err
				}
				removed, err := r.Unprotect(c.Context, id)
				for _, p := range removed {
					g.printf("removed protection %s: %s\n", p.ID.Short(), describeProtection(p, time.Local))
				}
				if err != nil {
					return err
				}
				if len(removed) == 0 {
					fmt.Fprintf(g.env.stdout, "snapshot %s was not protected\n", id.Short())
					return nil
				}
				fmt.Fprintf(g.env.stdout, "snapshot %s is no longer protected (%s removed)\n", id.Short(), counted(len(removed), "protection"))
				return nil
			})
		},
	}
}
