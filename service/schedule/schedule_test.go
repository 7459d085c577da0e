package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("time zone %s: %v", name, err)
	}
	return loc
}

// runs lists the n runs after start, formatted in the schedule's zone.
func runs(t *testing.T, s *Schedule, start time.Time, n int) []string {
	t.Helper()
	var out []string
	at := start
	for i := 0; i < n; i++ {
		next := s.Next(at)
		if next.IsZero() {
			t.Fatalf("%q: no run after %v", s, at)
		}
		if !next.After(at) {
			t.Fatalf("%q: Next(%v) = %v, not after it", s, at, next)
		}
		out = append(out, next.Format("2006-01-02 15:04:05 MST"))
		at = next
	}
	return out
}

func TestNext(t *testing.T) {
	utc := time.UTC
	start := time.Date(2026, 1, 30, 22, 17, 0, 0, utc) // a Friday
	for _, tc := range []struct {
		spec string
		want []string
	}{
		{"@hourly", []string{"2026-01-30 23:00:00 UTC", "2026-01-31 00:00:00 UTC", "2026-01-31 01:00:00 UTC"}},
		{"@daily", []string{"2026-01-31 00:00:00 UTC", "2026-02-01 00:00:00 UTC"}},
		{"@weekly", []string{"2026-02-01 00:00:00 UTC", "2026-02-08 00:00:00 UTC"}},
		{"@monthly", []string{"2026-02-01 00:00:00 UTC", "2026-03-01 00:00:00 UTC"}},
		{"@yearly", []string{"2027-01-01 00:00:00 UTC"}},
		{"*/20 * * * *", []string{"2026-01-30 22:20:00 UTC", "2026-01-30 22:40:00 UTC", "2026-01-30 23:00:00 UTC"}},
		{"0 9 * * mon-fri", []string{"2026-02-02 09:00:00 UTC", "2026-02-03 09:00:00 UTC"}},
		{"30 2 31 * *", []string{"2026-01-31 02:30:00 UTC", "2026-03-31 02:30:00 UTC"}},
		{"0 0 29 feb *", []string{"2028-02-29 00:00:00 UTC"}},
		{"0 12 13 * 5", []string{"2026-02-06 12:00:00 UTC", "2026-02-13 12:00:00 UTC", "2026-02-20 12:00:00 UTC"}}, // 13th or Friday
		{"0 0 * * 7", []string{"2026-02-01 00:00:00 UTC"}},                                                         // 7 is Sunday
		{"15 10/6 * * *", []string{"2026-01-31 10:15:00 UTC", "2026-01-31 16:15:00 UTC", "2026-01-31 22:15:00 UTC"}},
		{"0 1,13 * JAN,feb *", []string{"2026-01-31 01:00:00 UTC", "2026-01-31 13:00:00 UTC"}},
		{"CRON_TZ=Asia/Tokyo 0 3 * * *", []string{"2026-02-01 03:00:00 JST", "2026-02-02 03:00:00 JST"}}, // 07:17 JST on the 31st,
		{"TZ=Asia/Kolkata 0 3 * * *", []string{"2026-02-01 03:00:00 IST"}},
		{"@every 10s", []string{"2026-01-30 22:17:10 UTC", "2026-01-30 22:17:20 UTC"}},
		{"@every 90m", []string{"2026-01-30 22:30:00 UTC", "2026-01-31 00:00:00 UTC"}},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := Parse(tc.spec, utc)
			if err != nil {
				t.Fatal(err)
			}
			got := runs(t, s, start, len(tc.want))
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("runs\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestNextDST crosses both changes of clocks in Berlin (last Sunday of
// March 02:00 -> 03:00, last Sunday of October 03:00 -> 02:00) and New York
// (whose Go time.Date resolves skipped and repeated times the other way
// round from Berlin's, so both directions of normalization are covered).
func TestNextDST(t *testing.T) {
	berlin, ny := mustZone(t, "Europe/Berlin"), mustZone(t, "America/New_York")
	for _, tc := range []struct {
		name  string
		spec  string
		loc   *time.Location
		start time.Time
		want  []string
	}{
		{"skipped time runs after the jump", "30 2 * * *", berlin, time.Date(2026, 3, 28, 12, 0, 0, 0, berlin),
			[]string{"2026-03-29 03:30:00 CEST", "2026-03-30 02:30:00 CEST"}},
		{"skipped time runs after the jump (New York)", "30 2 * * *", ny, time.Date(2026, 3, 7, 12, 0, 0, 0, ny),
			[]string{"2026-03-08 03:30:00 EDT", "2026-03-09 02:30:00 EDT"}},
		{"repeated time runs once", "30 2 * * *", berlin, time.Date(2026, 10, 24, 12, 0, 0, 0, berlin),
			[]string{"2026-10-25 02:30:00 CEST", "2026-10-26 02:30:00 CET"}},
		{"repeated time runs once (New York)", "30 1 * * *", ny, time.Date(2026, 10, 31, 12, 0, 0, 0, ny),
			[]string{"2026-11-01 01:30:00 EDT", "2026-11-02 01:30:00 EST"}},
		{"hourly runs in both repeated hours", "30 * * * *", berlin, time.Date(2026, 10, 25, 1, 0, 0, 0, berlin),
			[]string{"2026-10-25 01:30:00 CEST", "2026-10-25 02:30:00 CEST", "2026-10-25 02:30:00 CET", "2026-10-25 03:30:00 CET"}},
		{"hourly skips the missing hour", "0 * * * *", berlin, time.Date(2026, 3, 29, 0, 30, 0, 0, berlin),
			[]string{"2026-03-29 01:00:00 CET", "2026-03-29 03:00:00 CEST", "2026-03-29 04:00:00 CEST"}},
		{"daily keeps wall clock across the change", "0 3 * * *", ny, time.Date(2026, 3, 7, 12, 0, 0, 0, ny),
			[]string{"2026-03-08 03:00:00 EDT", "2026-03-09 03:00:00 EDT"}},
		{"every counts real time", "@every 1h", berlin, time.Date(2026, 10, 25, 1, 30, 0, 0, berlin),
			[]string{"2026-10-25 00:00:00 UTC", "2026-10-25 01:00:00 UTC", "2026-10-25 02:00:00 UTC"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.spec, tc.loc)
			if err != nil {
				t.Fatal(err)
			}
			got := runs(t, s, tc.start, len(tc.want))
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("runs\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestInterval(t *testing.T) {
	for spec, want := range map[string]time.Duration{
		"@hourly":                         time.Hour,
		"@daily":                          24 * time.Hour,
		"@weekly":                         7 * 24 * time.Hour,
		"@monthly":                        31 * 24 * time.Hour,
		"0 9 * * 1-5":                     72 * time.Hour,
		"*/15 * * * *":                    15 * time.Minute,
		"0 2,14 * * *":                    12 * time.Hour,
		"0 1 * * *":                       24 * time.Hour,
		"* * 1 * *":                       30*24*time.Hour + time.Minute, // 1 Jan 23:59 to 1 Feb 00:00
		"@every 10s":                      10 * time.Second,
		"CRON_TZ=Europe/Berlin 0 3 * * *": 24 * time.Hour,
	} {
		s, err := Parse(spec, nil)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if got := s.Interval(); got != want {
			t.Errorf("%s: Interval %v, want %v", spec, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for spec, want := range map[string]string{
		"":                               "empty",
		"0 3 * *":                        "4 fields, want 5",
		"60 * * * *":                     "minute: \"60\": want a number from 0 to 59",
		"0 24 * * *":                     "hour",
		"0 0 0 * *":                      "day of month",
		"0 0 * 13 *":                     "month",
		"0 0 * * 8":                      "day of week",
		"0 0 * * funday":                 "or a name like mon",
		"5-1 * * * *":                    "runs backwards",
		"*/0 * * * *":                    "step",
		"0 0 30 2 *":                     "never runs",
		"@fortnightly":                   "unknown descriptor",
		"@every":                         "@every DURATION",
		"@every 500ms":                   "whole number of seconds",
		"@every -1h":                     "whole number of seconds",
		"@everyday":                      "@every DURATION",
		"CRON_TZ=Mars/Olympus 0 3 * * *": "unknown time zone",
		"CRON_TZ=UTC":                    "no schedule after it",
	} {
		_, err := Parse(spec, time.UTC)
		if err == nil || !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want ErrSyntax containing %q", spec, err, want)
		}
	}
}
