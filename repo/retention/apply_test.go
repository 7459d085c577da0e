package retention

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
)

// snap describes a synthetic snapshot: at is UTC ("2026-03-29 01:15"),
// host and source default to "h" and "s".
type snap struct {
	at           string
	host, source string
	tier         string
	tags         []string
}

func snapshots(t *testing.T, specs []snap) []*repo.Snapshot {
	t.Helper()
	var out []*repo.Snapshot
	for i, s := range specs {
		at, err := time.ParseInLocation("2006-01-02 15:04", s.at, time.UTC)
		if err != nil {
			t.Fatalf("snapshot %d: %v", i, err)
		}
		sn := &repo.Snapshot{Time: at, Host: s.host, Source: s.source, Tier: s.tier, Tags: s.tags, ID: testID(i)}
		if sn.Host == "" {
			sn.Host = "h"
		}
		if sn.Source == "" {
			sn.Source = "s"
		}
		out = append(out, sn)
	}
	return out
}

func testID(i int) pack.ID { return pack.ID{0xaa, byte(i >> 8), byte(i)} }

func location(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("time zone %s: %v", name, err)
	}
	return loc
}

// kept renders the kept snapshots as "local time: reason; reason", in
// group order and newest first within a group, and checks that every
// decision without reasons is a removal.
func kept(t *testing.T, groups []Group, loc *time.Location) []string {
	t.Helper()
	var out []string
	for _, g := range groups {
		for _, d := range g.Decisions {
			if d.Keep != (len(d.Reasons) > 0) {
				t.Errorf("%v: keep=%v with reasons %q", d.Snapshot.Time, d.Keep, d.Reasons)
			}
			if d.Keep {
				out = append(out, d.Snapshot.Time.In(loc).Format("2006-01-02 15:04 MST")+": "+strings.Join(d.Reasons, "; "))
			}
		}
	}
	return out
}

// applyCase is one table entry of TestApply and TestApplyDaylightSaving.
type applyCase struct {
	name   string
	loc    *time.Location
	snaps  []snap
	policy Policy
	opts   Options
	want   []string // kept, newest first
}

func runApplyCases(t *testing.T, tests []applyCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Location = tt.loc
			groups, err := Apply(snapshots(t, tt.snaps), tt.policy, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := kept(t, groups, tt.loc)
			if !slices.Equal(got, tt.want) {
				t.Errorf("kept:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			n := 0
			for _, g := range groups {
				n += len(g.Decisions)
				for i := 1; i < len(g.Decisions); i++ {
					if g.Decisions[i].Snapshot.Time.After(g.Decisions[i-1].Snapshot.Time) {
						t.Errorf("group %v: decisions not newest first", g.Key)
					}
				}
			}
			if n != len(tt.snaps) {
				t.Errorf("%d decisions for %d snapshots", n, len(tt.snaps))
			}
		})
	}
}

