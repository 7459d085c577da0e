package systemd

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"strata/service/schedule"
)

// TestCalendarMatchesSchedule: systemd-analyze calendar's next elapses of
// the translated expressions are the times service/schedule's Next gives
// for the cron spec.
func TestCalendarMatchesSchedule(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze is not installed (Debian: apt-get install systemd)")
		}
		t.Skip("skipping: needs systemd-analyze (Debian: apt-get install systemd)")
	}
	base := time.Date(2026, 3, 27, 22, 17, 0, 0, time.UTC)
	for _, tc := range []struct{ spec, zone string }{
		{"0 * * * *", ""},
		{"*/15 * * * *", ""},
		{"5,35 3-5 * * *", "Europe/Berlin"}, // across the change to summer time on 29 March
		{"0 3 * * *", "Europe/Berlin"},
		{"30 2 * * 1-5", "UTC"},
		{"0 0 1 * *", ""},
		{"0 12 1,15 * 0", ""}, // day of month OR day of week
		{"0 0 * * 7", ""},
		{"10 4 */3 jan-mar,dec *", ""},
		{"@weekly", ""},
		{"@daily", "America/New_York"},
		{"CRON_TZ=Asia/Tokyo 0 9 * * mon", ""},
		{"0 0 29 2 *", ""},
		{"3-58/5 1/4 * * *", ""},
		{"0 6 */10 * mon", ""}, // a stepped day of month is no "*": day of month OR day of week, as the daemon reads it
	} {
		t.Run(tc.spec, func(t *testing.T) {
			trig, err := Calendar(tc.spec, tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			loc := time.UTC
			if tc.zone != "" {
				loc, _ = time.LoadLocation(tc.zone)
			}
			s, err := schedule.Parse(tc.spec, loc)
			if err != nil {
				t.Fatal(err)
			}
			const n = 6
			var want []time.Time
			for at := base; len(want) < n; {
				at = s.Next(at)
				want = append(want, at.UTC())
			}
			var got []time.Time
			for _, expr := range trig.OnCalendar {
				cmd := exec.Command(analyze, "calendar", "--iterations=6", "--base-time="+base.Format("2006-01-02 15:04:05")+" UTC", expr)
				cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("systemd-analyze calendar %q: %v\n%s", expr, err, out)
				}
				for _, line := range strings.Split(string(out), "\n") {
					line = strings.TrimSpace(line)
					if !strings.HasPrefix(line, "Next elapse:") && !strings.HasPrefix(line, "Iter. #") {
						continue
					}
					_, v, _ := strings.Cut(line, ": ")
					at, err := time.Parse("Mon 2006-01-02 15:04:05 MST", strings.TrimSpace(v))
					if err != nil {
						t.Fatalf("systemd-analyze printed %q: %v", line, err)
					}
					got = append(got, at.UTC())
				}
			}
			slices.SortFunc(got, func(a, b time.Time) int { return a.Compare(b) })
			got = slices.CompactFunc(got, func(a, b time.Time) bool { return a.Equal(b) })
			if len(got) < n {
				t.Fatalf("%v: systemd gave %d times: %v", trig.OnCalendar, len(got), got)
			}
			if !slices.EqualFunc(got[:n], want, func(a, b time.Time) bool { return a.Equal(b) }) {
				t.Fatalf("OnCalendar %q\nsystemd: %v\nschedule: %v", trig.OnCalendar, got[:n], want)
			}
		})
	}
}

func TestCalendarEveryAndErrors(t *testing.T) {
	trig, err := Calendar("@every 90m", "")
	if err != nil || trig.Every != 90*time.Minute || trig.OnCalendar != nil {
		t.Fatalf("%+v %v", trig, err)
	}
	for _, bad := range []string{"", "* * *", "61 * * * *", "@every", "@every 1ms", "5-1 * * * *", "0 0 * * *x"} {
		if _, err := Calendar(bad, ""); err == nil {
			t.Errorf("Calendar(%q) translated", bad)
		}
	}
	if _, err := Calendar("0 0 * * *", "Mars/Olympus"); err == nil {
		t.Error("an unknown zone translated")
	}
}
