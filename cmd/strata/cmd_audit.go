package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"strata/repo/audit"
	"strata/verify"
)

func cmdAudit(g *globals) *cli.Command {
	var (
		since    string
		commands cli.StringSlice
		asJSON   bool
	)
	return &cli.Command{
		Name:  "audit",
		Usage: "list the audit trail: every command that changed the repository or restored from it",
		Description: `Lists the repository's audit records, oldest first: when each command
started, on which host, as which user, its result, the snapshots it
touched, and its command line with every secret masked. Every command that
writes to the repository records itself (init, backup, guard, forget,
prune, repair, tag, protect, unprotect, key add/remove/passwd, copy, policy
set/reset), as do restore, dump, mount, verify drill, check and unlock;
dry runs do not. A record that cannot be written is a warning and leaves
the command's exit code as it was. Records are sealed with the repository's
key, never removed by strata (not by forget, prune or repair), and not
copied by copy. strata check verifies them (docs/design.md, "The audit
trail"). What check reports of the trail itself is named on stderr and
makes the exit code 1 (with --json too, after the listing): a damaged
record (left out of the list), a removed one (named by its successor, or
a sequence number without a record), and the loss of the newest record
this client wrote or saw (its anchor, kept in
$XDG_STATE_HOME/strata/audit-anchors).

` + exitCodesHelp,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "since", Usage: "only commands started at or after `TIME` (\"YYYY-MM-DD HH:MM[:SS]\", RFC 3339, or a duration back from now such as 24h)", Destination: &since},
			&cli.StringSliceFlag{Name: "command", Usage: "only records of `COMMAND` (repeatable; \"backup\", \"verify drill\")", Destination: &commands},
			&cli.BoolFlag{Name: "json", Usage: "print the records as a JSON array", Destination: &asJSON},
		},
		Action: func(c *cli.Context) error {
			f := audit.Filter{Commands: commands.Value()}
			if since != "" {
				t, err := parseSince(since)
				if err != nil {
					return err
				}
				f.Since = t
			}
			// Audit records are never removed: listing them needs no lock.
			r, err := g.openRepo(c.Context)
			if err != nil {
				return err
			}
			// The whole trail is verified as check verifies it, so that
			// audit warns of what check reports of the trail itself.
			recs, v, err := audit.New(r.Backend(), r.Key()).ListVerified(c.Context, f)
			if err != nil {
				return err
			}
			findings := verify.AuditTrailFindings(v, g.auditAnchor(r))
			if asJSON {
				out := make([]auditRecordJSON, 0, len(recs))
				for _, rec := range recs {
					out = append(out, auditRecordJSON{Name: rec.Name, Record: rec})
				}
				if err := printJSON(g.env.stdout, out); err != nil {
					return err
				}
			} else if err := printAudit(g, recs); err != nil {
				return err
			}
			for _, fd := range findings {
				fmt.Fprintf(g.env.stderr, "warning: %v\n", fd)
			}
			if len(findings) > 0 {
				return fmt.Errorf("the audit trail is damaged (%s, above; a damaged record is left out of the list): strata check reports it",
					counted(len(findings), "warning"))
			}
			return nil
		},
	}
}

// auditRecordJSON is one record of `audit --json`: its file name and its
// fields as stored.
type auditRecordJSON struct {
	Name string `json:"name"`
	*audit.Record
}

// parseSince parses --since: a time, or a duration back from now.
func parseSince(s string) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("--since %s: give a duration back from now, such as 24h", s)
		}
		return time.Now().Add(-d), nil
	}
	t, err := parseTime("--since", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w, or a duration back from now, such as 24h", err)
	}
	return t, nil
}

func printAudit(g *globals, recs []*audit.Record) error {
	t := newTable(g.env.stdout, "Time", "Host", "User", "Result", "Snapshots", "Command line")
	for _, rec := range recs {
		result := "ok"
		if !rec.Result.OK {
			result = fmt.Sprintf("exit %d", rec.Result.ExitCode)
		}
		t.row(showTime(rec.Time), rec.Host, rec.User, result, shortIDs(rec), "strata "+strings.Join(rec.Args, " "))
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, rec := range recs {
		if !rec.Result.OK {
			fmt.Fprintf(g.env.stdout, "%s %s: %s\n", showTime(rec.Time), rec.Command, rec.Result.Error)
		}
	}
	g.printf("%s\n", counted(len(recs), "audit record"))
	return nil
}

// shortIDs is the snapshots column: the first snapshot's short ID and how
// many more.
func shortIDs(rec *audit.Record) string {
	n := len(rec.Snapshots) + rec.SnapshotsOmitted
	switch n {
	case 0:
		return "-"
	case 1:
		return rec.Snapshots[0].Short()
	}
	return fmt.Sprintf("%s +%d", rec.Snapshots[0].Short(), n-1)
}