func TestApply(t *testing.T) {
	utc := time.UTC
	berlin := location(t, "Europe/Berlin")
	tests := []applyCase{
		{
			name: "keep-last",
			loc:  utc,
			snaps: []snap{
				{at: "2026-11-20 10:00"}, {at: "2026-11-21 10:00"}, {at: "2026-11-22 10:00"}, {at: "2026-11-22 11:00"},
			},
			policy: Policy{Last: 2},
			want: []string{
				"2026-11-22 11:00 UTC: last snapshot 1",
				"2026-11-22 10:00 UTC: last snapshot 2",
			},
		},
		{
			name:   "keep-last -1 keeps all",
			loc:    utc,
			snaps:  []snap{{at: "2026-11-20 10:00"}, {at: "2026-11-21 10:00"}},
			policy: Policy{Last: -1},
			want: []string{
				"2026-11-21 10:00 UTC: last snapshot 1",
				"2026-11-20 10:00 UTC: last snapshot 2",
			},
		},
		{
			name: "monthly across month boundaries",
			loc:  utc,
			snaps: []snap{
				{at: "2026-01-30 12:00"}, {at: "2026-01-31 23:59"}, {at: "2026-02-01 00:00"},
				{at: "2026-02-15 12:00"}, {at: "2026-02-28 23:00"}, {at: "2026-03-01 00:30"},
			},
			policy: Policy{Monthly: 2},
			want: []string{
				"2026-03-01 00:30 UTC: monthly 2026-03",
				"2026-02-28 23:00 UTC: monthly 2026-02",
			},
		},
		{
			// 2026-01-31 23:30 UTC is already February in Berlin.
			name: "monthly in the policy's time zone",
			loc:  berlin,
			snaps: []snap{
				{at: "2026-01-31 22:30"}, {at: "2026-01-31 23:30"}, {at: "2026-02-10 12:00"},
			},
			policy: Policy{Monthly: 2},
			want: []string{
				"2026-02-10 13:00 CET: monthly 2026-02",
				"2026-01-31 23:30 CET: monthly 2026-01",
			},
		},
		{
			name: "daily and yearly across a new year",
			loc:  utc,
			snaps: []snap{
				{at: "2024-06-01 12:00"}, {at: "2025-12-31 12:00"}, {at: "2025-12-31 23:00"},
				{at: "2026-01-01 01:00"}, {at: "2026-03-01 12:00"},
			},
			policy: Policy{Daily: 3, Yearly: 2},
			want: []string{
				"2026-03-01 12:00 UTC: daily 2026-03-01; yearly 2026",
				"2026-01-01 01:00 UTC: daily 2026-01-01",
				"2025-12-31 23:00 UTC: daily 2025-12-31; yearly 2025",
			},
		},
		{
			// 2026 has 53 ISO weeks: 2026-W53 runs from Monday 28
			// December 2026 to Sunday 3 January 2027.
			name: "ISO week 53 and week 1",
			loc:  utc,
			snaps: []snap{
				{at: "2026-12-27 12:00"}, {at: "2026-12-28 12:00"}, {at: "2027-01-01 12:00"},
				{at: "2027-01-03 12:00"}, {at: "2027-01-04 12:00"}, {at: "2027-01-05 12:00"},
			},
			policy: Policy{Weekly: 3},
			want: []string{
				"2027-01-05 12:00 UTC: weekly 2027-W01",
				"2027-01-03 12:00 UTC: weekly 2026-W53",
				"2026-12-27 12:00 UTC: weekly 2026-W52",
			},
		},
		{
			// Monday 30 December 2024 belongs to 2025-W01 but to the
			// calendar year 2024.
			name: "ISO week 1 starting in December",
			loc:  utc,
			snaps: []snap{
				{at: "2024-12-29 12:00"}, {at: "2024-12-30 12:00"}, {at: "2025-01-05 12:00"},
			},
			policy: Policy{Weekly: 5, Yearly: 5},
			want: []string{
				"2025-01-05 12:00 UTC: weekly 2025-W01; yearly 2025",
				"2024-12-30 12:00 UTC: yearly 2024",
				"2024-12-29 12:00 UTC: weekly 2024-W52",
			},
		},
		{
			// Hours 12 and 13 have no snapshot; they do not count.
			name: "gaps in the hourly series",
			loc:  utc,
			snaps: []snap{
				{at: "2026-11-22 08:30"}, {at: "2026-11-22 10:30"}, {at: "2026-11-22 11:30"},
				{at: "2026-11-22 14:30"}, {at: "2026-11-22 15:05"}, {at: "2026-11-22 15:50"},
			},
			policy: Policy{Hourly: 4},
			want: []string{
				"2026-11-22 15:50 UTC: hourly 2026-11-22 15:00 UTC",
				"2026-11-22 14:30 UTC: hourly 2026-11-22 14:00 UTC",
				"2026-11-22 11:30 UTC: hourly 2026-11-22 11:00 UTC",
				"2026-11-22 10:30 UTC: hourly 2026-11-22 10:00 UTC",
			},
		},
		{
			name: "keep-within keeps every snapshot in range",
			loc:  utc,
			snaps: []snap{
				{at: "2026-11-22 10:00"}, {at: "2026-11-22 10:20"}, {at: "2026-11-22 10:40"},
				{at: "2026-11-22 11:00"}, {at: "2026-11-22 11:20"}, {at: "2026-11-22 11:40"},
				{at: "2026-11-22 12:00"}, {at: "2026-11-22 12:20"}, {at: "2026-11-22 12:40"},
				{at: "2026-11-22 13:00"},
			},
			policy: Policy{Within: Duration{Hours: 2}},
			want: []string{
				"2026-11-22 13:00 UTC: within 2h",
				"2026-11-22 12:40 UTC: within 2h",
				"2026-11-22 12:20 UTC: within 2h",
				"2026-11-22 12:00 UTC: within 2h",
				"2026-11-22 11:40 UTC: within 2h",
				"2026-11-22 11:20 UTC: within 2h",
				"2026-11-22 11:00 UTC: within 2h",
			},
		},
		{
			name: "keep-within-hourly keeps the newest of each hour in range",
			loc:  utc,
			snaps: []snap{
				{at: "2026-11-22 10:00"}, {at: "2026-11-22 10:20"}, {at: "2026-11-22 10:40"},
				{at: "2026-11-22 11:00"}, {at: "2026-11-22 11:20"}, {at: "2026-11-22 11:40"},
				{at: "2026-11-22 12:00"}, {at: "2026-11-22 12:20"}, {at: "2026-11-22 12:40"},
				{at: "2026-11-22 13:00"},
			},
			policy: Policy{WithinHourly: Duration{Hours: 2}},
			want: []string{
				"2026-11-22 13:00 UTC: within-hourly 2h: 2026-11-22 13:00 UTC",
				"2026-11-22 12:40 UTC: within-hourly 2h: 2026-11-22 12:00 UTC",
				"2026-11-22 11:40 UTC: within-hourly 2h: 2026-11-22 11:00 UTC",
			},
		},
		{
			// Unlike keep-daily 3, keep-within-daily does not reach back
			// past the gap to 10 November.
			name: "keep-within-daily with a gap",
			loc:  utc,
			snaps: []snap{
				{at: "2026-11-10 12:00"}, {at: "2026-11-20 08:00"}, {at: "2026-11-20 18:00"},
				{at: "2026-11-22 09:00"},
			},
			policy: Policy{WithinDaily: Duration{Days: 3}},
			want: []string{
				"2026-11-22 09:00 UTC: within-daily 3d: 2026-11-22",
				"2026-11-20 18:00 UTC: within-daily 3d: 2026-11-20",
			},
		},
		{
			name: "within-weekly, monthly and yearly",
			loc:  utc,
			snaps: []snap{
				{at: "2024-12-31 12:00"}, {at: "2025-06-30 12:00"}, {at: "2025-12-31 12:00"},
				{at: "2026-11-01 12:00"}, {at: "2026-11-15 12:00"}, {at: "2026-11-22 12:00"},
			},
			policy: Policy{WithinWeekly: Duration{Days: 10}, WithinMonthly: Duration{Months: 1}, WithinYearly: Duration{Years: 1, Months: 6}},
			want: []string{
				"2026-11-22 12:00 UTC: within-weekly 10d: 2026-W47; within-monthly 1m: 2026-11; within-yearly 1y6m: 2026",
				"2026-11-15 12:00 UTC: within-weekly 10d: 2026-W46",
				"2025-12-31 12:00 UTC: within-yearly 1y6m: 2025",
			},
		},
		{
			name: "tiers",
			loc:  utc,
			snaps: []snap{
				{at: "2026-11-18 12:00", tier: "daily"},
				{at: "2026-11-19 12:00", tier: "daily"},
				{at: "2026-11-20 06:00", tier: "daily"},
				{at: "2026-11-20 12:00", tier: "daily"},
				{at: "2026-11-21 12:00", tier: "manual"},
				{at: "2026-11-22 09:00", tier: "manual"},
				{at: "2026-11-22 10:00", tier: "hourly"},
				{at: "2026-11-22 11:00"},
			},
			policy: Policy{Tiers: map[string]int{"daily": 2, "manual": 1}},
			want: []string{
				"2026-11-22 09:00 UTC: tier manual 1",
				"2026-11-20 12:00 UTC: tier daily 1: 2026-11-20",
				"2026-11-19 12:00 UTC: tier daily 2: 2026-11-19",
			},
		},
		{
			name: "hourly tier across the fall-back hour",
			loc:  berlin,
			snaps: []snap{
				{at: "2026-10-25 00:10", tier: "hourly"}, {at: "2026-10-25 01:10", tier: "hourly"},
				{at: "2026-10-25 01:20"},
			},
			policy: Policy{Tiers: map[string]int{"hourly": 24}},
			want: []string{
				"2026-10-25 02:10 CET: tier hourly 1: 2026-10-25 02:00 CET",
				"2026-10-25 02:10 CEST: tier hourly 2: 2026-10-25 02:00 CEST",
			},
		},
		{
			name: "tags",
			loc:  utc,
			snaps: []snap{
				{at: "2026-11-01 12:00", tags: []string{"billing"}},
				{at: "2026-11-02 12:00", tags: []string{"pre-op", "other"}},
				{at: "2026-11-03 12:00", tags: []string{"other"}},
				{at: "2026-11-04 12:00"},
			},
			policy: Policy{Last: 1, Tags: []string{"billing", "pre-op"}},
			want: []string{
				"2026-11-04 12:00 UTC: last snapshot 1",
				"2026-11-02 12:00 UTC: safety snapshot (pre-op) for 7d, until 2026-11-09 12:00 UTC; tag pre-op",
				"2026-11-01 12:00 UTC: tag billing",
			},
		},
		{
			name: "safety snapshots are kept for the default 7 days from now",
			loc:  utc,
			snaps: []snap{
				{at: "2026-11-01 12:00", tags: []string{"pre-op"}},
				{at: "2026-11-05 12:00", tags: []string{"pre-restore"}},
				{at: "2026-11-06 12:00"},
				{at: "2026-11-07 12:00"},
			},
			policy: Policy{Last: 1},
			opts:   Options{Now: time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)},
			want: []string{
				"2026-11-07 12:00 UTC: last snapshot 1",
				"2026-11-05 12:00 UTC: safety snapshot (pre-restore) for 7d, until 2026-11-12 12:00 UTC",
			},
		},
		{
			name: "a safety period of the policy's; zero turns it off",
			loc:  utc,
			snaps: []snap{
				{at: "2026-11-01 12:00", tags: []string{"pre-op"}},
				{at: "2026-11-07 12:00"},
			},
			policy: Policy{Last: 1, Safety: &Duration{Days: 30}},
			opts:   Options{Now: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
			want: []string{
				"2026-11-07 12:00 UTC: last snapshot 1",
				"2026-11-01 12:00 UTC: safety snapshot (pre-op) for 30d, until 2026-12-01 12:00 UTC",
			},
		},
		{
			name: "no safety period",
			loc:  utc,
			snaps: []snap{
				{at: "2026-11-06 12:00", tags: []string{"pre-op"}},
				{at: "2026-11-07 12:00"},
			},
			policy: Policy{Last: 1, Safety: &Duration{}},
			want:   []string{"2026-11-07 12:00 UTC: last snapshot 1"},
		},
		{
			name:   "protected snapshots are always kept",
			loc:    utc,
			snaps:  []snap{{at: "2026-11-01 12:00"}, {at: "2026-11-02 12:00"}, {at: "2026-11-03 12:00"}},
			policy: Policy{Last: 1},
			opts: Options{Protected: map[pack.ID]string{
				testID(0): "billing November, until 2027-01-01",
				testID(2): "audit",
			}},
			want: []string{
				"2026-11-03 12:00 UTC: protected: audit; last snapshot 1",
				"2026-11-01 12:00 UTC: protected: billing November, until 2027-01-01",
			},
		},
		{
			name: "every rule at once",
			loc:  utc,
			snaps: []snap{
				{at: "2026-11-21 12:00", tier: "daily"},
				{at: "2026-11-22 12:00", tier: "daily", tags: []string{"billing"}},
			},
			policy: Policy{
				Last: 1, Hourly: 1, Daily: 1, Weekly: 1, Monthly: 1, Yearly: 1,
				Within: Duration{Hours: 1}, WithinDaily: Duration{Days: 1},
				Tags: []string{"billing"}, Tiers: map[string]int{"daily": 1},
			},
			want: []string{
				"2026-11-22 12:00 UTC: last snapshot 1; hourly 2026-11-22 12:00 UTC; daily 2026-11-22; weekly 2026-W47; monthly 2026-11; yearly 2026; within 1h; within-daily 1d: 2026-11-22; tag billing; tier daily 1: 2026-11-22",
				"2026-11-21 12:00 UTC: within-daily 1d: 2026-11-21",
			},
		},
		{
			name: "group by host and source",
			loc:  utc,
			snaps: []snap{
				{at: "2026-11-01 12:00", host: "db1"}, {at: "2026-11-02 12:00", host: "db1"},
				{at: "2026-11-01 13:00", host: "db2"}, {at: "2026-11-01 14:00", host: "db2", source: "other"},
			},
			policy: Policy{Last: 1},
			want: []string{
				"2026-11-02 12:00 UTC: last snapshot 1",
				"2026-11-01 14:00 UTC: last snapshot 1",
				"2026-11-01 13:00 UTC: last snapshot 1",
			},
		},
		{
			name: "group by host only",
			loc:  utc,
			snaps: []snap{
				{at: "2026-11-01 13:00", host: "db2"}, {at: "2026-11-01 14:00", host: "db2", source: "other"},
				{at: "2026-11-01 12:00", host: "db1"},
			},
			policy: Policy{Last: 1},
			opts:   Options{GroupBy: []string{"host"}},
			want: []string{
				"2026-11-01 12:00 UTC: last snapshot 1",
				"2026-11-01 14:00 UTC: last snapshot 1",
			},
		},
		{
			name: "group by tags",
			loc:  utc,
			snaps: []snap{
				{at: "2026-11-01 12:00", tags: []string{"b", "a"}}, {at: "2026-11-02 12:00", tags: []string{"a", "b"}},
				{at: "2026-11-03 12:00", tags: []string{"a"}}, {at: "2026-11-04 12:00"},
			},
			policy: Policy{Last: 1},
			opts:   Options{GroupBy: []string{"tags"}},
			want: []string{
				"2026-11-04 12:00 UTC: last snapshot 1",
				"2026-11-03 12:00 UTC: last snapshot 1",
				"2026-11-02 12:00 UTC: last snapshot 1",
			},
		},
	}
	runApplyCases(t, tests)
}

