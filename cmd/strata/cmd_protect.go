package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/objectlock"
	"strata/workflow"
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
				fmt.Fprintf(g.env.stdout, "protected snapshot %s: %s\n", sn.ID.Short(), workflow.DescribeProtection(p, time.Local))
				if r.ObjectLock() == nil {
					return nil
				}
				if err := r.LoadIndex(c.Context); err != nil {
					return fmt.Errorf("placing the legal hold on the files of snapshot %s: %w; run strata protect again", sn.ID.Short(), err)
				}
				rep, err := objectlock.Hold(c.Context, r, sn, true, nil, objectlock.Options{})
				if err != nil {
					return fmt.Errorf("placing the legal hold on the files of snapshot %s (%d placed): %w; run strata protect again", sn.ID.Short(), holdCount(rep), err)
				}
				fmt.Fprintf(g.env.stdout, "placed an S3 legal hold on the %s snapshot %s needs: nobody can delete them until strata unprotect lifts it\n",
					counted(rep.Held, "file"), sn.ID.Short())
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
					g.printf("removed protection %s: %s\n", p.ID.Short(), workflow.DescribeProtection(p, time.Local))
				}
				if err != nil {
					return err
				}
				if r.ObjectLock() != nil {
					if err := releaseHold(c, g, r, id); err != nil {
						return err
					}
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

func holdCount(rep *objectlock.HoldReport) int {
	if rep == nil {
		return 0
	}
	return rep.Held
}

// releaseHold lifts the legal hold protect placed on the files snapshot
// id needs, except from those another protected snapshot needs.
func releaseHold(c *cli.Context, g *globals, r *repo.Repository, id pack.ID) error {
	fail := func(err error) error {
		return fmt.Errorf("lifting the legal hold on the files of snapshot %s: %w; run strata unprotect again", id.Short(), err)
	}
	if err := r.LoadIndex(c.Context); err != nil {
		return fail(err)
	}
	sn, err := r.LoadSnapshot(c.Context, id)
	if err != nil {
		return fail(err)
	}
	prots, err := r.Protections(c.Context)
	if err != nil {
		return fail(err)
	}
	var others []*repo.Snapshot
	seen := map[pack.ID]bool{id: true}
	for _, p := range prots {
		if seen[p.Snapshot] {
			continue
		}
		seen[p.Snapshot] = true
		other, err := r.LoadSnapshot(c.Context, p.Snapshot)
		if errors.Is(err, backend.ErrNotExist) {
			continue
		}
		if err != nil {
			return fail(err)
		}
		others = append(others, other)
	}
	rep, err := objectlock.Hold(c.Context, r, sn, false, others, objectlock.Options{})
	if err != nil {
		return fail(err)
	}
	msg := fmt.Sprintf("lifted the S3 legal hold from %s", counted(rep.Released, "file"))
	if rep.Kept > 0 {
		msg += fmt.Sprintf("; %s stay held for other protected snapshots", counted(rep.Kept, "file"))
	}
	fmt.Fprintln(g.env.stdout, msg)
	return nil
}
