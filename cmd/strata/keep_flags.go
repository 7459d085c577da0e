package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"strata/pack"
	"strata/repo"
	"strata/repo/retention"
)

// keepFlags are the rule flags forget and policy set share.
type keepFlags struct {
	tags cli.StringSlice
}

var (
	keepCountFlags  = []string{"keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly", "keep-yearly"}
	keepWithinFlags = []string{"keep-within", "keep-within-hourly", "keep-within-daily", "keep-within-weekly", "keep-within-monthly", "keep-within-yearly"}
)

func (k *keepFlags) flags() []cli.Flag {
	usage := map[string]string{
		"keep-last":    "keep the `N` newest snapshots (-1: all)",
		"keep-hourly":  "keep the newest snapshot of each of the last `N` hours that have one",
		"keep-daily":   "keep the newest snapshot of each of the last `N` days that have one",
		"keep-weekly":  "keep the newest snapshot of each of the last `N` ISO weeks that have one",
		"keep-monthly": "keep the newest snapshot of each of the last `N` months that have one",
		"keep-yearly":  "keep the newest snapshot of each of the last `N` years that have one",
	}
	var fs []cli.Flag
	for _, name := range keepCountFlags {
		fs = append(fs, &cli.IntFlag{Name: name, Usage: usage[name]})
	}
	fs = append(fs, &cli.StringFlag{Name: "keep-within", Usage: "keep every snapshot up to `DURATION` (like 2d, 36h, 1y6m) older than the group's newest"})
	for i, unit := range []string{"hour", "day", "ISO week", "month", "year"} {
		fs = append(fs, &cli.StringFlag{Name: keepWithinFlags[i+1], Usage: "keep the newest snapshot of every " + unit + " within `DURATION` of the group's newest"})
	}
	return append(fs,
		&cli.StringSliceFlag{Name: "keep-tag", Usage: "keep snapshots that carry `TAG` (repeatable)", Destination: &k.tags},
		&cli.StringFlag{Name: "keep-tier", Usage: "per tier: the newest of the last N periods (hourly, daily, weekly, monthly, yearly) or the N newest, as `TIER=N,...`"},
		&cli.StringFlag{Name: "keep-safety", Usage: "keep safety snapshots (tags pre-restore and pre-op) for `DURATION` after they were taken, whatever the rules say (0: not at all)", DefaultText: "7d"},
	)
}

// policy reads the rule flags; given is false when none was set.
func (k *keepFlags) policy(c *cli.Context) (p retention.Policy, given bool, err error) {
	counts := []*int{&p.Last, &p.Hourly, &p.Daily, &p.Weekly, &p.Monthly, &p.Yearly}
	for i, name := range keepCountFlags {
		if c.IsSet(name) {
			*counts[i], given = c.Int(name), true
		}
	}
	withins := []*retention.Duration{&p.Within, &p.WithinHourly, &p.WithinDaily, &p.WithinWeekly, &p.WithinMonthly, &p.WithinYearly}
	for i, name := range keepWithinFlags {
		if !c.IsSet(name) {
			continue
		}
		d, err := retention.ParseDuration(c.String(name))
		if err != nil {
			return p, true, fmt.Errorf("--%s: %w", name, err)
		}
		*withins[i], given = d, true
	}
	if c.IsSet("keep-tag") {
		p.Tags, given = k.tags.Value(), true
	}
	if c.IsSet("keep-tier") {
		tiers, err := retention.ParseTiers(c.String("keep-tier"))
		if err != nil {
			return p, true, err
		}
		p.Tiers, given = tiers, true
	}
	// The safety period alone is no rule: with it alone, forget applies
	// the stored policy with this period.
	if c.IsSet("keep-safety") {
		v := c.String("keep-safety")
		var d retention.Duration
		if v != "0" {
			if d, err = retention.ParseDuration(v); err != nil {
				return p, given, fmt.Errorf("--keep-safety: %w (0 turns it off)", err)
			}
		}
		p.Safety = &d
	}
	return p, given, p.Validate()
}

// loadZone resolves a --timezone value or a stored time zone name; ""
// and "Local" mean local time.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (want an IANA name like Europe/Berlin, or Local): %v", name, err)
	}
	return loc, nil
}

