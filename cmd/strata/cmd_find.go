package main

import (
	"encoding/json"
	"errors"
	"fmt"
	pathpkg "path"
	"time"

	"github.com/urfave/cli/v2"

	"strata/dbexport"
	"strata/filter"
	"strata/repo"
	"strata/repo/restore"
)

// findSnapshotJSON is one snapshot of `find --json`: the nodes in it that
// match.
type findSnapshotJSON struct {
	Snapshot string          `json:"snapshot"`
	Time     string          `json:"time"` // RFC 3339
	Host     string          `json:"host"`
	Source   string          `json:"source"`
	Matches  []findMatchJSON `json:"matches"`
}

type findMatchJSON struct {
	Path  string `json:"path"`
	Kind  string `json:"kind"` // file, dir, symlink, stream or table
	Size  uint64 `json:"size"`
	MTime string `json:"mtime"` // RFC 3339; a table's or stream's is its snapshot's
}

func cmdFind(g *globals) *cli.Command {
	var (
		asJSON, ignoreCase bool
		host, tag, tier    string
		snapshotRefs       cli.StringSlice
	)
	return &cli.Command{
		Name:      "find",
		Usage:     "find files and tables by name across snapshots",
		ArgsUsage: "PATTERN...",
		Description: `Lists, for every snapshot (newest first; --snapshot, --host, --tag and
--tier narrow them), the files, folders, streams and tables whose path
matches a PATTERN. Patterns are those of restore --include: one with a
leading "/" matches the whole snapshot path ("/var/lib/app/*.csv"), any
other the path's last parts ("*.csv", "customers" for a table or file of
that name, "orders" or "public.orders" for a PostgreSQL table).
--ignore-case matches without regard to case. --json prints an array
with one object per snapshot that has matches.

` + exitCodesHelp,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print a JSON array", Destination: &asJSON},
			&cli.BoolFlag{Name: "ignore-case", Aliases: []string{"i"}, Usage: "match without regard to case", Destination: &ignoreCase},
			&cli.StringSliceFlag{Name: "snapshot", Aliases: []string{"s"}, Usage: "only in snapshot `ID` (repeatable; latest, an ID or a prefix)", Destination: &snapshotRefs},
			&cli.StringFlag{Name: "host", Usage: "only snapshots from `HOST`", Destination: &host},
			&cli.StringFlag{Name: "tag", Usage: "only snapshots with `TAG`", Destination: &tag},
			&cli.StringFlag{Name: "tier", Usage: "only snapshots of `TIER`", Destination: &tier},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return errors.New("give a pattern: strata find PATTERN... (\"*.csv\", \"customers\")")
			}
			patterns, err := filter.ParseList(c.Args().Slice(), ignoreCase)
			if err != nil {
				return err
			}
			return g.withReader(c.Context, "find", func(r *repo.Repository) error {
				var sns []*repo.Snapshot
				if refs := snapshotRefs.Value(); len(refs) > 0 {
					for _, ref := range refs {
						sn, err := r.FindSnapshot(c.Context, ref)
						if err != nil {
							return err
						}
						sns = append(sns, sn)
					}
				} else {
					all, err := r.Snapshots(c.Context)
					if err != nil {
						return err
					}
					for i := len(all) - 1; i >= 0; i-- {
						sn := all[i]
						if (host == "" || sn.Host == host) && (tag == "" || sn.HasTag(tag)) && (tier == "" || sn.Tier == tier) {
							sns = append(sns, sn)
						}
					}
				}
				out := []findSnapshotJSON{}
				found := 0
				for _, sn := range sns {
					fs := findSnapshotJSON{Snapshot: sn.ID.String(), Time: sn.Time.Format(time.RFC3339Nano), Host: sn.Host, Source: sn.Source}
					err := restore.Walk(c.Context, r, sn.Tree, func(path string, n *repo.Node) error {
						if !patterns.Match(path) && !patterns.Match(bareTablePath(path, n)) {
							return nil
						}
						mtime := n.ModTime
						if mtime.IsZero() {
							mtime = sn.Time
						}
						fs.Matches = append(fs.Matches, findMatchJSON{Path: path, Kind: n.Kind, Size: n.Size, MTime: mtime.Format(time.RFC3339Nano)})
						return nil
					})
					if err != nil {
						return fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
					}
					if len(fs.Matches) == 0 {
						continue
					}
					found += len(fs.Matches)
					if asJSON {
						out = append(out, fs)
						continue
					}
					fmt.Fprintf(g.env.stdout, "snapshot %s of %s (%s, %s):\n", sn.ID.Short(), showTime(sn.Time), sn.Host, sn.Source)
					for _, m := range fs.Matches {
						t, _ := time.Parse(time.RFC3339Nano, m.MTime)
						fmt.Fprintf(g.env.stdout, "  %-7s %12d %s %s\n", m.Kind, m.Size, showTime(t), m.Path)
					}
				}
				if asJSON {
					return printJSON(g.env.stdout, out)
				}
				g.printf("%s in %s\n", counted(found, "match"), counted(len(sns), "snapshot"))
				return nil
			})
		},
	}
}

// bareTablePath is the path of a table node named without its schema
// ("/orders" for "/public.orders"), the name restore --tables and dump
// accept too; "" for any other node.
func bareTablePath(path string, n *repo.Node) string {
	if n.Kind != repo.NodeTable {
		return ""
	}
	var t dbexport.Table
	if json.Unmarshal([]byte(n.Meta[repo.TableMetaTable]), &t) != nil || t.Schema == "" || t.Name == "" {
		return ""
	}
	return pathpkg.Join(pathpkg.Dir(path), t.Name)
}
