package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/urfave/cli/v2"

	"strata/mount"
)

func cmdMount(g *globals) *cli.Command {
	var refresh time.Duration
	var debug bool
	var measureMax string
	return &cli.Command{
		Name:      "mount",
		Usage:     "show the snapshots as a read-only file system (FUSE)",
		ArgsUsage: "DIR",
		Description: `Mounts the repository's snapshots at DIR, read-only, and serves them until
Ctrl-C (SIGINT or SIGTERM, which unmount) or fusermount3 -u DIR. DIR holds
five views, each with a latest link to its newest snapshot:

  snapshots/<time>/          every snapshot, by its time in UTC without
                             colons (2025-06-02T03-00-00Z; with its short
                             ID appended when another has the same second)
  tiers/<tier>/<time>/       by tier (hourly, daily, ...)
  tags/<tag>/<time>/         by tag (a snapshot under each of its tags)
  hosts/<host>/<time>/       by host
  ids/<short id>/            by short ID

A database snapshot holds a folder per table: TABLE.tsv (the COPY text),
TABLE.csv and TABLE.jsonl (as strata dump --format writes them),
schema.sql (the table's CREATE TABLE, indexes and constraints) and
meta.json (rows, key, columns, snapshot, source). A .tsv of a PostgreSQL
or MySQL table has its size at once and reads at any offset load only
the chunks there; .csv, .jsonl and a SQLite table's .tsv are converted
as they are read. Those of a table stored in at most --measure-max bytes
(16MiB) show their exact size from the first look (ls -l, stat, a copy),
which converts the table once to count its bytes; larger ones show a size
of 0 at the first look, which has the mount count them in the background
(one at a time): a later look shows the exact size (cat, cp, grep and wc
read them whole whatever the size says; tar and SMB clients copy only
the bytes the size says). --measure-max 0 measures none. Snapshots of files and streams hold their files.

New snapshots appear, and forgotten ones disappear, within --refresh.
The mount holds no lock while it serves: it takes a shared lock only
while it loads the index again (when a backup or prune changed it), so
it never keeps prune waiting. A read of data that a prune removed fails
with an I/O error, and the reason is written to stderr.

Needs /dev/fuse and fusermount3 (Debian: apt-get install fuse3).

Exit codes: 0 unmounted, 1 error, 10 no repository, 12 wrong password.`,
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "refresh", Value: 5 * time.Second, Usage: "list the snapshots again when a view is read after `DURATION`", Destination: &refresh},
			&cli.StringFlag{Name: "measure-max", Value: "16MiB", Usage: "converted files (.csv, .jsonl) of tables stored in at most `SIZE` show their exact size at once, larger ones after the mount counted them in the background; 0: none", Destination: &measureMax},
			&cli.BoolFlag{Name: "debug-fuse", Usage: "log every FUSE request to stderr", Destination: &debug},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("give the folder to mount at: strata mount DIR")
			}
			dir := c.Args().First()
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return fmt.Errorf("mount point %s is not a folder: create it first (mkdir -p %s)", dir, dir)
			}
			if refresh <= 0 {
				return fmt.Errorf("--refresh %v: want a duration above 0, such as 5s", refresh)
			}
			measure, err := parseSize(measureMax)
			if err != nil {
				return fmt.Errorf("--measure-max: %w", err)
			}
			if measure == 0 {
				measure = -1 // mount.Options: none
			}
			if _, err := os.Stat("/dev/fuse"); err != nil {
				return fmt.Errorf("strata mount needs FUSE, and /dev/fuse is missing: %w", err)
			}
			r, err := g.openRepo(c.Context)
			if err != nil {
				return err
			}
			logf := func(format string, args ...any) {
				fmt.Fprintf(g.env.stderr, "strata mount: "+format+"\n", args...)
			}
			server, err := mount.Mount(c.Context, r, dir, mount.Options{
				Refresh: refresh, NoLock: g.noLock, Logf: logf, Debug: debug, MeasureMax: measure,
			})
			if err != nil {
				return err
			}
			g.printf("serving the snapshots at %s (read-only); Ctrl-C or fusermount3 -u %s unmounts\n", dir, dir)
			done := make(chan struct{})
			go func() {
				server.Wait()
				close(done)
			}()
			select {
			case <-done:
				return nil // unmounted from outside (fusermount3 -u)
			case <-c.Context.Done():
			}
			return unmount(g, server.Unmount, dir, done)
		},
	}
}

// unmount unmounts dir after a signal. While a process still has a file
// or folder of the mount open, the kernel refuses: strata says so and
// detaches the mount lazily (fusermount3 -u -z), so it goes away once
// they close.
func unmount(g *globals, serverUnmount func() error, dir string, done chan struct{}) error {
	err := serverUnmount()
	if err != nil {
		fmt.Fprintf(g.env.stderr, "strata mount: %s is busy (%v): detaching it; it goes away when the last file in it is closed\n", dir, err)
		out, lerr := exec.Command("fusermount3", "-u", "-z", dir).CombinedOutput()
		if lerr != nil {
			return errors.Join(err, fmt.Errorf("fusermount3 -u -z %s: %v %s", dir, lerr, out))
		}
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	g.printf("unmounted %s\n", dir)
	return nil
}
