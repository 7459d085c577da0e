package main

import (
	"fmt"
	"runtime"

	"github.com/urfave/cli/v2"
)

func cmdVersion(g *globals) *cli.Command {
	return &cli.Command{
		Name:   "version",
		Usage:  "print the version",
		Action: func(c *cli.Context) error { return printVersion(g) },
	}
}

// printVersion is `strata version` and `strata --version`.
func printVersion(g *globals) error {
	_, err := fmt.Fprintf(g.env.stdout, "strata %s compiled with %s on %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
