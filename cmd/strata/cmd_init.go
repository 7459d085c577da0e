package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"strata/repo"
)

func cmdInit(g *globals) *cli.Command {
	var (
		packSizeMiB uint
		from        fromFlags
		lockMode    string
		lockDays    int
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

--object-lock governance|compliance --lock-days N puts the repository
under S3 object lock: every pack, index, snapshot and key file and the
config is written with a retention of N days from its writing (lock files
are not), so that nobody can delete or overwrite them before that date;
in compliance mode not even the account's root user. The bucket must have
object lock on: init creates it with object lock when it does not exist,
and refuses a bucket that exists without. Renew the retention of what the
kept snapshots need with strata maintenance extend-locks, more often than
every N days. A repository under object lock can be read by strata from
this version on only.

Exit codes: 0 ok, 1 error.`,
		Flags: []cli.Flag{
			&cli.UintFlag{Name: "pack-size", Usage: "target pack size in `MiB`", Value: 16, Destination: &packSizeMiB},
			&cli.StringFlag{Name: "copy-chunker-params-from", Usage: "cut chunks as the repository at `LOCATION` (a folder or a URL) does, so copies between the two deduplicate", Destination: &from.repo},
			from.passwordFlag(),
			&cli.StringFlag{Name: "object-lock", Usage: "write files under S3 object lock in `MODE` governance or compliance (with --lock-days)", Destination: &lockMode},
			&cli.IntFlag{Name: "lock-days", Usage: "keep each file `N` days under object lock from its writing", Destination: &lockDays},
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
			switch {
			case lockMode != "" && lockDays == 0:
				return errors.New("--object-lock needs --lock-days N: how many days each file stays locked")
			case lockMode == "" && lockDays != 0:
				return errors.New("--lock-days needs --object-lock governance or --object-lock compliance")
			case lockMode != "":
				cfg.Version = repo.ObjectLockVersion
				cfg.ObjectLock = &repo.ObjectLock{Mode: strings.ToLower(lockMode), Days: lockDays}
			}
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
			be, err := g.createStorage(c.Context, cfg.ObjectLock != nil)
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
			if l := r.Config().ObjectLock; l != nil {
				g.printf("under object lock: every file but locks kept %s from its writing (%s mode); run strata maintenance extend-locks more often than that\n",
					counted(l.Days, "day"), l.Mode)
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
