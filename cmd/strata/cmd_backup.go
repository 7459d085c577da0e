package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"strata/internal/progress"
	"strata/repo"
	"strata/repo/archive"
)

// timeLayout is how --time and --at are written.
const timeLayout = "2006-01-02 15:04:05"

func cmdBackup(g *globals) *cli.Command {
	var (
		stdin      bool
		stdinName  string
		tags       cli.StringSlice
		tier, host string
		at         string
		force      bool
		asJSON     bool
	)
	return &cli.Command{
		Name:      "backup",
		Usage:     "save files, folders or standard input in a new snapshot",
		ArgsUsage: "PATH...",
		Description: `Saves PATHs (or standard input with --stdin) in a new snapshot. Files whose
size, modification time and inode match the previous snapshot of the same
paths from this host are not read again unless --force is given.

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "stdin", Usage: "read the data to save from standard input", Destination: &stdin},
			&cli.StringFlag{Name: "stdin-name", Usage: "file name for data read from standard input", Value: "stdin", Destination: &stdinName},
			&cli.StringSliceFlag{Name: "tag", Usage: "add `TAG` to the snapshot (repeatable)", Destination: &tags},
			&cli.StringFlag{Name: "tier", Usage: "retention tier of the snapshot (hourly, daily, weekly, monthly, ...)", Destination: &tier},
			&cli.StringFlag{Name: "host", Usage: "host name to record (default: this machine)", Destination: &host},
			&cli.StringFlag{Name: "time", Usage: `snapshot time "YYYY-MM-DD HH:MM:SS" in local time (default: now)`, Destination: &at},
			&cli.BoolFlag{Name: "force", Usage: "read every file, even unchanged ones", Destination: &force},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON", Destination: &asJSON},
		},
		Action: func(c *cli.Context) error {
			if stdin && c.NArg() > 0 {
				return errors.New("give either --stdin or paths, not both")
			}
			if !stdin && c.NArg() == 0 {
				return errors.New("nothing to back up: give paths or --stdin")
			}
			opts := archive.Options{Host: host, Tags: tags.Value(), Tier: tier, Force: force, Program: "strata " + version, Notify: g.notice, Counters: &archive.Counters{}}
			if at != "" {
				t, err := time.ParseInLocation(timeLayout, at, time.Local)
				if err != nil {
					return fmt.Errorf(`invalid --time %q: want "YYYY-MM-DD HH:MM:SS"`, at)
				}
				opts.Time = t
			}
			return g.withLock(c.Context, false, "backup", func(r *repo.Repository) error {
				opts = withDefaultHost(opts)
				sns, err := r.Snapshots(c.Context)
				if err != nil {
					return err
				}
				source := archive.StreamSource(stdinName)
				if !stdin {
					abs, err := absPaths(c.Args().Slice())
					if err != nil {
						return err
					}
					source = archive.FilesSource(abs)
				}
				opts.Parent = archive.FindParent(sns, opts.Host, source)
				bar := progress.Start(g.env.stderr, g.showProgress(), "backup", func() (uint64, uint64, string) {
					return opts.Counters.BytesRead.Load(), 0, fmt.Sprintf("%d files", opts.Counters.Files.Load())
				})
				var sn *repo.Snapshot
				if stdin {
					sn, err = archive.BackupStream(c.Context, r, g.env.stdin, stdinName, opts)
				} else {
					sn, err = archive.BackupPaths(c.Context, r, c.Args().Slice(), opts)
				}
				bar.Stop()
				if err != nil {
					return err
				}
				return printBackupSummary(g, sn, asJSON)
			})
		},
	}
}

func printBackupSummary(g *globals, sn *repo.Snapshot, asJSON bool) error {
	s := sn.Summary
	if asJSON {
		enc := json.NewEncoder(g.env.stdout)
		return enc.Encode(struct {
			ID       string       `json:"id"`
			Parent   *string      `json:"parent,omitempty"`
			Summary  repo.Summary `json:"summary"`
			Snapshot snapshotJSON `json:"snapshot"`
		}{sn.ID.String(), parentString(sn), s, toSnapshotJSON(sn)})
	}
	if g.quiet {
		return nil
	}
	w := g.env.stdout
	if sn.Parent != nil {
		fmt.Fprintf(w, "using parent snapshot %s\n", sn.Parent.Short())
	}
	fmt.Fprintf(w, "Files:  %d new, %d changed, %d unmodified\n", s.FilesNew, s.FilesChanged, s.FilesUnchanged)
	fmt.Fprintf(w, "Added to the repository: %s in %d blobs\n", progress.Bytes(s.BytesAdded), s.BlobsAdded)
	fmt.Fprintf(w, "processed %s in %s\n", progress.Bytes(s.BytesRead), progress.Duration(time.Duration(s.Seconds*float64(time.Second))))
	fmt.Fprintf(w, "snapshot %s saved\n", sn.ID.Short())
	return nil
}

func parentString(sn *repo.Snapshot) *string {
	if sn.Parent == nil {
		return nil
	}
	s := sn.Parent.String()
	return &s
}
