package retention

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"strata/pack"
	"strata/repo"
)

// Options say how Apply groups snapshots and reads their times.
type Options struct {
	// GroupBy lists what makes a group: any of "host", "source" and
	// "tags" (the sorted set of tags). Empty means host and source.
	GroupBy []string
	// Location is the time zone of the calendar buckets; nil means
	// time.Local.
	Location *time.Location
	// Protected maps protected snapshots to a description of their
	// protection ("billing November, until 2027-01-01"); they are always
	// kept, with the reason "protected: " and the description.
	Protected map[pack.ID]string
	// SourceKey names a snapshot's source for grouping; nil means the
	// recorded Source. Given the source key of a database
	// (docs/design.md, "Source keys"), two spellings of its DSN make one
	// group.
	SourceKey func(*repo.Snapshot) string
	// Now is the clock the safety period is counted against; zero means
	// the newest snapshot of each group.
	Now time.Time
}

// GroupKey is what the snapshots of a group share; fields not grouped by
// are empty.
type GroupKey struct {
	Host   string
	Source string
	Tags   []string // sorted; nil when not grouped by tags
}

func (k GroupKey) String() string {
	var parts []string
	if k.Host != "" {
		parts = append(parts, "host "+k.Host)
	}
	if k.Source != "" {
		parts = append(parts, "source "+k.Source)
	}
	if k.Tags != nil {
		if len(k.Tags) == 0 {
			parts = append(parts, "no tags")
		} else {
			parts = append(parts, "tags "+strings.Join(k.Tags, ","))
		}
	}
	if len(parts) == 0 {
		return "all snapshots"
	}
	return strings.Join(parts, ", ")
}

// Group is the decisions for one group, newest snapshot first.
type Group struct {
	Key       GroupKey
	Decisions []Decision
}

// Decision says whether a snapshot is kept, and every rule that keeps it.
type Decision struct {
	Snapshot *repo.Snapshot
	Keep     bool
	Reasons  []string
}

// Apply decides, group by group, which snapshots p keeps. Groups are
// sorted by key. The newest snapshot of a group is the reference time of
// the keep-within rules, so the same snapshots give the same decisions
// whenever Apply runs. A policy without rules is refused with
// ErrEmptyPolicy, unless there are no snapshots to decide about.
func Apply(snaps []*repo.Snapshot, p Policy, opts Options) ([]Group, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	by, err := groupBy(opts.GroupBy)
	if err != nil {
		return nil, err
	}
	by.sourceKey = opts.SourceKey
	if len(snaps) == 0 {
		return nil, nil
	}
	if p.Empty() {
		return nil, ErrEmptyPolicy
	}
	loc := opts.Location
	if loc == nil {
		loc = time.Local
	}
	groups := map[string]*Group{}
	for _, sn := range snaps {
		key := by.key(sn)
		id := key.id()
		g := groups[id]
		if g == nil {
			g = &Group{Key: key}
			groups[id] = g
		}
		g.Decisions = append(g.Decisions, Decision{Snapshot: sn})
	}
	out := make([]Group, 0, len(groups))
	for _, g := range groups {
		decide(g.Decisions, p, loc, opts.Protected, opts.Now)
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key.id() < out[j].Key.id() })
	return out, nil
}

type grouping struct {
	host, source, tags bool
	sourceKey          func(*repo.Snapshot) string
}

func groupBy(fields []string) (grouping, error) {
	if len(fields) == 0 {
		return grouping{host: true, source: true}, nil
	}
	var by grouping
	for _, f := range fields {
		switch strings.TrimSpace(f) {
		case "host":
			by.host = true
		case "source":
			by.source = true
		case "tags":
			by.tags = true
		default:
			return grouping{}, fmt.Errorf("cannot group by %q: want host, source or tags", f)
		}
	}
	return by, nil
}

func (by grouping) key(sn *repo.Snapshot) GroupKey {
	var k GroupKey
	if by.host {
		k.Host = sn.Host
	}
	if by.source {
		k.Source = sn.Source
		if by.sourceKey != nil {
			k.Source = by.sourceKey(sn)
		}
	}
	if by.tags {
		k.Tags = append([]string{}, sn.Tags...)
		sort.Strings(k.Tags)
	}
	return k
}

