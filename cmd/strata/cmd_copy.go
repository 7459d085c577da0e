package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"

	"github.com/urfave/cli/v2"

	"strata/dbexport"
	"strata/internal/progress"
	"strata/pack"
	"strata/repo"
	"strata/repo/copier"
	"strata/workflow"
)

// fromFlags name the source repository of copy and of init
// --copy-chunker-params-from, and where its password comes from: as
// restic's, never a command-line value.
type fromFlags struct {
	repo         string
	passwordFile string
}

func (f *fromFlags) passwordFlag() cli.Flag {
	return &cli.StringFlag{Name: "from-password-file", Usage: "read the source repository's password from `FILE` (or STRATA_FROM_PASSWORD_FILE, STRATA_FROM_PASSWORD, STRATA_FROM_PASSWORD_COMMAND)", Destination: &f.passwordFile}
}

// openSource opens the source repository at location, without its index.
// Its notices say that they are the source's.
func (g *globals) openSource(ctx context.Context, f fromFlags) (*repo.Repository, error) {
	if f.passwordFile == "" {
		f.passwordFile = g.env.getenv("STRATA_FROM_PASSWORD_FILE")
	}
	req := g.openRequest(f.repo, func() (string, error) {
		return g.passwordFrom(ctx, f.passwordFile, "STRATA_FROM_PASSWORD", "--from-password-file", "enter password for source repository "+f.name()+": ")
	}, slog.New(cliHandler{g: g, prefix: "source repository: "}))
	req.Getenv, req.CredentialsHint = sourceGetenv(g.env.getenv), sourceCredentialsHint(g.env.getenv)
	src, err := workflow.Open(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("source repository %s: %w", f.name(), err)
	}
	g.verbosef(1, "opened source repository %s\n", f.name())
	return src, nil
}

// copyJSON is the documented shape of `copy --json`.
type copyJSON struct {
	Snapshots []copySnapshotJSON `json:"snapshots"`
	Copied    int                `json:"copied"`
	Skipped   int                `json:"skipped"`
	copier.Counts
	SameChunker bool `json:"same_chunker"`
}

type copySnapshotJSON struct {
	SourceID string `json:"source_id"`
	CopyID   string `json:"copy_id"`
	Skipped  bool   `json:"skipped"` // already in the destination as copy_id
	copier.Counts
}

func cmdCopy(g *globals) *cli.Command {
	var (
		from                    fromFlags
		host, tag, tier, source string
		asJSON                  bool
	)
	return &cli.Command{
		Name:      "copy",
		Usage:     "copy snapshots from another repository into this one",
		ArgsUsage: "[SNAPSHOT...]",
		Description: `Copies snapshots of --from-repo (all, or each SNAPSHOT: "latest", an ID
or a unique ID prefix; --host, --tag, --tier and --source narrow them)
into the repository --repo, with every blob they need that it lacks:
data, delta bases, trees and table pages. Blobs are read and verified
with the source's key and stored with this repository's, so the two may
have different passwords. A snapshot that is already here (copied
before: its "original" field names the source snapshot) is skipped, so a
second run copies nothing; run it hourly to keep an off-site copy.
Each copy is written after its packs and index, as a backup writes; a
copy killed before its index was written resumes from the packs it
stored.

The source's password comes from --from-password-file,
STRATA_FROM_PASSWORD_FILE, STRATA_FROM_PASSWORD or
STRATA_FROM_PASSWORD_COMMAND (or a prompt), and --from-repo from
STRATA_FROM_REPOSITORY. A source in a bucket that needs other credentials
than this repository reads STRATA_FROM_S3_ACCESS_KEY_ID,
STRATA_FROM_S3_SECRET_ACCESS_KEY, STRATA_FROM_S3_SESSION_TOKEN and
STRATA_FROM_S3_REGION, or STRATA_FROM_AWS_PROFILE. Backups into this repository deduplicate against
the copies only when both cut chunks alike: create it with
strata init --copy-chunker-params-from SOURCE.

` + exitCodesHelp,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "from-repo", Usage: "copy from the repository `LOCATION`: a folder or a URL, as --repo takes (or STRATA_FROM_REPOSITORY)", Destination: &from.repo},
			from.passwordFlag(),
			&cli.StringFlag{Name: "host", Usage: "only snapshots from `HOST`", Destination: &host},
			&cli.StringFlag{Name: "tag", Usage: "only snapshots with `TAG`", Destination: &tag},
			&cli.StringFlag{Name: "tier", Usage: "only snapshots of `TIER`", Destination: &tier},
			&cli.StringFlag{Name: "source", Usage: "only snapshots of the database `DSN` (any spelling), or of a recorded source such as files:/srv", Destination: &source},
			&cli.BoolFlag{Name: "json", Usage: "print what was copied as JSON", Destination: &asJSON},
		},
		Action: func(c *cli.Context) error {
			if from.repo == "" {
				from.repo = g.env.getenv("STRATA_FROM_REPOSITORY")
			}
			if from.repo == "" {
				return errors.New("give the repository to copy from: --from-repo LOCATION (or STRATA_FROM_REPOSITORY)")
			}
			ctx := c.Context
			return g.withLock(ctx, false, "copy", func(dst *repo.Repository) error {
				// A copy killed before it indexed what it uploaded resumes
				// from those packs instead of sending their blobs again.
				if n, err := dst.AdoptDataPacks(ctx); err != nil {
					return err
				} else if n > 0 {
					g.notice(fmt.Sprintf("indexed %s that an interrupted command uploaded: their blobs are not sent again", counted(n, "pack")))
				}
				src, err := g.openSource(ctx, from)
				if err != nil {
					return err
				}
				unlock, err := g.readLock(ctx, src, "copy")
				if err != nil {
					return fmt.Errorf("source repository %s: %w", from.name(), err)
				}
				defer unlock()
				src.SkipDamagedSnapshots()
				dmg, err := src.LoadIndexForReading(ctx)
				g.warnIndexDamage(dmg)
				if err != nil {
					return fmt.Errorf("source repository %s: %w", from.name(), err)
				}
				all, err := src.Snapshots(ctx)
				if err != nil {
					return fmt.Errorf("source repository %s: %w", from.name(), err)
				}
				match := func(sn *repo.Snapshot) bool {
					return (host == "" || sn.Host == host) && (tag == "" || sn.HasTag(tag)) && (tier == "" || sn.Tier == tier) &&
						(source == "" || dbexport.MatchesSource(sn, source))
				}
				selected, err := selectSnapshots(ctx, src, all, c.Args().Slice(), match)
				if err != nil {
					return fmt.Errorf("source repository %s: %w", from.name(), err)
				}
				if !copier.SameChunker(src.Config(), dst.Config()) {
					g.notice("this repository cuts chunks with other parameters than the source: the copies are complete and restore " +
						"as the originals do, but backups here will not deduplicate against them (a repository made with " +
						"`strata init --copy-chunker-params-from SOURCE` would)")
				}
				rep, err := copier.Copy(ctx, src, dst, copier.Options{Snapshots: selected, All: all, Done: func(sc copier.SnapshotCopy) {
					if !asJSON {
						g.printCopied(sc)
					}
				}, Step: func(msg string) { g.verbosef(1, "%s\n", msg) }})
				if asJSON && rep != nil && err == nil {
					return printJSON(g.env.stdout, toCopyJSON(rep))
				}
				if err != nil {
					return err
				}
				g.printCopySummary(rep)
				return nil
			})
		},
	}
}

