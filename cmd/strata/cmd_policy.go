package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"strata/repo"
	"strata/repo/retention"
	"strata/workflow"
)

// policyJSON is the documented shape of `policy show --json`.
type policyJSON struct {
	Source   string           `json:"source"` // repository or none
	Set      *time.Time       `json:"set,omitempty"`
	Timezone string           `json:"timezone"` // "" for local time
	Policy   retention.Policy `json:"policy"`
	Flags    string           `json:"flags"`
}

func cmdPolicy(g *globals) *cli.Command {
	var (
		keep   keepFlags
		zone   string
		asJSON bool
	)
	return &cli.Command{
		Name:  "policy",
		Usage: "show, set or reset the retention policy stored in the repository",
		Description: `forget applies the repository's policy when it is given no --keep-*
flags; without one it removes nothing. A policy to start from:
strata policy set --keep-hourly 24 --keep-daily 30 --keep-weekly 12 --keep-monthly 12

Safety snapshots (tags pre-restore and pre-op) are kept for 7 days after
they were taken whatever the rules say; --keep-safety sets another period
(0: none), stored with the policy.

` + exitCodesHelp,
		Subcommands: []*cli.Command{
			{
				Name:  "show",
				Usage: "print the policy forget applies without flags",
				Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON", Destination: &asJSON}},
				Action: func(c *cli.Context) error {
					return g.withReader(c.Context, "policy show", func(r *repo.Repository) error {
						return showPolicy(c, g, r, asJSON)
					})
				},
			},
			{
				Name:  "set",
				Usage: "store a policy (the --keep-* flags of forget)",
				Flags: append(keep.flags(), &cli.StringFlag{Name: "timezone", Usage: "cut hours, days, weeks, months and years in `ZONE`, like Europe/Berlin (default: the local time of whoever runs forget)", Destination: &zone}),
				Action: func(c *cli.Context) error {
					p, given, err := keep.policy(c)
					if err != nil {
						return err
					}
					p, cfgRetention, fromConfig, err := g.configPolicy(p, given)
					if err != nil {
						return err
					}
					if fromConfig {
						given = true
						if zone == "" {
							zone = cfgRetention.Timezone
						}
					}
					if !given || p.Empty() {
						return errors.New("give the policy as --keep-* flags, like --keep-daily 7 --keep-weekly 4, or a retention section in --config strata.yaml")
					}
					loc, err := workflow.LoadZone(zone)
					if err != nil {
						return fmt.Errorf("--timezone: %w", err)
					}
					stored := zone
					if loc == time.Local {
						stored = ""
					}
					raw, err := retention.EncodePolicy(p)
					if err != nil {
						return err
					}
					return g.withWriterNoIndex(c.Context, false, "policy set", func(r *repo.Repository) error {
						if _, err := r.SetPolicy(c.Context, raw, stored); err != nil {
							return err
						}
						fmt.Fprintf(g.env.stdout, "policy set: %s, times in %s\n", p, zoneName(loc))
						return nil
					})
				},
			},
			{
				Name:  "reset",
				Usage: "remove the stored policy, so forget without flags removes nothing",
				Action: func(c *cli.Context) error {
					return g.withWriterNoIndex(c.Context, false, "policy reset", func(r *repo.Repository) error {
						n, err := r.ResetPolicy(c.Context)
						if err != nil {
							return err
						}
						if n == 0 {
							fmt.Fprintln(g.env.stdout, "no repository policy; forget without --keep-* flags removes nothing")
							return nil
						}
						fmt.Fprintln(g.env.stdout, "removed the repository policy; forget without --keep-* flags now removes nothing")
						return nil
					})
				},
			},
		},
	}
}

func showPolicy(c *cli.Context, g *globals, r *repo.Repository, asJSON bool) error {
	sp, found, err := r.LoadPolicy(c.Context)
	if err != nil {
		return err
	}
	out := policyJSON{Source: "none"}
	if found {
		p, err := retention.DecodePolicy(sp.Policy)
		if err != nil {
			return fmt.Errorf("repository policy file %s: %w", sp.ID.Short(), err)
		}
		out = policyJSON{Source: "repository", Set: &sp.Time, Timezone: sp.Timezone, Policy: p}
	}
	out.Flags = out.Policy.String()
	if asJSON {
		return printJSON(g.env.stdout, out)
	}
	loc, err := workflow.LoadZone(out.Timezone)
	if err != nil {
		return fmt.Errorf("repository policy file %s: %w", sp.ID.Short(), err)
	}
	w := g.env.stdout
	if found {
		fmt.Fprintf(w, "repository policy, set %s\n", showTime(sp.Time))
	} else {
		fmt.Fprintf(w, "no repository policy: forget without --keep-* flags removes nothing\nto start from a common policy: strata policy set %s\n", retention.DefaultPolicy())
		return nil
	}
	fmt.Fprintf(w, "rules: %s\nsafety snapshots (pre-restore, pre-op) kept for %s\ntimes in %s\n", out.Flags, out.Policy.SafetyPeriod(), zoneName(loc))
	return nil
}
