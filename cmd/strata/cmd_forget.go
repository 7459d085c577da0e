package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"strata/dbexport"
	"strata/pack"
	"strata/repo"
	"strata/repo/backend"
	"strata/repo/prune"
	"strata/repo/retention"
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
			if c.NArg() > 0 {
				if given || fromFlags.Safety != nil {
					return fmt.Errorf("give snapshots to remove or --keep-* rules, not both (got %q and %s)", c.Args().Slice(), fromFlags)
				}
				if pf.asJSON = asJSON; prune {
					return forgetSnapshots(c, g, c.Args().Slice(), dryRun, asJSON, &pf)
				}
				return forgetSnapshots(c, g, c.Args().Slice(), dryRun, asJSON, nil)
			}
			fromFlags, cfgRetention, fromConfig, err := g.configPolicy(fromFlags, given)
			if err != nil {
				return err
			}
			if fromConfig {
				given = true
				if zone == "" {
					zone = cfgRetention.Timezone
				}
				if !c.IsSet("group-by") && cfgRetention.GroupBy != "" {
					groupBy = cfgRetention.GroupBy
				}
			}
			return g.withLockNoIndex(c.Context, !dryRun, "forget", func(r *repo.Repository) error {
				ch, err := choosePolicy(c.Context, r, fromFlags, given, zone)
				if err != nil {
					return err
				}
				if fromConfig {
					ch.source, ch.describe = "config", fmt.Sprintf("from %s (%s)", g.cfg.File, ch.policy.String())
					if !c.IsSet("timezone") {
						ch.zoneFrom = g.cfg.File
					}
				}
				if ch.source == "none" {
					return forgetWithoutPolicy(c, g, r, ch, asJSON)
				}
				protected, protections, err := activeProtections(c.Context, r, r.Now(), ch.loc)
				if err != nil {
					return fmt.Errorf("forget refuses to run: %w", err)
				}
				sns, err := r.Snapshots(c.Context)
				if err != nil {
					return err
				}
				groups, err := retention.Apply(sns, ch.policy, retention.Options{
					GroupBy: strings.Split(groupBy, ","), Location: ch.loc, Protected: protected,
					SourceKey: dbexport.SourceName, Now: r.Now(),
				})
				if err != nil {
					return fmt.Errorf("forget: %w", err)
				}
				f := forgetRun{g: g, r: r, ch: ch, groups: groups, dryRun: dryRun}
				if prune {
					pf.asJSON = asJSON
					f.prune = &pf
				}
				return f.run(c, protected, protections, asJSON)
			})
		},
	}
}

// forgetRun is one forget after its decisions are made.
type forgetRun struct {
	g      *globals
	r      *repo.Repository
	ch     chosenPolicy
	groups []retention.Group
	dryRun bool
	prune  *pruneFlags // --prune: prune after removing
}

func (f forgetRun) run(c *cli.Context, protected map[pack.ID]string, protections []repo.Protection, asJSON bool) error {
	var remove []*repo.Snapshot
	keep, keptProtected := 0, 0
	for _, gr := range f.groups {
		for _, d := range gr.Decisions {
			_, isProtected := protected[d.Snapshot.ID]
			switch {
			case d.Keep:
				keep++
				if isProtected {
					keptProtected++
				}
			case isProtected:
				// Apply always keeps protected snapshots; refuse rather
				// than trust that here.
				return fmt.Errorf("forget: snapshot %s is protected but was not kept; nothing removed", d.Snapshot.ID.Short())
			default:
				remove = append(remove, d.Snapshot)
			}
		}
	}
	// --quiet keeps only what was asked for: a dry run's decisions.
	quiet := f.g.quiet && !f.dryRun
	if !asJSON && !quiet {
		f.printDecisions()
	}
	removedProtections := 0
	var locked []prune.LockedFile
	if !f.dryRun {
		var err error
		if remove, locked, err = f.remove(c, remove); err != nil {
			return err
		}
		keep += len(locked)
		removedProtections, err = f.removeProtections(c, remove, protections)
		if err != nil {
			return err
		}
	}
	if asJSON {
		out := f.json(keep, len(remove), removedProtections)
		out.Locked = locked
		if f.prune != nil {
			report, err := f.pruneJSON(c)
			if err != nil {
				return err
			}
			out.Prune = report
		}
		return printJSON(f.g.env.stdout, out)
	}
	out := f.g.env.stdout
	total := keep + len(remove)
	protectedNote := ""
	if keptProtected > 0 {
		protectedNote = fmt.Sprintf(" (%d protected)", keptProtected)
	}
	switch {
	case quiet:
	case total == 0:
		fmt.Fprintln(out, "no snapshots")
	case f.dryRun:
		fmt.Fprintf(out, "dry run: would remove %d of %s, keep %d%s\n", len(remove), counted(total, "snapshot"), keep, protectedNote)
	default:
		fmt.Fprintf(out, "removed %d of %s, kept %d%s\n", len(remove), counted(total, "snapshot"), keep, protectedNote)
		if removedProtections > 0 {
			fmt.Fprintf(out, "removed %d expired protections of removed snapshots\n", removedProtections)
		}
		if len(remove) > 0 && f.prune == nil {
			fmt.Fprintln(out, "their data stays in the repository until prune")
		}
		printLocked(out, locked, counted(len(locked), "snapshot"), "forget")
	}
	if f.prune != nil {
		if !quiet {
			fmt.Fprintln(out, "\nprune:")
		}
		return runPrune(c, f.g, f.r, f.prune)
	}
	return nil
}