func TestApplyRefuses(t *testing.T) {
	snaps := snapshots(t, []snap{{at: "2026-11-01 12:00"}})
	tests := []struct {
		name   string
		snaps  []*repo.Snapshot
		policy Policy
		opts   Options
		want   error // nil: any error
	}{
		{"empty policy", snaps, Policy{}, Options{}, ErrEmptyPolicy},
		{"empty policy with protected snapshots", snaps, Policy{}, Options{Protected: map[pack.ID]string{testID(0): "x"}}, ErrEmptyPolicy},
		{"unknown group", snaps, Policy{Last: 1}, Options{GroupBy: []string{"paths"}}, nil},
		{"negative count", snaps, Policy{Daily: -2}, Options{}, nil},
		{"zero tier", snaps, Policy{Tiers: map[string]int{"daily": 0}}, Options{}, nil},
		{"empty tag", snaps, Policy{Tags: []string{""}}, Options{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups, err := Apply(tt.snaps, tt.policy, tt.opts)
			if err == nil {
				t.Fatalf("Apply gave %d groups, want an error", len(groups))
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	// Nothing to decide: no error even without rules.
	if groups, err := Apply(nil, Policy{}, Options{}); err != nil || groups != nil {
		t.Errorf("Apply(no snapshots, empty policy) = %v, %v; want nothing", groups, err)
	}
}
