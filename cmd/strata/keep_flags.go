package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

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

// zoneName is how output names a time zone.
func zoneName(loc *time.Location) string {
	if loc == time.Local {
		// time.Local calls itself "Local": name the zone the user is in.
		return "local time (" + time.Now().Format("MST, UTC-07:00") + ")"
	}
	return loc.String()
}

// parseUntil reads --until: "2027-01-31" (midnight at its start),
// "2027-01-31 18:00" in local time, or RFC 3339.
func parseUntil(s string) (time.Time, error) { return parseTime("--until", s) }
