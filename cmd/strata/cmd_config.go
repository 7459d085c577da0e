package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"
	"go.yaml.in/yaml/v3"

	"strata/service/config"
)

func cmdConfig(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "check strata.yaml, or print it as strata reads it",
		Description: `strata.yaml configures strata as a service (see "Run strata as a service"
in the README, and docs/strata.schema.json for editors). The file is given
by --config FILE, STRATA_CONFIG, or as the argument.

Exit codes: 0 ok, 1 error (the config is invalid: every problem is printed,
with its file, line and key).`,
		Subcommands: []*cli.Command{
			{
				Name:      "validate",
				Usage:     "check the config: keys, values, schedules, and that jobs name sources",
				ArgsUsage: "[FILE]",
				Action: func(c *cli.Context) error {
					cfg, err := g.loadConfigArg(c)
					if cfg != nil {
						// Listed with the errors too: every mistake in one run.
						for _, m := range cfg.CheckSecrets(g.env.getenv) {
							fmt.Fprintf(g.env.stderr, "warning: %s\n", m)
						}
					}
					if err != nil {
						return err
					}
					w := g.env.stdout
					fmt.Fprintf(w, "%s is valid: %s, %s, %s\n", cfg.File, plural(len(cfg.Sources), "source"), plural(len(cfg.Jobs), "job"), plural(len(cfg.Notifications.Channels), "notification channel"))
					now := time.Now()
					for i := range cfg.Jobs {
						j := &cfg.Jobs[i]
						s, err := cfg.JobSchedule(j)
						if err != nil {
							return err
						}
						if s == nil {
							fmt.Fprintf(w, "  job %s: %s, no schedule (runs when asked)\n", j.Name, j.Source)
							continue
						}
						fmt.Fprintf(w, "  job %s: %s, %s (every %s), next %s\n", j.Name, j.Source, s, config.Duration(s.Interval()), s.Next(now).Format("2006-01-02 15:04 MST"))
					}
					return nil
				},
			},
			{
				Name:      "show",
				Usage:     "print the config in force: defaults filled in, secrets masked",
				ArgsUsage: "[FILE]",
				Action: func(c *cli.Context) error {
					cfg, err := g.loadConfigArg(c)
					if err != nil {
						return err
					}
					fmt.Fprintf(g.env.stdout, "# %s as strata reads it: defaults filled in, relative paths made absolute, secrets masked (%s)\n", cfg.File, config.Masked)
					enc := yaml.NewEncoder(g.env.stdout)
					enc.SetIndent(2)
					if err := enc.Encode(cfg.Masked()); err != nil {
						return err
					}
					return enc.Close()
				},
			},
		},
	}
}

// loadConfigArg loads the config named by the argument, --config or
// STRATA_CONFIG, printing its problems (config.Inspect) and then its
// warnings. A config with problems is returned with the error when it
// could be read, for more warnings; it is not to be used otherwise.
func (g *globals) loadConfigArg(c *cli.Context) (*config.Config, error) {
	path := c.Args().First()
	if c.NArg() > 1 {
		return nil, fmt.Errorf("one config file at a time, not %d", c.NArg())
	}
	if path == "" {
		path = g.configPath
	}
	if path == "" {
		path = g.env.getenv("STRATA_CONFIG")
	}
	if path == "" {
		return nil, errors.New("no config: give --config FILE, set STRATA_CONFIG, or name the file")
	}
	cfg, err := config.Inspect(path)
	if err != nil {
		err = g.configErrors(err)
	}
	if cfg != nil {
		for _, w := range cfg.Warnings() {
			fmt.Fprintf(g.env.stderr, "warning: %s\n", w)
		}
	}
	return cfg, err
}

// plural is "1 job", "2 jobs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
