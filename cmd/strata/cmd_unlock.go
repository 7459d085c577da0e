package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func cmdUnlock(g *globals) *cli.Command {
	var all bool
	return &cli.Command{
		Name:  "unlock",
		Usage: "remove stale locks",
		Description: `Removes locks whose process is gone on this host, or whose lease ran out
more than 30 minutes ago (the allowance for clock skew between hosts),
and lock files that cannot be read (they exclude no one).
--remove-all removes every lock: use it only when no other strata runs (a
command whose lock is removed stops before it writes anything more).

Exit codes: 0 ok, 1 error, 10 no repository, 12 wrong password.`,
		Flags: []cli.Flag{&cli.BoolFlag{Name: "remove-all", Usage: "remove all locks, even live ones", Destination: &all}},
		Action: func(c *cli.Context) error {
			if err := g.refuseNoLock("unlock"); err != nil {
				return err
			}
			r, err := g.openRepo(c.Context)
			if err != nil {
				return err
			}
			removed, err := r.RemoveLocks(c.Context, all)
			for _, l := range removed {
				g.printf("removed %v\n", l)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(g.env.stdout, "%s removed\n", counted(len(removed), "lock"))
			return nil
		},
	}
}