// selectSnapshots returns the source snapshots to copy, oldest first: each
// named one ("latest" is the newest that match), or, with none named,
// every one that matches.
func selectSnapshots(ctx context.Context, src *repo.Repository, all []*repo.Snapshot, refs []string, match func(*repo.Snapshot) bool) ([]*repo.Snapshot, error) {
	var matching []*repo.Snapshot
	for _, sn := range all {
		if match(sn) {
			matching = append(matching, sn)
		}
	}
	if len(refs) == 0 {
		return matching, nil
	}
	seen := map[pack.ID]bool{}
	var out []*repo.Snapshot
	for _, ref := range refs {
		var sn *repo.Snapshot
		if back, latest, err := repo.LatestRef(ref); err != nil {
			return nil, err
		} else if latest {
			if len(matching) == 0 {
				return nil, fmt.Errorf("%w: no snapshot matches, so there is no latest", repo.ErrSnapshotNotFound)
			}
			if sn, err = repo.BeforeLatest(matching, back, ref, "that match"); err != nil {
				return nil, err
			}
		} else {
			var err error
			if sn, err = src.FindSnapshot(ctx, ref); err != nil {
				return nil, err
			}
		}
		if !seen[sn.ID] {
			seen[sn.ID] = true
			out = append(out, sn)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

func (g *globals) printCopied(sc copier.SnapshotCopy) {
	sn := sc.Source
	what := fmt.Sprintf("snapshot %s (%s, %s, %s)", sn.ID.Short(), showTime(sn.Time), sn.Host, sn.Source)
	if sc.Skipped {
		g.printf("%s is already here as %s: skipped\n", what, sc.Copy.ID.Short())
		return
	}
	g.printf("copied %s as %s: %s\n", what, sc.Copy.ID.Short(), countsText(sc.Counts))
}

func countsText(n copier.Counts) string {
	return fmt.Sprintf("%s (%d as delta blobs), %s, %s added; %s already here; %s of the source read (%s)",
		counted(n.DataBlobs, "data blob"), n.DeltaBlobs, counted(n.TreeBlobs, "tree blob"), progress.Bytes(n.BytesAdded),
		counted(n.Present, "blob"), counted(n.DataRead, "data blob"), progress.Bytes(n.BytesRead))
}

func (g *globals) printCopySummary(rep *copier.Report) {
	copied := rep.Copied()
	skipped := len(rep.Snapshots) - copied
	switch {
	case len(rep.Snapshots) == 0:
		g.printf("no snapshots to copy\n")
	case copied == 0:
		g.printf("nothing to copy: %s already here\n", counted(skipped, "snapshot"))
	case skipped == 0:
		g.printf("copied %s: %s\n", counted(copied, "snapshot"), countsText(rep.Counts))
	default:
		g.printf("copied %s (%d already here): %s\n", counted(copied, "snapshot"), skipped, countsText(rep.Counts))
	}
}

func toCopyJSON(rep *copier.Report) copyJSON {
	out := copyJSON{Snapshots: []copySnapshotJSON{}, Counts: rep.Counts, SameChunker: rep.SameChunker, Copied: rep.Copied()}
	out.Skipped = len(rep.Snapshots) - out.Copied
	for _, sc := range rep.Snapshots {
		out.Snapshots = append(out.Snapshots, copySnapshotJSON{SourceID: sc.Source.ID.String(), CopyID: sc.Copy.ID.String(), Skipped: sc.Skipped, Counts: sc.Counts})
	}
	return out
}