// pruneJSON runs prune with its JSON report captured, to nest it in
// forget's.
func (f forgetRun) pruneJSON(c *cli.Context) (json.RawMessage, error) {
	var buf bytes.Buffer
	e := *f.g.env
	e.stdout = &buf
	g := *f.g
	g.env = &e
	if err := runPrune(c, &g, f.r, f.prune); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimSpace(buf.Bytes())), nil
}

func (f forgetRun) printDecisions() {
	out := f.g.env.stdout
	fmt.Fprintf(out, "policy: %s\n%s\n", f.ch.describe, f.ch.zoneLine())
	for _, gr := range f.groups {
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
			t.row(sn.ID.Short(), sn.Time.In(f.ch.loc).Format(displayLayout), sn.Tier, strings.Join(sn.Tags, ","), action, strings.Join(d.Reasons, ", "))
		}
		_ = t.flush()
	}
	fmt.Fprintln(out)
}

// remove deletes the snapshot files, one by one, and returns those it
// removed; the first failure stops it, and the message says how many
// were removed. A snapshot file under object lock is left (the snapshot
// stays, so prune keeps its data) and returned as locked.
func (f forgetRun) remove(c *cli.Context, sns []*repo.Snapshot) (removed []*repo.Snapshot, locked []prune.LockedFile, err error) {
	hs := make([]backend.Handle, 0, len(sns))
	for _, sn := range sns {
		hs = append(hs, backend.Handle{Type: backend.SnapshotFile, Name: sn.ID.String()})
	}
	states, err := f.r.LockedFiles(c.Context, hs)
	if err != nil {
		return nil, nil, fmt.Errorf("forget removed no snapshot: asking for the object lock of the snapshot files: %w", err)
	}
	lockedOne := func(sn *repo.Snapshot, st backend.LockState) {
		locked = append(locked, prune.LockedFile{File: "snapshots/" + sn.ID.String(), Size: -1, Mode: strings.ToLower(string(st.Mode)), Until: st.Until, LegalHold: st.LegalHold})
		f.g.printf("snapshot %s is under object lock (%v): not removed\n", sn.ID.Short(), st)
	}
	var removable []*repo.Snapshot
	for i, sn := range sns {
		if st, ok := states[hs[i]]; ok {
			lockedOne(sn, st)
			continue
		}
		removable = append(removable, sn)
	}
	// One journal file records every removal ahead of them.
	gone := make([]repo.JournalKey, 0, len(removable))
	for _, sn := range removable {
		gone = append(gone, repo.JournalKey{Kind: backend.SnapshotFile, ID: sn.ID})
	}
	if err := f.r.RecordRemovals(c.Context, gone); err != nil {
		return nil, locked, fmt.Errorf("forget removed no snapshot: %w", err)
	}
	for _, sn := range removable {
		err := f.r.RemoveSnapshot(c.Context, sn.ID)
		var le *backend.LockedError
		if errors.As(err, &le) {
			lockedOne(sn, le.State) // locked since it asked
			continue
		}
		if err != nil {
			return removed, locked, fmt.Errorf("forget removed %d of %s, then: %w", len(removed), counted(len(sns), "snapshot"), err)
		}
		removed = append(removed, sn)
		f.g.printf("removed snapshot %s\n", sn.ID.Short())
	}
	return removed, locked, nil
}

// removeProtections deletes the protect files of removed snapshots (only
// expired protections can name one) and expired ones whose snapshot is
// gone already (a crash between the two steps of an earlier forget).
func (f forgetRun) removeProtections(c *cli.Context, removed []*repo.Snapshot, protections []repo.Protection) (int, error) {
	gone := map[pack.ID]bool{}
	for _, sn := range removed {
		gone[sn.ID] = true
	}
	exists := map[pack.ID]bool{}
	for _, gr := range f.groups {
		for _, d := range gr.Decisions {
			if !gone[d.Snapshot.ID] {
				exists[d.Snapshot.ID] = true
			}
		}
	}
	now := f.r.Now()
	n := 0
	for _, p := range protections {
		if exists[p.Snapshot] || p.Active(now) {
			continue
		}
		if err := f.r.RemoveProtection(c.Context, p); err != nil {
			return n, fmt.Errorf("forget removed the snapshots, but removing expired protect file %s failed: %w", p.ID.Short(), err)
		}
		n++
	}
	return n, nil
}

func (f forgetRun) json(keep, remove, protectionsRemoved int) forgetJSON {
	out := forgetJSON{
		PolicySource: f.ch.source, Policy: f.ch.policy, PolicyFlags: f.ch.policy.String(),
		Timezone: f.ch.loc.String(), DryRun: f.dryRun, Groups: []forgetGroupJSON{},
		Keep: keep, Remove: remove, ProtectionsRemoved: protectionsRemoved,
	}
	if !f.ch.set.IsZero() {
		set := f.ch.set
		out.PolicySet = &set
	}
	for _, gr := range f.groups {
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
				ID: sn.ID.String(), ShortID: sn.ID.Short(), Time: sn.Time.In(f.ch.loc).Format(time.RFC3339),
				Tier: sn.Tier, Tags: tags, Keep: d.Keep, Reasons: reasons,
			})
		}
		out.Groups = append(out.Groups, gj)
	}
	return out
}
