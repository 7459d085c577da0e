package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"strata/repo"
	"strata/repo/backend"
)

func cmdTag(g *globals) *cli.Command {
	var (
		add, remove, set cli.StringSlice
		asJSON           bool
	)
	return &cli.Command{
		Name:      "tag",
		Usage:     "change the tags of snapshots",
		ArgsUsage: "SNAPSHOT...",
		Description: `Changes the tags of each SNAPSHOT ("latest", "latest~N" for the Nth before it, an ID or a unique ID prefix):
--set replaces them all (--set "" removes every tag), then --remove and
--add apply. Snapshot files are written once and named by their content,
so, as restic does, strata writes a new snapshot with the new tags (its
"original" field names the snapshot it replaces), moves the protections
to it and then removes the old snapshot; the new ID is printed. A crash
midway leaves the old snapshot, the new one or both, never neither.

` + exitCodesHelp,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "add", Usage: "add `TAG` (repeatable; a,b adds two)", Destination: &add},
			&cli.StringSliceFlag{Name: "remove", Usage: "remove `TAG` (repeatable)", Destination: &remove},
			&cli.StringSliceFlag{Name: "set", Usage: "replace all tags with `TAG` (repeatable; \"\" for none)", Destination: &set},
			&cli.BoolFlag{Name: "json", Usage: "print old and new IDs as JSON", Destination: &asJSON},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return errors.New("give the snapshots to tag: strata tag --add TAG SNAPSHOT...")
			}
			change := repo.TagChange{Add: add.Value(), Remove: remove.Value(), SetGiven: c.IsSet("set")}
			for _, t := range set.Value() {
				if t != "" {
					change.Set = append(change.Set, t)
				}
			}
			if !change.SetGiven && len(change.Add) == 0 && len(change.Remove) == 0 {
				return errors.New("give --add, --remove or --set")
			}
			for _, t := range append(append([]string{}, change.Add...), change.Set...) {
				if t == "" || strings.ContainsAny(t, ",\n\r\x00") {
					return fmt.Errorf("invalid tag %q: a tag is not empty and holds no line break", t)
				}
			}
			type result struct {
				Old  string   `json:"old_id"`
				New  string   `json:"new_id"` // the same as old_id when the tags did not change
				Tags []string `json:"tags"`
			}
			results := []result{}
			err := g.withLock(c.Context, true, "tag", func(r *repo.Repository) error {
				for _, ref := range c.Args().Slice() {
					sn, err := r.FindSnapshot(c.Context, ref)
					if err != nil {
						return err
					}
					// Retagging writes a new snapshot and removes this one,
					// which an object lock would refuse, leaving both.
					h := backend.Handle{Type: backend.SnapshotFile, Name: sn.ID.String()}
					locked, err := r.LockedFiles(c.Context, []backend.Handle{h})
					if err != nil {
						return err
					}
					if st, ok := locked[h]; ok {
						return fmt.Errorf("snapshot %s is under object lock (%v): tag writes a new snapshot and removes this one, which the lock refuses, so its tags cannot change until then: %w",
							sn.ID.Short(), st, backend.ErrLocked)
					}
					nsn, err := r.Retag(c.Context, sn, change)
					if err != nil {
						return err
					}
					tags := nsn.Tags
					if tags == nil {
						tags = []string{}
					}
					results = append(results, result{sn.ID.String(), nsn.ID.String(), tags})
					switch {
					case asJSON:
					case nsn.ID == sn.ID:
						g.printf("snapshot %s: tags unchanged (%s)\n", sn.ID.Short(), tagList(tags))
					default:
						fmt.Fprintf(g.env.stdout, "snapshot %s is now %s, tags %s\n", sn.ID.Short(), nsn.ID.Short(), tagList(tags))
					}
				}
				return nil
			})
			if asJSON {
				if jerr := printJSON(g.env.stdout, results); jerr != nil && err == nil {
					err = jerr
				}
			}
			return err
		},
	}
}

// tagList is tags as the user gives them, comma-separated, or "none".
func tagList(tags []string) string {
	if len(tags) == 0 {
		return "none"
	}
	return strings.Join(tags, ",")
}
