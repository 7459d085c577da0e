package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"strata/index"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
)

func cmdCat(g *globals) *cli.Command {
	return &cli.Command{
		Name:      "cat",
		Usage:     "print a repository structure, for debugging",
		ArgsUsage: "config | snapshot ID | index ID | pack-header ID | key ID | tree ID | blob ID",
		Description: `Prints the decrypted content of one repository file or blob: config,
snapshot, index and pack-header as JSON, tree as its canonical JSON (a
page of a table's chunk list as its level and entries), blob as raw
bytes. Every ID may be a unique prefix of at least 4 hex characters.

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password, 130 interrupted.`,
		Action: func(c *cli.Context) error {
			what := c.Args().First()
			if what == "" || (what != "config" && c.NArg() != 2) {
				return fmt.Errorf("usage: strata cat %s", "config | snapshot ID | index ID | pack-header ID | key ID | tree ID | blob ID")
			}
			ref := c.Args().Get(1)
			return g.withReader(c.Context, "cat", func(r *repo.Repository) error {
				ctx := c.Context
				switch what {
				case "config":
					return printJSON(g.env.stdout, r.Config())
				case "snapshot":
					sn, err := r.FindSnapshot(ctx, ref)
					if err != nil {
						return err
					}
					return printJSON(g.env.stdout, struct {
						ID pack.ID `json:"id"`
						*repo.Snapshot
					}{sn.ID, sn})
				case "index":
					id, err := r.FindID(ctx, backend.IndexFile, ref)
					if err != nil {
						return err
					}
					plain, err := r.LoadFile(ctx, backend.IndexFile, id)
					if err != nil {
						return err
					}
					f, err := index.Decode(plain)
					if err != nil {
						return fmt.Errorf("index file %s: %w", id, err)
					}
					return printJSON(g.env.stdout, f)
				case "pack-header":
					id, err := r.FindID(ctx, backend.PackFile, ref)
					if err != nil {
						return err
					}
					blobs, err := r.ReadPackHeader(c.Context, id, -1, repo.PackHeaderOptions{})
					if err != nil {
						return err
					}
					return printJSON(g.env.stdout, blobs)
				case "key":
					name, err := findKey(c, r, ref)
					if err != nil {
						return err
					}
					data, err := r.LoadWhole(ctx, backend.Handle{Type: backend.KeyFile, Name: name})
					if err != nil {
						return err
					}
					_, err = g.env.stdout.Write(append(data, '\n'))
					return err
				case "tree", "blob":
					id, err := r.FindBlob(ref)
					if err != nil {
						return err
					}
					b, err := r.LoadBlob(ctx, id)
					if err != nil {
						return err
					}
					if what == "tree" && repo.IsPage(b) {
						pg, err := repo.DecodePage(b)
						if err != nil {
							return err
						}
						return printJSON(g.env.stdout, pageJSON(pg))
					}
					if what == "tree" {
						t, err := repo.DecodeTree(b)
						if err != nil {
							return err
						}
						return printJSON(g.env.stdout, t)
					}
					_, err = g.env.stdout.Write(b)
					return err
				default:
					return fmt.Errorf("cannot cat %q: want config, snapshot, index, pack-header, key, tree or blob", what)
				}
			})
		},
	}
}

// pageJSONEntry is one entry of a page as `cat tree` prints it.
type pageJSONEntry struct {
	ID       pack.ID `json:"id"`
	FirstKey string  `json:"first_key"`
	Rows     uint64  `json:"rows"`
	Bytes    uint64  `json:"bytes"`
	Chunks   uint64  `json:"chunks"`
}

// pageJSON is a page of a table's chunk list (docs/design.md, "Table
// pages") as `cat tree` prints it: its level (0 for a leaf) and entries.
func pageJSON(pg *repo.Page) any {
	entries := make([]pageJSONEntry, len(pg.Entries))
	for i, e := range pg.Entries {
		entries[i] = pageJSONEntry(e)
	}
	return struct {
		Level   int             `json:"level"`
		Entries []pageJSONEntry `json:"entries"`
	}{pg.Level, entries}
}
