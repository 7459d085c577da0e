package workflow

import (
	"cmp"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"strata/pack"
	"strata/repo"
	"strata/repo/retention"
)

// TimeLayout is how messages and tables show a time, with its zone, so
// that two commands never show one snapshot's time two ways.
const TimeLayout = "2006-01-02 15:04:05 MST"

// Policy source names, as forget's report (and `forget --json`'s
// policy_source) gives them.
const (
	PolicyFromFlags      = "flags"
	PolicyFromConfig     = "config"
	PolicyFromRepository = "repository"
	PolicyNone           = "none"
)

// PolicyChoice says which retention policy forget applies
// (docs/design.md, "Retention policy and protections").
type PolicyChoice struct {
	// Rules are the policy given (forget's --keep-* flags, strata.yaml's
	// retention); nil: the repository's stored policy, and without one
	// none, when forget removes nothing (as restic).
	Rules *retention.Policy
	// Source is where Rules come from: PolicyFromFlags (the default) or
	// PolicyFromConfig.
	Source string
	// From names it in the report's description: "the command line", or
	// a config file's path.
	From string
	// Safety, when set, overrides the chosen policy's safety period
	// (--keep-safety given alone).
	Safety *retention.Duration
	// Timezone, when not empty, is the zone calendar periods are cut in
	// (an IANA name, or Local), over the chosen policy's own.
	Timezone string
	// TimezoneFrom, when set, is named as where the zone comes from
	// ("--timezone", a config file), and in an error about it.
	TimezoneFrom string
}

// ChosenPolicy is the policy forget applies and where it came from.
type ChosenPolicy struct {
	Rules retention.Policy
	// Source: PolicyFromFlags, PolicyFromConfig, PolicyFromRepository or
	// PolicyNone.
	Source string
	// From is PolicyChoice.From, for flags and config.
	From string
	// Set is when the repository's policy was stored (policy set).
	Set time.Time
	// Location is the zone of the calendar periods; ZoneFrom why:
	// "default" (local time), "repository policy", or the choice's
	// TimezoneFrom.
	Location *time.Location
	ZoneFrom string
}

// ChoosePolicy picks the choice's rules if any, else the repository's
// stored policy, else none. A Safety overrides the chosen policy's
// safety period; a Timezone its zone (a stored policy brings its own,
// everything else uses local time).
func ChoosePolicy(ctx context.Context, r *repo.Repository, c PolicyChoice) (ChosenPolicy, error) {
	var ch ChosenPolicy
	switch {
	case c.Rules != nil:
		src := c.Source
		if src == "" {
			src = PolicyFromFlags
		}
		ch = ChosenPolicy{Rules: *c.Rules, Source: src, From: c.From, Location: time.Local, ZoneFrom: "default"}
	default:
		sp, found, err := r.LoadPolicy(ctx)
		if err != nil {
			return ch, err
		}
		if !found {
			ch = ChosenPolicy{Source: PolicyNone, Location: time.Local, ZoneFrom: "default"}
			break
		}
		p, err := retention.DecodePolicy(sp.Policy)
		if err != nil {
			return ch, fmt.Errorf("repository policy file %s: %w", sp.ID.Short(), err)
		}
		loc, err := LoadZone(sp.Timezone)
		if err != nil {
			return ch, fmt.Errorf("repository policy file %s: %w", sp.ID.Short(), err)
		}
		ch = ChosenPolicy{Rules: p, Source: PolicyFromRepository, Location: loc, Set: sp.Time, ZoneFrom: "repository policy"}
	}
	if c.Safety != nil {
		ch.Rules.Safety = c.Safety
	}
	if c.Timezone != "" {
		loc, err := LoadZone(c.Timezone)
		if err != nil {
			return ch, fmt.Errorf("%s: %w", cmp.Or(c.TimezoneFrom, "timezone"), err)
		}
		ch.Location = loc
	}
	if c.TimezoneFrom != "" {
		ch.ZoneFrom = c.TimezoneFrom
	}
	return ch, nil
}

// LoadZone resolves a time zone name; "" and "Local" mean local time.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (want an IANA name like Europe/Berlin, or Local): %v", name, err)
	}
	return loc, nil
}

// ActiveProtections maps each protected snapshot to the description of
// its active protections at now (times shown in loc), and returns every
// protection. A damaged protect file is an error: which snapshot it
// protects is unknown.
func ActiveProtections(ctx context.Context, r *repo.Repository, now time.Time, loc *time.Location) (map[pack.ID]string, []repo.Protection, error) {
	all, err := r.Protections(ctx)
	if err != nil {
		return nil, nil, err
	}
	descs := map[pack.ID][]string{}
	for _, p := range all {
		if p.Active(now) {
			descs[p.Snapshot] = append(descs[p.Snapshot], DescribeProtection(p, loc))
		}
	}
	out := make(map[pack.ID]string, len(descs))
	for id, d := range descs {
		sort.Strings(d)
		out[id] = strings.Join(d, "; ")
	}
	return out, all, nil
}

// DescribeProtection: "billing November (until 2027-01-01 00:00:00 CET)".
func DescribeProtection(p repo.Protection, loc *time.Location) string {
	reason := p.Reason
	if reason == "" {
		reason = "no reason given"
	}
	if p.Until.IsZero() {
		return reason + " (no end date)"
	}
	return reason + " (until " + p.Until.In(loc).Format(TimeLayout) + ")"
}
