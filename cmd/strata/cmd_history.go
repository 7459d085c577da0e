package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"strata/dbexport"
	"strata/dbexport/history"
	"strata/internal/progress"
	"strata/repo"
)

func cmdHistory(g *globals) *cli.Command {
	var key, since, until, source, host, format string
	var asJSON bool
	return &cli.Command{
		Name:      "history",
		Usage:     "every version of one table row across the snapshots of its database",
		ArgsUsage: "TABLE --key KEY",
		Description: `Follows the row of TABLE whose primary key is KEY through the snapshots
of one database, oldest first, and lists each version that differs from
the one before: present (in the first snapshot read), inserted (again,
after a delete), updated (each changed column, old -> new) or deleted,
with the snapshot's time and ID.

KEY is the key's fields in key order separated by commas (42, or 7,3 for
a key (customer_id, seq)); a field holding a comma or a quote is written
in double quotes, quotes doubled. A table without a primary key is
refused, and so is a SQLite table that declares none (its rowid, which
VACUUM renumbers, does not name a row over time). The database is the only one the
repository holds, or --source (and --host) as for restore --at: of a
SQLite file or localhost server saved on several machines, this
machine's snapshots (or --host's), with a note on stderr when another
host holds a newer snapshot of it.
--since and --until bound the snapshots by time (both included).

Values show as diff shows them: NULL, numbers bare, text in double
quotes (Go's escapes for control characters); a SQLite value shows its
own storage class (3, 3.0 and "3" differ; a BLOB is x'00ff'). --format jsonl (or --json)
prints one object per version: {"table","op","key","old","new",
"snapshot","time"} with op present, insert, update or delete, and
old/new the changed columns (all columns for present, insert and
delete).

Per snapshot it reads the table's chunk list on the way to the key and
at most the one chunk that holds the key, and skips snapshots whose
chunk for the key is the previous one's; -v says how much it read. A
table whose key is not only integers is read whole in each snapshot
where it changed (strata does not know the database's collation).
A key that no snapshot holds exits 1, saying so.

` + exitCodesHelp,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "key", Usage: "the row's primary key `KEY` (fields separated by commas)", Destination: &key},
			&cli.StringFlag{Name: "since", Usage: "only snapshots at or after `TIME`", Destination: &since},
			&cli.StringFlag{Name: "until", Usage: "only snapshots at or before `TIME`", Destination: &until},
			&cli.StringFlag{Name: "source", Usage: "the database `DSN` whose snapshots are read (any spelling; a password is ignored)", Destination: &source},
			&cli.StringFlag{Name: "host", Usage: "only snapshots from `HOST`", Destination: &host},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "`text` or jsonl", Destination: &format},
			&cli.BoolFlag{Name: "json", Usage: "the same as --format jsonl", Destination: &asJSON},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return errors.New("give one table: strata history TABLE --key KEY")
			}
			if key == "" {
				return errors.New("give the row's primary key: strata history TABLE --key KEY (fields separated by commas)")
			}
			if asJSON {
				format = "jsonl"
			}
			if format != "text" && format != "jsonl" {
				return fmt.Errorf("unknown --format %q: want text or jsonl", format)
			}
			fields, err := dbexport.ParseKey(key)
			if err != nil {
				return fmt.Errorf("--key: %w", err)
			}
			req := history.Request{Table: c.Args().First(), Key: fields}
			if since != "" {
				if req.Since, err = parseTime("--since", since); err != nil {
					return err
				}
			}
			if until != "" {
				if req.Until, err = parseTime("--until", until); err != nil {
					return err
				}
				if req.Until.Nanosecond() == 0 {
					req.Until = req.Until.Add(time.Second - time.Nanosecond) // the whole second, as --at
				}
			}
			return g.withReader(c.Context, "history", func(r *repo.Repository) error {
				sns, err := dbexport.SourceSnapshots(c.Context, r, snapshotRequest("latest", host, source))
				if err != nil {
					return err
				}
				if len(sns) > 0 {
					g.noteNewerElsewhere(c.Context, r, sns[len(sns)-1], req.Until)
				}
				start := time.Now()
				rep, err := history.Row(c.Context, r, sns, req)
				if err != nil {
					return err
				}
				w := bufio.NewWriter(g.env.stdout)
				if format == "jsonl" {
					err = printHistoryJSON(w, rep)
				} else {
					err = printHistory(w, rep, dbexport.SourceName(rep.First))
				}
				if err != nil {
					return err
				}
				if err := w.Flush(); err != nil {
					return err
				}
				g.verbosef(1, "%s in the window, %d read, %d skipped (their tree, chunk list or chunk for the key was the previous one's); %s read; %s (%d bytes) from the repository in %.2fs\n",
					counted(rep.Snapshots, "snapshot"), rep.SnapshotsRead, rep.Skipped, counted(rep.ChunksRead, "chunk"),
					progress.Bytes(uint64(r.PackBytesRead())), r.PackBytesRead(), time.Since(start).Seconds())
				if !rep.KeyOrdered {
					g.verbosef(1, "the key of table %s is not only integers, whose order strata knows: each changed snapshot's table was read whole\n", rep.Table)
				}
				return nil
			})
		},
	}
}

