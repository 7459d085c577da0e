package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"strata/service/config"
	"strata/service/notify"
)

func cmdNotify(g *globals) *cli.Command {
	var (
		channel string
		asJSON  bool
	)
	return &cli.Command{
		Name:  "notify",
		Usage: "notification channels of strata.yaml",
		Subcommands: []*cli.Command{{
			Name:  "test",
			Usage: "send a test notification to each channel of --config and report each",
			Description: `Sends a test event to every channel under notifications: in --config
(or --channel NAME only), whatever the channel's events and severity, and
reports per channel whether it was delivered and, if not, why (without
the channel's URL or password). A healthchecks channel gets a success
ping. Exit code 1 when a channel failed.`,
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "channel", Usage: "only the channel named `NAME`", Destination: &channel},
				&cli.BoolFlag{Name: "json", Usage: "print the results as JSON", Destination: &asJSON},
			},
			Action: func(c *cli.Context) error {
				if g.cfg == nil {
					return errors.New("no config: give --config strata.yaml (or set STRATA_CONFIG); its notifications: section lists the channels")
				}
				n, err := g.notifier(notify.Options{Attempts: 1})
				if err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(c.Context, 2*time.Minute)
				defer cancel()
				results, err := n.Test(ctx, channel)
				if err != nil {
					return err
				}
				failed := 0
				type resultJSON struct {
					Channel string `json:"channel"`
					Type    string `json:"type"`
					OK      bool   `json:"ok"`
					Error   string `json:"error,omitempty"`
				}
				var out []resultJSON
				for _, r := range results {
					rj := resultJSON{Channel: r.Channel, Type: r.Type, OK: r.OK()}
					if r.Err != nil {
						failed++
						rj.Error = r.Err.Error()
					}
					out = append(out, rj)
					if !asJSON {
						if r.Err != nil {
							fmt.Fprintf(g.env.stdout, "%s (%s): failed: %v\n", r.Channel, r.Type, r.Err)
						} else {
							fmt.Fprintf(g.env.stdout, "%s (%s): sent\n", r.Channel, r.Type)
						}
					}
				}
				if asJSON {
					if err := printJSON(g.env.stdout, out); err != nil {
						return err
					}
				}
				if failed > 0 {
					return fmt.Errorf("%s of %d failed", counted(failed, "channel"), len(results))
				}
				return nil
			},
		}},
	}
}

// notifier is the notifier of --config's channels.
func (g *globals) notifier(opts notify.Options) (*notify.Notifier, error) {
	return g.notifierOf(g.cfg, opts)
}

// notifierOf is the notifier of cfg's channels (none when cfg is nil).
func (g *globals) notifierOf(cfg *config.Config, opts notify.Options) (*notify.Notifier, error) {
	host, _ := os.Hostname()
	if cfg == nil {
		return notify.NewNotifier(nil, opts)
	}
	chs, err := notify.FromConfig(cfg, notify.NewOptions{Getenv: g.env.getenv, Hostname: host})
	if err != nil {
		return nil, err
	}
	if opts.Host == "" {
		opts.Host = host
	}
	return notify.NewNotifier(chs, opts)
}
