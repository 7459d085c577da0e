package retention

import (
	"testing"
)

// TestApplyDaylightSaving covers the days clocks change in Europe/Berlin
// (29 March and 25 October 2026) and America/New_York (8 March and 1
// November 2026). Snapshot times are given in UTC.
func TestApplyDaylightSaving(t *testing.T) {
	berlin := location(t, "Europe/Berlin")
	newYork := location(t, "America/New_York")
	runApplyCases(t, []applyCase{
		{
			// Clocks jump from 02:00 CET to 03:00 CEST: the skipped hour
			// holds nothing and is no gap.
			name: "spring forward in Berlin, hourly",
			loc:  berlin,
			snaps: []snap{
				{at: "2026-03-28 23:15"}, {at: "2026-03-29 00:15"}, {at: "2026-03-29 00:45"},
				{at: "2026-03-29 01:15"}, {at: "2026-03-29 02:15"},
			},
			policy: Policy{Hourly: 3},
			want: []string{
				"2026-03-29 04:15 CEST: hourly 2026-03-29 04:00 CEST",
				"2026-03-29 03:15 CEST: hourly 2026-03-29 03:00 CEST",
				"2026-03-29 01:45 CET: hourly 2026-03-29 01:00 CET",
			},
		},
		{
			name: "spring forward in Berlin, within-hourly",
			loc:  berlin,
			snaps: []snap{
				{at: "2026-03-28 23:15"}, {at: "2026-03-29 00:15"}, {at: "2026-03-29 00:45"},
				{at: "2026-03-29 01:15"}, {at: "2026-03-29 02:15"},
			},
			policy: Policy{WithinHourly: Duration{Hours: 2}},
			want: []string{
				"2026-03-29 04:15 CEST: within-hourly 2h: 2026-03-29 04:00 CEST",
				"2026-03-29 03:15 CEST: within-hourly 2h: 2026-03-29 03:00 CEST",
				"2026-03-29 01:45 CET: within-hourly 2h: 2026-03-29 01:00 CET",
			},
		},
		{
			// 29 March 2026 has 23 hours in Berlin: a calendar day back
			// from 12:00 CEST is 12:00 CET the day before, 23 hours.
			name: "spring forward in Berlin, within 1d is a calendar day",
			loc:  berlin,
			snaps: []snap{
				{at: "2026-03-28 10:30"}, {at: "2026-03-28 11:00"}, {at: "2026-03-29 10:00"},
			},
			policy: Policy{Within: Duration{Days: 1}},
			want: []string{
				"2026-03-29 12:00 CEST: within 1d",
				"2026-03-28 12:00 CET: within 1d",
			},
		},
		{
			name: "spring forward in Berlin, within 24h is absolute",
			loc:  berlin,
			snaps: []snap{
				{at: "2026-03-28 10:00"}, {at: "2026-03-28 10:30"}, {at: "2026-03-28 11:00"}, {at: "2026-03-29 10:00"},
			},
			policy: Policy{Within: Duration{Hours: 24}},
			want: []string{
				"2026-03-29 12:00 CEST: within 24h",
				"2026-03-28 12:00 CET: within 24h",
				"2026-03-28 11:30 CET: within 24h",
				"2026-03-28 11:00 CET: within 24h",
			},
		},
		{
			// Clocks go back from 03:00 CEST to 02:00 CET: 02:00 CEST and
			// 02:00 CET are two hours.
			name: "fall back in Berlin, the repeated hour counts twice",
			loc:  berlin,
			snaps: []snap{
				{at: "2026-10-24 23:40"}, {at: "2026-10-25 00:10"}, {at: "2026-10-25 00:40"},
				{at: "2026-10-25 01:10"}, {at: "2026-10-25 01:40"}, {at: "2026-10-25 02:10"},
			},
			policy: Policy{Hourly: 4, Daily: 1},
			want: []string{
				"2026-10-25 03:10 CET: hourly 2026-10-25 03:00 CET; daily 2026-10-25",
				"2026-10-25 02:40 CET: hourly 2026-10-25 02:00 CET",
				"2026-10-25 02:40 CEST: hourly 2026-10-25 02:00 CEST",
				"2026-10-25 01:40 CEST: hourly 2026-10-25 01:00 CEST",
			},
		},
		{
			name: "spring forward in New York",
			loc:  newYork,
			snaps: []snap{
				{at: "2026-03-08 05:30"}, {at: "2026-03-08 06:30"}, {at: "2026-03-08 07:30"},
			},
			policy: Policy{Hourly: 2},
			want: []string{
				"2026-03-08 03:30 EDT: hourly 2026-03-08 03:00 EDT",
				"2026-03-08 01:30 EST: hourly 2026-03-08 01:00 EST",
			},
		},
		{
			// 03:00 UTC on 2 November is still 1 November in New York.
			name: "fall back in New York",
			loc:  newYork,
			snaps: []snap{
				{at: "2026-11-01 03:59"}, {at: "2026-11-01 04:30"}, {at: "2026-11-01 05:30"},
				{at: "2026-11-01 06:30"}, {at: "2026-11-02 03:00"},
			},
			policy: Policy{Hourly: 3, Daily: 2},
			want: []string{
				"2026-11-01 22:00 EST: hourly 2026-11-01 22:00 EST; daily 2026-11-01",
				"2026-11-01 01:30 EST: hourly 2026-11-01 01:00 EST",
				"2026-11-01 01:30 EDT: hourly 2026-11-01 01:00 EDT",
				"2026-10-31 23:59 EDT: daily 2026-10-31",
			},
		},
	})
}
