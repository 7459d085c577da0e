package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"strata/repo/prune"
	"strata/repo/retention"
	"strata/workflow"
)

// forgetJSON is the documented shape of `forget --json`.
type forgetJSON struct {
	PolicySource string            `json:"policy_source"` // flags, config, repository or none
	PolicySet    *time.Time        `json:"policy_set,omitempty"`
	Policy       retention.Policy  `json:"policy"`
	PolicyFlags  string            `json:"policy_flags"`
	Timezone     string            `json:"timezone"` // an IANA name, or "Local"
	DryRun       bool              `json:"dry_run"`
	Groups       []forgetGroupJSON `json:"groups"`
	Keep         int               `json:"keep"`
	Remove       int               `json:"remove"`
	// ProtectionsRemoved counts expired protect files removed with their
	// snapshots; always 0 in a dry run.
	ProtectionsRemoved int `json:"protections_removed"`
	// Locked lists the snapshot files forget was to remove but left
	// because of their object lock, with their dates; they are not
	// counted in Remove.
	Locked []prune.LockedFile `json:"locked,omitempty"`
	// Prune is prune's --json report, with --prune.
	Prune json.RawMessage `json:"prune,omitempty"`
}

type forgetGroupJSON struct {
	Key       string               `json:"key"` // "host db1, source stdin:x"
	Host      string               `json:"host,omitempty"`
	Source    string               `json:"source,omitempty"`
	Tags      []string             `json:"tags,omitempty"`
	Decisions []forgetDecisionJSON `json:"decisions"`
}

type forgetDecisionJSON struct {
	ID      string   `json:"id"`
	ShortID string   `json:"short_id"`
	Time    string   `json:"time"` // RFC 3339 in the policy's time zone
	Tier    string   `json:"tier"`
	Tags    []string `json:"tags"`
	Keep    bool     `json:"keep"`
	Reasons []string `json:"reasons"`
}

