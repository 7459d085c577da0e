package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"strata/repo"
	"strata/repo/restore"
)

func cmdLs(g *globals) *cli.Command {
	var asJSON, long bool
	return &cli.Command{
		Name:      "ls",
		Usage:     "list the files of a snapshot",
		ArgsUsage: "SNAPSHOT [PATH...]",
		Description: `Lists every node of SNAPSHOT ("latest", "latest~N" for the Nth before it, an ID or a unique ID prefix),
or, given PATHs, those nodes and what is under them (ls latest /srv/data).
--long shows kind, mode, size and modification time; a table or stream,
which has no time of its own, shows the snapshot's. --json prints one JSON
object per line (path, name, kind, size, mode, mtime), as restic's ls
--json does, not one array.

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password, 130 interrupted.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object per node, one per line (JSON Lines)", Destination: &asJSON},
			&cli.BoolFlag{Name: "long", Aliases: []string{"l"}, Usage: "show kind, mode, size and time", Destination: &long},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return fmt.Errorf("give a snapshot: strata ls SNAPSHOT [PATH...]")
			}
			var only []string
			for _, p := range c.Args().Slice()[1:] {
				only = append(only, "/"+strings.Trim(p, "/"))
			}
			found := make([]bool, len(only))
			return g.withReader(c.Context, "ls", func(r *repo.Repository) error {
				sn, err := r.FindSnapshot(c.Context, c.Args().First())
				if err != nil {
					return err
				}
				g.warnRepaired(sn, asJSON)
				err = restore.Walk(c.Context, r, sn.Tree, func(path string, n *repo.Node) error {
					if len(only) > 0 {
						under := false
						for i, p := range only {
							if path == p || p == "/" || strings.HasPrefix(path, p+"/") {
								found[i], under = true, true
							}
						}
						if !under {
							return nil
						}
					}
					// Tables and streams carry no time of their own: they
					// were read when the snapshot was taken.
					mtime := n.ModTime
					if mtime.IsZero() {
						mtime = sn.Time
					}
					switch {
					case asJSON:
						return jsonLine(g.env.stdout, map[string]any{
							"path": path, "name": n.Name, "kind": n.Kind, "size": n.Size,
							"mode": fmt.Sprintf("%04o", n.Mode), "mtime": mtime.Format(time.RFC3339Nano),
						})
					case long:
						fmt.Fprintf(g.env.stdout, "%-7s %04o %12d %s %s\n", n.Kind, n.Mode, n.Size, showTime(mtime), path)
					default:
						fmt.Fprintln(g.env.stdout, path)
					}
					return nil
				})
				if err != nil {
					// Name the snapshot, as dump and restore do.
					return fmt.Errorf("snapshot %s: %w", sn.ID.Short(), err)
				}
				for i, ok := range found {
					if !ok {
						return fmt.Errorf("snapshot %s holds no %s (strata ls %s lists what it holds)", sn.ID.Short(), only[i], c.Args().First())
					}
				}
				return nil
			})
		},
	}
}
