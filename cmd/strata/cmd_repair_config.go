package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"strata/repo"
)

func cmdRepairConfig(g *globals) *cli.Command {
	var newPolynomial bool
	return &cli.Command{
		Name:  "config",
		Usage: "rewrite a damaged or missing config from the copy in a key file",
		Description: `Every key file written by init, "key add" and "key passwd" carries a copy
of the config's bytes, sealed under the master key. When the file config is
damaged or missing, strata opens the repository with that copy (and says
so); this command writes the copy back as the file config, byte for byte,
under the exclusive lock. It does nothing when the config is intact.
Key files written before strata kept the copy lack it: when no key file
holds one, commands that read still work (with default settings and a
notice) and backups are refused; restore the file config from a copy of
the repository, or give --new-polynomial to write a new config with
default settings and a new chunker polynomial: backups then work again,
but share no chunks (files, streams or tables) with earlier ones.

` + exitCodesHelp,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "new-polynomial", Usage: "when no key file holds a copy: write a new config (default settings, new chunker polynomial); new backups then share no chunks with earlier ones", Destination: &newPolynomial},
		},
		Action: func(c *cli.Context) error {
			return g.withLockNoIndex(c.Context, true, "repair config", func(r *repo.Repository) error {
				from, err := r.RepairConfig(c.Context, newPolynomial)
				if err != nil {
					return err
				}
				if from == "" {
					fmt.Fprintln(g.env.stdout, "config is intact: nothing to repair")
					return nil
				}
				if from == "(new)" {
					fmt.Fprintln(g.env.stdout, "new config written (new chunker polynomial): new backups share no chunks with earlier ones")
					return nil
				}
				fmt.Fprintf(g.env.stdout, "config rewritten from the copy in key file %s\n", from[:min(8, len(from))])
				return nil
			})
		},
	}
}