// id is a map key and sort key for k; NUL never occurs in hosts, sources
// or tags.
func (k GroupKey) id() string {
	return k.Host + "\x00" + k.Source + "\x00" + strings.Join(k.Tags, "\x01")
}

// decide fills in ds, the decisions of one group: it sorts them newest
// first and runs every rule over them in that order.
func decide(ds []Decision, p Policy, loc *time.Location, protected map[pack.ID]string, now time.Time) {
	sort.Slice(ds, func(i, j int) bool {
		a, b := ds[i].Snapshot, ds[j].Snapshot
		if !a.Time.Equal(b.Time) {
			return a.Time.After(b.Time)
		}
		return a.ID.String() > b.ID.String()
	})
	newest := ds[0].Snapshot.Time
	if now.IsZero() {
		now = newest
	}
	safety := p.SafetyPeriod()

	periodCounts := []int{p.Hourly, p.Daily, p.Weekly, p.Monthly, p.Yearly}
	var counters []*bucketCounter
	for per, n := range periodCounts {
		counters = append(counters, &bucketCounter{period: period(per), left: n})
	}
	withins := []Duration{p.WithinHourly, p.WithinDaily, p.WithinWeekly, p.WithinMonthly, p.WithinYearly}
	var withinCounters []*bucketCounter
	for per := range withins {
		withinCounters = append(withinCounters, &bucketCounter{period: period(per), left: -1})
	}
	tierCounters := map[string]*bucketCounter{}
	tierSeen := map[string]int{}
	for name, n := range p.Tiers {
		per, ok := periodNamed(name)
		if ok {
			tierCounters[name] = &bucketCounter{period: per, left: n}
		}
	}

	for i := range ds {
		d := &ds[i]
		sn := d.Snapshot
		if desc, ok := protected[sn.ID]; ok {
			d.Reasons = append(d.Reasons, "protected: "+desc)
		}
		if tag := safetyTag(sn); tag != "" && !safety.IsZero() {
			if until := safety.After(sn.Time, loc); now.Before(until) {
				d.Reasons = append(d.Reasons, fmt.Sprintf("safety snapshot (%s) for %s, until %s", tag, safety, until.Format("2006-01-02 15:04 MST")))
			}
		}
		if p.Last < 0 || i < p.Last {
			d.Reasons = append(d.Reasons, fmt.Sprintf("last snapshot %d", i+1))
		}
		for _, c := range counters {
			if b, ok := c.keep(sn.Time, loc); ok {
				d.Reasons = append(d.Reasons, c.period.String()+" "+b.label)
			}
		}
		if !p.Within.IsZero() && !sn.Time.Before(p.Within.Before(newest, loc)) {
			d.Reasons = append(d.Reasons, "within "+p.Within.String())
		}
		for per, within := range withins {
			if within.IsZero() || sn.Time.Before(within.Before(newest, loc)) {
				continue
			}
			if b, ok := withinCounters[per].keep(sn.Time, loc); ok {
				d.Reasons = append(d.Reasons, fmt.Sprintf("within-%s %s: %s", period(per), within, b.label))
			}
		}
		for _, tag := range p.Tags {
			if sn.HasTag(tag) {
				d.Reasons = append(d.Reasons, "tag "+tag)
			}
		}
		if n, ok := p.Tiers[sn.Tier]; ok {
			if c := tierCounters[sn.Tier]; c != nil {
				if b, ok := c.keep(sn.Time, loc); ok {
					tierSeen[sn.Tier]++
					d.Reasons = append(d.Reasons, fmt.Sprintf("tier %s %d: %s", sn.Tier, tierSeen[sn.Tier], b.label))
				}
			} else if n < 0 || tierSeen[sn.Tier] < n {
				tierSeen[sn.Tier]++
				d.Reasons = append(d.Reasons, fmt.Sprintf("tier %s %d", sn.Tier, tierSeen[sn.Tier]))
			}
		}
		d.Keep = len(d.Reasons) > 0
	}
}

// safetyTag returns the safety tag sn carries, or "".
func safetyTag(sn *repo.Snapshot) string {
	for _, tag := range []string{TagPreRestore, TagPreOp} {
		if sn.HasTag(tag) {
			return tag
		}
	}
	return ""
}
