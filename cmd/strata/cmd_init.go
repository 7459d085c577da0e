package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"strata/repo"
)

func cmdInit(g *globals) *cli.Command {
	var (
		packSizeMiB uint
		from        fromFlags
	)
	return &cli.Command{
		Name:  "init",
		Usage: "create a new repository",
		Description: `Creates an encrypted repository at --repo. The password comes from
--password-file, STRATA_PASSWORD_FILE, STRATA_PASSWORD, STRATA_PASSWORD_COMMAND
or a prompt. Keep it safe: without it the data cannot be read.

--copy-chunker-params-from SOURCE gives the new repository the chunker
parameters of the repository SOURCE (its polynomial and chunk sizes for
files, streams and tables), so that both cut the same data into the same
chunks and copies between them (strata copy) deduplicate against backups.
Its password comes from --from-password-file, STRATA_FROM_PASSWORD_FILE,
STRATA_FROM_PASSWORD or STRATA_FROM_PASSWORD_COMMAND.

Exit codes: 0 ok, 1 error.`,
		Flags: []cli.Flag{
			&cli.UintFlag{Name: "pack-size", Usage: "target pack size in `MiB`", Value: 16, Destination: &packSizeMiB},
			&cli.StringFlag{Name: "copy-chunker-params-from", Usage: "cut chunks as the repository at `LOCATION` (a folder or a URL) does, so copies between the two deduplicate", Destination: &from.repo},
			from.passwordFlag(),
		},
		Action: func(c *cli.Context) error {
			if err := g.refuseNoLock("init"); err != nil {
				return err
			}
			if err := g.needRepo(); err != nil {
				return err
			}
			cfg, err := repo.DefaultConfig()
			if err != nil {
				return err
			}
			cfg.PackSize = uint32(packSizeMiB) << 20
			if from.repo != "" {
				src, err := g.openSource(c.Context, from)
				if err != nil {
					return err
				}
				if d := src.ConfigDamage(); d != nil && d.CopyFrom == "" {
					return fmt.Errorf("source repository %s: its config is lost, so its chunker parameters are unknown: %v", from.name(), d)
				}
				copyChunkerParams(&cfg, src.Config())
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			pw, err := g.initPassword(c.Context)
			if err != nil {
				return err
			}
			be, err := g.createStorage(c.Context)
			if err != nil {
				return err
			}
			r, err := repo.Init(c.Context, be, pw, cfg, g.repoOptions())
			if err != nil {
				return err
			}
			g.audit.opened(r)
			g.audit.writes = true
			g.printf("created strata repository %s at %s\n", r.Config().ID[:10], g.repoName())
			if from.repo != "" {
				g.printf("with the chunker parameters of %s\n", from.name())
			}
			g.printf("Please note that knowledge of your password is required to access\nthe repository. Losing your password means that your data is irrecoverably lost.\n")
			return nil
		},
	}
}

// initPassword asks twice on a terminal; elsewhere it takes the password
// from the usual places.
func (g *globals) initPassword(ctx context.Context) (string, error) {
	if g.passwordFile == "" && g.configPassword == nil && g.env.getenv("STRATA_PASSWORD") == "" && g.env.getenv("STRATA_PASSWORD_COMMAND") == "" && g.env.readPassword != nil {
		return g.newPassword("")
	}
	pw, err := g.password(ctx, "")
	if err == nil && pw == "" {
		err = errors.New("refusing an empty password")
	}
	return pw, err
}

// copyChunkerParams gives cfg the chunker parameters of from: the
// polynomial and the sizes of file and table chunks (docs/design.md,
// "Config"), and nothing else.
func copyChunkerParams(cfg *repo.Config, from repo.Config) {
	cfg.ChunkerPolynomial = from.ChunkerPolynomial
	cfg.MinSize, cfg.AvgBits, cfg.MaxSize = from.MinSize, from.AvgBits, from.MaxSize
	cfg.TableMinSize, cfg.TableAvgBits, cfg.TableMaxSize = from.TableMinSize, from.TableAvgBits, from.TableMaxSize
}