func cmdForget(g *globals) *cli.Command {
	var (
		keep           keepFlags
		groupBy, zone  string
		dryRun, asJSON bool
		prune          bool
		pf             pruneFlags
	)
	flags := append(keep.flags(),
		&cli.StringFlag{Name: "group-by", Usage: "apply the policy to each group of snapshots with the same `FIELDS` (host, source, tags)", Value: "host,source", Destination: &groupBy},
		&cli.StringFlag{Name: "timezone", Usage: "cut hours, days, weeks, months and years in `ZONE` (default: the stored policy's zone when forget applies it, else local time)", Destination: &zone},
		&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "only show what would be removed", Destination: &dryRun},
		&cli.BoolFlag{Name: "json", Usage: "print every decision as JSON", Destination: &asJSON},
		&cli.BoolFlag{Name: "prune", Usage: "prune afterwards, under the same lock (with prune's --max-unused and --max-repack-size)", Destination: &prune},
	)
	flags = append(flags, pf.flags(false)...)
	return &cli.Command{
		Name:      "forget",
		Usage:     "remove the named snapshots, or those the retention policy does not keep",
		ArgsUsage: "[SNAPSHOT...]",
		Description: `With SNAPSHOTs (IDs, unique ID prefixes, or latest), removes those
snapshot files; a protected one is refused and nothing is removed.

Without, applies a retention policy to each group of snapshots (same host
and source unless --group-by) and removes the snapshot files it does not
keep. The policy comes from the --keep-* flags, else from the repository
(strata policy set). With neither, forget explains and removes nothing,
as restic does; a policy to start from is --keep-hourly 24 --keep-daily 30
--keep-weekly 12 --keep-monthly 12.

A snapshot is kept if any rule keeps it; the output lists every reason.
Safety snapshots, taken by restore --replace (tag pre-restore) and guard
(tag pre-op) just before they change a database, are kept for 7 days
after they were taken whatever the rules say (--keep-safety, or the
stored policy's, changes the period; 0 turns it off).
Hourly ... yearly rules count calendar hours, days, ISO weeks, months and
years that have a snapshot (gaps do not count), in the time zone named in
the output. Protected snapshots (strata protect) are always kept;
expired protections of removed snapshots are removed with them. The data
of removed snapshots stays in the repository until prune.

` + exitCodesHelp,
		Flags: flags,
		Action: func(c *cli.Context) error {
			if prune && dryRun {
				return errors.New("forget --prune --dry-run: prune's dry run cannot see the snapshots forget would remove; run forget --dry-run, or forget and then prune --dry-run")
			}
			fromFlags, given, err := keep.policy(c)
			if err != nil {
				return err
			}
			pf.asJSON = asJSON
			req := workflow.ForgetRequest{DryRun: dryRun, Logger: g.logger()}
			if prune {
				preq, err := pf.request(g)
				if err != nil {
					return err
				}
				req.Prune = &preq
			}
			f := forgetPrinter{g: g, asJSON: asJSON, prune: prune, pf: &pf}
			if c.NArg() > 0 {
				if given || fromFlags.Safety != nil {
					return fmt.Errorf("give snapshots to remove or --keep-* rules, not both (got %q and %s)", c.Args().Slice(), fromFlags)
				}
				req.Snapshots = c.Args().Slice()
				if !asJSON {
					req.Forgotten = f.snapshotsForgotten
				}
				rep, err := f.forget(c.Context, req)
				if err != nil {
					return err
				}
				return f.printSnapshots(rep)
			}
			fromFlags, cfgRetention, fromConfig, err := g.configPolicy(fromFlags, given)
			if err != nil {
				return err
			}
			req.Policy = workflow.PolicyChoice{Safety: fromFlags.Safety, Timezone: zone}
			if given {
				req.Policy.Rules, req.Policy.From = &fromFlags, "the command line"
			}
			if zone != "" {
				req.Policy.TimezoneFrom = "--timezone"
			}
			if fromConfig {
				req.Policy.Rules, req.Policy.Source, req.Policy.From = &fromFlags, workflow.PolicyFromConfig, g.cfg.File
				if !c.IsSet("timezone") {
					req.Policy.Timezone, req.Policy.TimezoneFrom = cfgRetention.Timezone, g.cfg.File
				}
				if !c.IsSet("group-by") && cfgRetention.GroupBy != "" {
					groupBy = cfgRetention.GroupBy
				}
			}
			req.GroupBy = strings.Split(groupBy, ",")
			// --quiet keeps only what was asked for: a dry run's decisions.
			quiet := g.quiet && !dryRun
			if !asJSON && !quiet {
				req.Decided = f.printDecisions
			}
			if !asJSON {
				req.Forgotten = f.printSummary
			}
			rep, err := f.forget(c.Context, req)
			if err != nil {
				return err
			}
			if rep.Policy.Source == workflow.PolicyNone {
				return f.printWithoutPolicy(rep)
			}
			if asJSON {
				return f.printJSON(rep)
			}
			if dryRun {
				f.printSummary(rep)
			}
			if rep.Prune != nil {
				return printPrune(g, *rep.Prune, &pf)
			}
			return nil
		},
	}
}

// forgetPrinter prints a forget's report as the flags ask.
type forgetPrinter struct {
	g      *globals
	asJSON bool
	prune  bool        // --prune
	pf     *pruneFlags // prune's flags, for its report
}

// forget runs req on the repository, whose lock it takes.
func (f forgetPrinter) forget(ctx context.Context, req workflow.ForgetRequest) (*workflow.ForgetReport, error) {
	r, err := f.g.openFor(ctx, workflow.LockRequest{Command: "forget", Exclusive: !req.DryRun, Index: workflow.NoIndex})
	if err != nil {
		return nil, err
	}
	req.Lock = f.g.lockOptions()
	return workflow.Forget(ctx, r, req)
}

// printSummary prints what forget removed and kept (and, before a
// prune, the heading of its report).
func (f forgetPrinter) printSummary(rep *workflow.ForgetReport) {
	out := f.g.env.stdout
	quiet := f.g.quiet && !rep.DryRun
	keep, remove := rep.Kept, len(rep.Removed)
	total := keep + remove
	protectedNote := ""
	if rep.KeptProtected > 0 {
		protectedNote = fmt.Sprintf(" (%d protected)", rep.KeptProtected)
	}
	pruning := f.prune && !rep.DryRun
	switch {
	case quiet:
	case total == 0:
		fmt.Fprintln(out, "no snapshots")
	case rep.DryRun:
		fmt.Fprintf(out, "dry run: would remove %d of %s, keep %d%s\n", remove, counted(total, "snapshot"), keep, protectedNote)
	default:
		fmt.Fprintf(out, "removed %d of %s, kept %d%s\n", remove, counted(total, "snapshot"), keep, protectedNote)
		if rep.ProtectionsRemoved > 0 {
			fmt.Fprintf(out, "removed %d expired protections of removed snapshots\n", rep.ProtectionsRemoved)
		}
		if remove > 0 && !pruning {
			fmt.Fprintln(out, "their data stays in the repository until prune")
		}
		printLocked(out, rep.Locked, counted(len(rep.Locked), "snapshot"), "forget")
	}
	if pruning && !quiet {
		fmt.Fprintln(out, "\nprune:")
	}
}

