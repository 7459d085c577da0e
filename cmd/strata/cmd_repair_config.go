package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"strata/repo"
)

func cmdRepairConfig(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "rewrite a damaged or missing config from the copy in a key file",
		Description: `Every key file written by init, "key add" and "key passwd" carries a copy
of the config's bytes, sealed under the master key. When the file config is
damaged or missing, strata opens the repository with that copy (and says
so); this command writes the copy back as the file config, byte for byte,
under the exclusive lock. It does nothing when the config is intact.
Key files written before strata kept the copy lack it: when no key file
holds one, restore the file config from a copy of the repository.

` + exitCodesHelp,
		Action: func(c *cli.Context) error {
			return g.withLockNoIndex(c.Context, true, "repair config", func(r *repo.Repository) error {
				from, err := r.RepairConfig(c.Context)
				if err != nil {
					return err
				}
				if from == "" {
					fmt.Fprintln(g.env.stdout, "config is intact: nothing to repair")
					return nil
				}
				fmt.Fprintf(g.env.stdout, "config rewritten from the copy in key file %s\n", from[:min(8, len(from))])
				return nil
			})
		},
	}
}
