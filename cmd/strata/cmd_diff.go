package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"strata/dbexport"
	"strata/repo"
	"strata/snapdiff"
)

// diffFlags are the options of strata diff.
// pickedSnapshot is a side of a diff chosen by latest or a time (at).
type pickedSnapshot struct {
	sn *repo.Snapshot
	at time.Time
}

type diffFlags struct {
	picked           []pickedSnapshot // the sides chosen by latest or a time
	format, engine   string
	stat, asJSON     bool
	fromAt, toAt     string
	host, source     string
	tables, exclude  cli.StringSlice
	columns          cli.StringSlice
	keyRange         string
	limit            int
	fromTime, toTime time.Time
	keyRangeParsed   dbexport.KeyRange
}

func cmdDiff(g *globals) *cli.Command {
	var f diffFlags
	return &cli.Command{
		Name:      "diff",
		Usage:     "show what changed between two snapshots: rows of tables, or files",
		ArgsUsage: "[A [B]]",
		Description: `Compares snapshot A with the later snapshot B. Each is an ID, a unique ID
prefix, "latest" or "latest~N" (the Nth snapshot before latest, as git's
HEAD~N); --from-at TIME and --to-at TIME ("YYYY-MM-DD
HH:MM[:SS]" in local time, or RFC 3339) pick the newest snapshot at or
before TIME instead, as restore --at does. B left out is latest. latest
and the times choose among the snapshots of one source: that of the
snapshot given by ID, else --source, else the only database the
repository holds; of a SQLite file or localhost server saved on several
machines, this machine's (or --host's), as restore chooses, with a note
on stderr when another host holds a newer snapshot of it. A diff of a
snapshot with itself, or of a later A with an earlier B (it runs
backwards), says so on stderr.

For two table snapshots the rows are compared by primary key (a table
without one: by whole row; a SQLite table that declares none too, not by
its rowid, which VACUUM renumbers). Only the chunks that differ are read:
chunks both snapshots share are passed over, and --stat says how many
bytes were read.
  --stat (the default) per table: rows added, deleted, modified, cells
    modified, rows before and after, and what changed in the table's
    definition (columns, types, constraints, indexes); sequence and
    auto-increment positions that moved are named on their own line.
  --format text: per changed row its key and, for an update, each changed
    column as old -> new (in colour on a terminal, unless NO_COLOR is set).
  --format jsonl: one object per change:
    {"table","op":"insert|update|delete","key":{...},"old":{...},"new":{...}}
    where old and new hold the changed columns (an insert: new holds the
    row; a delete: old does).
  --format sql [--engine postgres|mysql|sqlite]: one transaction, in the
    dialect of the snapshots' engine, that turns a database restored from
    A into B: the deletes, referencing tables first; then per table,
    tables referenced by foreign keys first, the updates of the changed
    columns only and the inserts in batches. Rows that swap a unique
    value are deleted and inserted instead. Foreign keys do not act
    while it runs (an ON DELETE CASCADE would remove rows B keeps):
    MySQL and SQLite turn them off for the script, PostgreSQL drops
    those that could act and adds them back, validated, before COMMIT
    (as the tables' owner). Tables added, dropped or whose columns
    changed are refused (leave them out with --exclude-tables).
    Triggers of the target fire as for any SQL.
--tables and --exclude-tables pick tables by glob; --key-range FROM..TO
keeps the keys in that range (both ends included, either may be left
out; a key of several columns: a,b..c,d; a table without a primary key
is not compared, and said so); --columns keeps the updates of
those columns; --limit N stops after N changes.

For two file snapshots each path that differs is listed as restic diff
lists it: + added, - removed, M content modified, T type changed, U
metadata (mode, time, symlink target) changed; then the counts and the
stored bytes of the data blobs only B (added) or only A (removed)
references. Folders both snapshots share are not read. --json writes
restic's JSON lines (message_type change, then statistics).

Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password, 130 interrupted.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "stat", Usage: "per table counts and schema changes (the default)", Destination: &f.stat},
			&cli.StringFlag{Name: "format", Usage: "list each change as `text`, jsonl or sql", Destination: &f.format},
			&cli.StringFlag{Name: "engine", Usage: "--format sql: the dialect, `postgres`, mysql or sqlite (default: the snapshots' engine)", Destination: &f.engine},
			&cli.StringFlag{Name: "from-at", Usage: "A is the newest snapshot at or before `TIME`", Destination: &f.fromAt},
			&cli.StringFlag{Name: "to-at", Usage: "B is the newest snapshot at or before `TIME`", Destination: &f.toAt},
			&cli.StringFlag{Name: "source", Usage: "latest and times: snapshots of the database `DSN` (any spelling; a password is ignored), or of a recorded source such as files:/srv", Destination: &f.source},
			&cli.StringFlag{Name: "host", Usage: "latest and times: only snapshots from `HOST`", Destination: &f.host},
			&cli.StringSliceFlag{Name: "tables", Usage: "only tables matching `GLOB` (repeatable)", Destination: &f.tables},
			&cli.StringSliceFlag{Name: "exclude-tables", Usage: "leave out tables matching `GLOB`", Destination: &f.exclude},
			&cli.StringFlag{Name: "key-range", Usage: "only rows whose key is in `FROM..TO` (either end may be left out)", Destination: &f.keyRange},
			&cli.StringSliceFlag{Name: "columns", Usage: "only updates of these `COLUMNS` (repeatable or comma-separated)", Destination: &f.columns},
			&cli.IntFlag{Name: "limit", Usage: "stop after `N` changes", Destination: &f.limit},
			&cli.BoolFlag{Name: "json", Usage: "print the --stat report as JSON (file snapshots: JSON lines)", Destination: &f.asJSON},
		},
		Action: func(c *cli.Context) error {
			if err := f.check(c); err != nil {
				return err
			}
			return g.withReader(c.Context, "diff", func(r *repo.Repository) error {
				a, b, err := f.snapshots(c.Context, r, c.Args().Slice())
				if err != nil {
					return err
				}
				g.warnRepaired(a, f.asJSON)
				g.warnRepaired(b, f.asJSON)
				for _, p := range f.picked {
					g.noteNewerElsewhere(c.Context, r, p.sn, p.at)
				}
				switch {
				case a.ID == b.ID:
					fmt.Fprintf(g.env.stderr, "note: A and B are the same snapshot, %s (%s): nothing can differ\n", a.ID.Short(), showTime(a.Time))
				case a.Time.After(b.Time):
					fmt.Fprintf(g.env.stderr, "note: A (%s, %s) is newer than B (%s, %s): the diff runs backwards, from the later snapshot to the earlier\n",
						a.ID.Short(), showTime(a.Time), b.ID.Short(), showTime(b.Time))
				}
				if _, ok := dbexport.SnapshotSource(a); !ok {
					if _, ok := dbexport.SnapshotSource(b); ok {
						return fmt.Errorf("snapshot %s holds files and %s tables: a diff compares two snapshots of one kind", a.ID.Short(), b.ID.Short())
					}
					return diffFiles(c.Context, g, r, a, b, f)
				}
				if _, ok := dbexport.SnapshotSource(b); !ok {
					return fmt.Errorf("snapshot %s holds tables and %s files: a diff compares two snapshots of one kind", a.ID.Short(), b.ID.Short())
				}
				if ka, kb := sourceKey(a), sourceKey(b); ka != kb {
					fmt.Fprintf(g.env.stderr, "note: A (%s) is a snapshot of %s and B (%s) of %s: this compares two different databases\n",
						a.ID.Short(), ka, b.ID.Short(), kb)
				}
				return diffTables(c.Context, g, r, a, b, f)
			})
		},
	}
}

// sourceKey is the database a table snapshot was taken of, in the
// spelling latest and --source resolve by.
func sourceKey(sn *repo.Snapshot) string {
	k, _ := dbexport.SnapshotSource(sn)
	return k
}

// check refuses flags that do not go together, before the repository is
// opened.
func (f *diffFlags) check(c *cli.Context) error {
	var err error
	if c.NArg() > 2 {
		return errors.New("give at most two snapshots: strata diff A B")
	}
	if f.fromAt != "" && c.NArg() == 2 {
		return errors.New("--from-at stands for A: give B only (strata diff --from-at TIME [B])")
	}
	if f.toAt != "" && c.NArg() == 2 {
		return errors.New("--to-at stands for B: give A only (strata diff A --to-at TIME)")
	}
	if f.fromAt == "" && c.NArg() == 0 {
		return errors.New("give the snapshots to compare: strata diff A B (or --from-at TIME)")
	}
	if f.fromTime, err = parseTimeFlag("--from-at", f.fromAt); err != nil {
		return err
	}
	if f.toTime, err = parseTimeFlag("--to-at", f.toAt); err != nil {
		return err
	}
	switch f.format {
	case "":
		f.format = "stat"
	case "text", "jsonl", "sql":
	default:
		return fmt.Errorf("--format %q: want text, jsonl or sql", f.format)
	}
	if f.stat && f.format != "stat" {
		return fmt.Errorf("--stat and --format %s: give one", f.format)
	}
	if f.asJSON && f.format != "stat" {
		return fmt.Errorf("--json prints the --stat report; --format %s prints changes", f.format)
	}
	if f.engine != "" && f.format != "sql" {
		return errors.New("--engine goes with --format sql")
	}
	if f.limit < 0 {
		return fmt.Errorf("--limit %d: want 1 or more", f.limit)
	}
	if f.format == "sql" && (f.limit > 0 || len(f.columns.Value()) > 0) {
		return errors.New("--format sql turns A into B: --limit and --columns would leave changes out")
	}
	if f.format == "stat" && f.limit > 0 {
		return errors.New("--limit bounds the changes listed: give --format text or jsonl")
	}
	if f.keyRange != "" {
		if f.keyRangeParsed, err = dbexport.ParseKeyRange(f.keyRange); err != nil {
			return err
		}
	}
	return nil
}

// parseTimeFlag parses --from-at and --to-at as restore parses --at.
func parseTimeFlag(name, s string) (time.Time, error) {
	t, err := parseAt(s)
	if err != nil {
		return t, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

// snapshots resolves A and B. A snapshot given by ID is found first;
// latest and times are then resolved within its source (or within
// --source, or the only database), as restore resolves latest and --at.
func (f *diffFlags) snapshots(ctx context.Context, r *repo.Repository, args []string) (a, b *repo.Snapshot, err error) {
	refA, refB := "latest", "latest"
	switch {
	case f.fromAt != "":
		if len(args) > 0 {
			refB = args[0]
		}
	default:
		refA = args[0]
		if len(args) > 1 {
			refB = args[1]
		}
	}
	byID := func(ref string, at time.Time) bool { return at.IsZero() && !repo.IsLatest(ref) }
	if byID(refA, f.fromTime) {
		if a, err = r.FindSnapshot(ctx, refA); err != nil {
			return nil, nil, err
		}
	}
	if byID(refB, f.toTime) {
		if b, err = r.FindSnapshot(ctx, refB); err != nil {
			return nil, nil, err
		}
	}
	if a == nil {
		if a, err = f.pick(ctx, r, refA, f.fromTime, b); err != nil {
			return nil, nil, fmt.Errorf("A: %w", err)
		}
		f.picked = append(f.picked, pickedSnapshot{a, f.fromTime})
	}
	if b == nil {
		if b, err = f.pick(ctx, r, refB, f.toTime, a); err != nil {
			return nil, nil, fmt.Errorf("B: %w", err)
		}
		f.picked = append(f.picked, pickedSnapshot{b, f.toTime})
	}
	return a, b, nil
}

// pick resolves latest or a time within the source of other (when set),
// else of --source, else of the only database.
func (f *diffFlags) pick(ctx context.Context, r *repo.Repository, ref string, at time.Time, other *repo.Snapshot) (*repo.Snapshot, error) {
	req := snapshotRequest(ref, f.host, f.source)
	req.At = at
	tables := true
	if other != nil {
		req.Source = other.Source
		if k, ok := dbexport.SnapshotSource(other); ok {
			req.Source = k
		} else {
			tables = false
		}
	} else if f.source != "" {
		sns, err := r.Snapshots(ctx)
		if err != nil {
			return nil, err
		}
		tables = false
		for _, sn := range sns {
			if _, ok := dbexport.SnapshotSource(sn); ok && dbexport.MatchesSource(sn, f.source) {
				tables = true
			}
		}
	}
	if tables {
		return dbexport.PickSnapshot(ctx, r, req)
	}
	return pickSnapshot(ctx, r, req)
}

// diffTables prints the diff of two table snapshots.
func diffTables(ctx context.Context, g *globals, r *repo.Repository, a, b *repo.Snapshot, f diffFlags) error {
	w := bufio.NewWriterSize(g.env.stdout, 256<<10)
	opts := snapdiff.Options{
		Tables: f.tables.Value(), Exclude: f.exclude.Value(), KeyRange: f.keyRangeParsed,
		Columns: splitList(f.columns.Value()), Limit: f.limit, Rows: true,
	}
	var out changeWriter
	switch f.format {
	case "text":
		out = newTextChanges(w, g.colour())
	case "jsonl":
		out = newJSONChanges(w)
	case "sql":
		sw, err := newSQLChanges(w, f.engine, a)
		if err != nil {
			return err
		}
		defer sw.Close()
		opts.Order = sw.Order
		out = sw
	}
	if out != nil {
		opts.Emit = out.change
	}
	start, packBefore := time.Now(), r.PackBytesRead()
	rep, err := snapdiff.Tables(ctx, r, a.Tree, b.Tree, a.ID.Short(), b.ID.Short(), opts)
	if err != nil {
		return err
	}
	rep.PackBytesRead = uint64(r.PackBytesRead() - packBefore)
	for _, t := range rep.Tables {
		if t.NotInRange && out != nil {
			fmt.Fprintf(g.env.stderr, "table %s: not compared: it has no primary key for --key-range\n", t.Name)
		}
	}
	if out != nil {
		if err := out.finish(rep); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		g.verbosef(1, "%s\n", readSummary(rep, time.Since(start)))
		if rep.Limited {
			fmt.Fprintf(g.env.stderr, "stopped after %s (--limit)\n", counted(f.limit, "change"))
		}
		return nil
	}
	if f.asJSON {
		return printJSON(g.env.stdout, statJSON(a, b, rep, time.Since(start)))
	}
	if err := printStat(w, a, b, rep, time.Since(start)); err != nil {
		return err
	}
	return w.Flush()
}

// splitList splits comma-separated values of a repeatable flag.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}