func (f forgetPrinter) printDecisions(rep *workflow.ForgetReport) {
	out := f.g.env.stdout
	loc := rep.Policy.Location
	fmt.Fprintf(out, "policy: %s\n%s\n", describePolicy(rep.Policy), zoneLine(rep.Policy))
	for _, gr := range rep.Groups {
		removing := 0
		for _, d := range gr.Decisions {
			if !d.Keep {
				removing++
			}
		}
		fmt.Fprintf(out, "\n%s: %s, keep %d, remove %d\n", gr.Key, counted(len(gr.Decisions), "snapshot"), len(gr.Decisions)-removing, removing)
		t := newTable(out, "ID", "Time", "Tier", "Tags", "Action", "Reasons")
		for _, d := range gr.Decisions {
			action := "keep"
			if !d.Keep {
				action = "remove"
			}
			sn := d.Snapshot
			t.row(sn.ID.Short(), sn.Time.In(loc).Format(displayLayout), sn.Tier, strings.Join(sn.Tags, ","), action, strings.Join(d.Reasons, ", "))
		}
		_ = t.flush()
	}
	fmt.Fprintln(out)
}

// printJSON prints `forget --json`.
func (f forgetPrinter) printJSON(rep *workflow.ForgetReport) error {
	ch := rep.Policy
	out := forgetJSON{
		PolicySource: ch.Source, Policy: ch.Rules, PolicyFlags: ch.Rules.String(),
		Timezone: ch.Location.String(), DryRun: rep.DryRun, Groups: []forgetGroupJSON{},
		Keep: rep.Kept, Remove: len(rep.Removed), ProtectionsRemoved: rep.ProtectionsRemoved, Locked: rep.Locked,
	}
	if !ch.Set.IsZero() {
		set := ch.Set
		out.PolicySet = &set
	}
	for _, gr := range rep.Groups {
		gj := forgetGroupJSON{Key: gr.Key.String(), Host: gr.Key.Host, Source: gr.Key.Source, Tags: gr.Key.Tags}
		for _, d := range gr.Decisions {
			sn := d.Snapshot
			tags := sn.Tags
			if tags == nil {
				tags = []string{}
			}
			reasons := d.Reasons
			if reasons == nil {
				reasons = []string{}
			}
			gj.Decisions = append(gj.Decisions, forgetDecisionJSON{
				ID: sn.ID.String(), ShortID: sn.ID.Short(), Time: sn.Time.In(ch.Location).Format(time.RFC3339),
				Tier: sn.Tier, Tags: tags, Keep: d.Keep, Reasons: reasons,
			})
		}
		out.Groups = append(out.Groups, gj)
	}
	if rep.Prune != nil {
		b, err := json.Marshal(pruneJSON(rep.Prune.Report))
		if err != nil {
			return err
		}
		out.Prune = b
	}
	return printJSON(f.g.env.stdout, out)
}

// describePolicy: "from the command line (--keep-last 2)", "repository
// policy set 2026-11-20 14:00:00 CET (--keep-daily 7)".
func describePolicy(ch workflow.ChosenPolicy) string {
	switch ch.Source {
	case workflow.PolicyNone:
		return "none: give --keep-* flags, or store a policy with strata policy set"
	case workflow.PolicyFromRepository:
		return fmt.Sprintf("repository policy set %s (%s)", showTime(ch.Set), ch.Rules.String())
	}
	return fmt.Sprintf("from %s (%s)", ch.From, ch.Rules.String())
}

// zoneLine: "times in Europe/Berlin (repository policy)".
func zoneLine(ch workflow.ChosenPolicy) string {
	if ch.ZoneFrom == "default" {
		return "times in " + zoneName(ch.Location)
	}
	return fmt.Sprintf("times in %s (%s)", zoneName(ch.Location), ch.ZoneFrom)
}