// zoneName is how output names a time zone.
func zoneName(loc *time.Location) string {
	if loc == time.Local {
		// time.Local calls itself "Local": name the zone the user is in.
		return "local time (" + time.Now().Format("MST, UTC-07:00") + ")"
	}
	return loc.String()
}

// chosenPolicy is the policy forget applies and where it came from.
type chosenPolicy struct {
	policy   retention.Policy
	loc      *time.Location
	source   string // "flags", "repository" or "none"
	set      time.Time
	describe string // "repository policy set 2026-11-20 14:00:00 (--keep-daily 7)"
	zoneFrom string // why loc: "--timezone", "repository policy", "default"
}

// choosePolicy picks the flags' policy if any rule flag was given, else
// the repository's, else none (source "none": forget removes nothing).
// --keep-safety overrides the chosen policy's safety period. --timezone (zone) overrides the zone;
// without it a repository policy brings its own, and everything else uses
// local time.
func choosePolicy(ctx context.Context, r *repo.Repository, fromFlags retention.Policy, given bool, zone string) (chosenPolicy, error) {
	var ch chosenPolicy
	switch {
	case given:
		ch = chosenPolicy{policy: fromFlags, source: "flags", loc: time.Local, zoneFrom: "default"}
		ch.describe = "from the command line (" + fromFlags.String() + ")"
	default:
		sp, found, err := r.LoadPolicy(ctx)
		if err != nil {
			return ch, err
		}
		if !found {
			// As restic: no policy, nothing removed.
			ch = chosenPolicy{source: "none", loc: time.Local, zoneFrom: "default"}
			ch.describe = "none: give --keep-* flags, or store a policy with strata policy set"
			break
		}
		p, err := retention.DecodePolicy(sp.Policy)
		if err != nil {
			return ch, fmt.Errorf("repository policy file %s: %w", sp.ID.Short(), err)
		}
		loc, err := loadZone(sp.Timezone)
		if err != nil {
			return ch, fmt.Errorf("repository policy file %s: %w", sp.ID.Short(), err)
		}
		ch = chosenPolicy{policy: p, source: "repository", loc: loc, set: sp.Time, zoneFrom: "repository policy"}
		ch.describe = fmt.Sprintf("repository policy set %s (%s)", showTime(sp.Time), p.String())
	}
	if fromFlags.Safety != nil {
		ch.policy.Safety = fromFlags.Safety
	}
	if zone != "" {
		loc, err := loadZone(zone)
		if err != nil {
			return ch, fmt.Errorf("--timezone: %w", err)
		}
		ch.loc, ch.zoneFrom = loc, "--timezone"
	}
	return ch, nil
}

func (ch chosenPolicy) zoneLine() string {
	if ch.zoneFrom == "default" {
		return "times in " + zoneName(ch.loc)
	}
	return fmt.Sprintf("times in %s (%s)", zoneName(ch.loc), ch.zoneFrom)
}

// activeProtections maps each protected snapshot to the description of
// its active protections. A damaged protect file is an error: which
// snapshot it protects is unknown.
func activeProtections(ctx context.Context, r *repo.Repository, now time.Time, loc *time.Location) (map[pack.ID]string, []repo.Protection, error) {
	all, err := r.Protections(ctx)
	if err != nil {
		return nil, nil, err
	}
	descs := map[pack.ID][]string{}
	for _, p := range all {
		if p.Active(now) {
			descs[p.Snapshot] = append(descs[p.Snapshot], describeProtection(p, loc))
		}
	}
	out := make(map[pack.ID]string, len(descs))
	for id, d := range descs {
		sort.Strings(d)
		out[id] = strings.Join(d, "; ")
	}
	return out, all, nil
}

// describeProtection: "billing November (until 2027-01-01 00:00 CET)".
func describeProtection(p repo.Protection, loc *time.Location) string {
	reason := p.Reason
	if reason == "" {
		reason = "no reason given"
	}
	if p.Until.IsZero() {
		return reason + " (no end date)"
	}
	return reason + " (until " + p.Until.In(loc).Format(displayLayout) + ")"
}

// parseUntil reads --until: "2027-01-31" (midnight at its start),
// "2027-01-31 18:00" in local time, or RFC 3339.
func parseUntil(s string) (time.Time, error) { return parseTime("--until", s) }