// printHistory writes the history as text: a heading, then per event its
// time, snapshot and what happened, and below it the columns.
func printHistory(w io.Writer, rep *history.Report, source string) error {
	fmt.Fprintf(w, "%s %s: %s of %s from %s to %s\n", rep.Table, history.KeyString(rep.KeyColumns, rep.Key),
		counted(rep.Snapshots, "snapshot"), source, showTime(rep.First.Time), showTime(rep.Last.Time))
	for _, e := range rep.Events {
		what := map[history.Op]string{history.OpPresent: "present", history.OpInsert: "inserted",
			history.OpUpdate: "updated", history.OpDelete: "deleted"}[e.Op]
		if e.Again {
			what += " again"
		}
		if e.Note != "" {
			what += " (" + e.Note + ")"
		}
		fmt.Fprintf(w, "\n%s  snapshot %s  %s\n", showTime(e.Snapshot.Time), e.Snapshot.ID.Short(), what)
		if e.Op == history.OpDelete {
			continue // the last version is shown above
		}
		width := 0
		for _, c := range e.Columns {
			width = max(width, len(c.Name))
		}
		for _, c := range e.Columns {
			switch {
			case e.Op != history.OpUpdate:
				fmt.Fprintf(w, "    %-*s  %s\n", width, c.Name, showValue(c.New.Field, c.New.Column, c.New.Typed))
			case c.Old == nil:
				fmt.Fprintf(w, "    %-*s  (new column) -> %s\n", width, c.Name, showValue(c.New.Field, c.New.Column, c.New.Typed))
			case c.New == nil:
				fmt.Fprintf(w, "    %-*s  %s -> (column dropped)\n", width, c.Name, showValue(c.Old.Field, c.Old.Column, c.Old.Typed))
			default:
				fmt.Fprintf(w, "    %-*s  %s -> %s\n", width, c.Name, showValue(c.Old.Field, c.Old.Column, c.Old.Typed), showValue(c.New.Field, c.New.Column, c.New.Typed))
			}
		}
	}
	_, err := fmt.Fprintf(w, "\n%s\n", counted(len(rep.Events), "version"))
	return err
}

// printHistoryJSON writes one JSON object per event, columns in table
// order.
func printHistoryJSON(w io.Writer, rep *history.Report) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	var key dbexport.OrderedJSON
	for i, k := range rep.Key {
		var v any = k
		if n, ok := new(big.Int).SetString(k, 10); ok {
			v = json.Number(n.String())
		}
		key = append(key, dbexport.JSONField{Name: rep.KeyColumns[i], Value: v})
	}
	for _, e := range rep.Events {
		obj := dbexport.OrderedJSON{{Name: "table", Value: rep.Table}, {Name: "op", Value: string(e.Op)}, {Name: "key", Value: key}}
		var old, cur dbexport.OrderedJSON
		for _, c := range e.Columns {
			if c.Old != nil {
				old = append(old, dbexport.JSONField{Name: c.Name, Value: c.Old.JSON})
			}
			if c.New != nil {
				cur = append(cur, dbexport.JSONField{Name: c.Name, Value: c.New.JSON})
			}
		}
		if old != nil {
			obj = append(obj, dbexport.JSONField{Name: "old", Value: old})
		}
		if cur != nil {
			obj = append(obj, dbexport.JSONField{Name: "new", Value: cur})
		}
		obj = append(obj, dbexport.JSONField{Name: "snapshot", Value: e.Snapshot.ID.String()}, dbexport.JSONField{Name: "time", Value: e.Snapshot.Time.Format(time.RFC3339)})
		if e.Again {
			obj = append(obj, dbexport.JSONField{Name: "again", Value: true})
		}
		if e.Note != "" {
			obj = append(obj, dbexport.JSONField{Name: "note", Value: e.Note})
		}
		if err := enc.Encode(obj); err != nil {
			return fmt.Errorf("table %s key %s, snapshot %s: %w", rep.Table, strings.Join(rep.Key, ","), e.Snapshot.ID.Short(), err)
		}
	}
	return nil
}
