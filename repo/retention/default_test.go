package retention

import (
	"strings"
	"testing"
	"time"
)

// hourlySeries returns n snapshots one hour apart, the first at first (UTC).
func hourlySeries(first string, n int) []snap {
	start, _ := time.Parse("2006-01-02 15:04", first)
	out := make([]snap, n)
	for i := range out {
		out[i] = snap{at: start.Add(time.Duration(i) * time.Hour).Format("2006-01-02 15:04")}
	}
	return out
}

// TestDefaultPolicy720Hours applies the default policy to 720 hourly
// snapshots from Saturday 17 October 2026 10:00 to Monday 16 November
// 2026 09:00 UTC, once without tiers and once all of tier hourly.
func TestDefaultPolicy720Hours(t *testing.T) {
	series := hourlySeries("2026-10-17 10:00", 720)
	if last := series[len(series)-1].at; last != "2026-11-16 09:00" {
		t.Fatalf("series ends at %s", last)
	}
	// keep-hourly 24: 16 November 00:00-09:00 (10) and 15 November
	// 10:00-23:00 (14).
	// keep-daily 30: the days 16 November back to 18 October; 16 and 15
	// November are kept already (09:00 and 23:00), so the 23:00 snapshots
	// of 18 October to 14 November add 28. 17 October is day 31.
	// keep-weekly 12: only 6 ISO weeks (W42 to W47) hold snapshots; the
	// newest of each is 16 Nov 09:00, 15 Nov 23:00, or the 23:00 of a
	// Sunday (8 Nov, 1 Nov, 25 Oct, 18 Oct), all kept already.
	// keep-monthly 12: 16 Nov 09:00 and 31 Oct 23:00, kept already.
	const hourly, dailies = 24, 28
	for _, tier := range []string{"", "hourly"} {
		t.Run("tier "+tier, func(t *testing.T) {
			for i := range series {
				series[i].tier = tier
			}
			groups, err := Apply(snapshots(t, series), DefaultPolicy(), Options{Location: time.UTC})
			if err != nil {
				t.Fatal(err)
			}
			if len(groups) != 1 {
				t.Fatalf("%d groups", len(groups))
			}
			var keep, tierKept int
			for _, d := range groups[0].Decisions {
				lt := d.Snapshot.Time
				isHourly := !lt.Before(time.Date(2026, 11, 15, 10, 0, 0, 0, time.UTC))
				isDaily := lt.Hour() == 23 && !lt.Before(time.Date(2026, 10, 18, 0, 0, 0, 0, time.UTC))
				if d.Keep != (isHourly || isDaily) {
					t.Errorf("%v: keep=%v %q", lt, d.Keep, d.Reasons)
				}
				if d.Keep {
					keep++
				}
				for _, r := range d.Reasons {
					if strings.HasPrefix(r, "tier hourly ") {
						tierKept++
					}
				}
			}
			if keep != hourly+dailies {
				t.Errorf("kept %d of 720, want %d", keep, hourly+dailies)
			}
			wantTier := 0
			if tier == "hourly" {
				wantTier = 24 // the same 24 hours keep-hourly keeps
			}
			if tierKept != wantTier {
				t.Errorf("%d kept by tier hourly, want %d", tierKept, wantTier)
			}
		})
	}
}
