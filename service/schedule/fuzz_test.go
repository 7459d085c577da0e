package schedule

import (
	"testing"
	"time"
)

// FuzzParse: any spec either fails with ErrSyntax or gives a schedule
// whose runs move forward, land on the schedule and repeat within its
// interval (plus what a zone's change of offset adds).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0 3 * * *", "@daily", "@every 90s", "*/7 1-5/2 1,15 jan-jun mon", "CRON_TZ=Europe/Berlin 30 2 * * *", "0 0 29 2 *", "TZ=America/New_York 30 * * * *"} {
		f.Add(s, int64(1774746000))
	}
	f.Fuzz(func(t *testing.T, spec string, unix int64) {
		s, err := Parse(spec, time.UTC)
		if err != nil {
			return
		}
		if s.Interval() <= 0 {
			t.Fatalf("%q: interval %v", spec, s.Interval())
		}
		at := time.Unix(unix%(1<<34), 0)
		for i := 0; i < 3; i++ {
			next := s.Next(at)
			if next.IsZero() {
				return // 29 February of a century year
			}
			if !next.After(at) {
				t.Fatalf("%q: Next(%v) = %v", spec, at, next)
			}
			// On a matching day: its own, or the day before when a
			// skipped wall time moved it past midnight.
			if s.Every() == 0 {
				w := next.In(s.Location())
				p := w.AddDate(0, 0, -1)
				if !s.matchDay(w.Year(), w.Month(), w.Day(), w.Weekday()) && !s.matchDay(p.Year(), p.Month(), p.Day(), p.Weekday()) {
					t.Fatalf("%q: Next(%v) = %v, not on a day of the schedule", spec, at, next)
				}
			}
			// A day's run may move by a daylight saving change, or by a
			// day a zone skipped (Pacific/Apia, 30 December 2011).
			if s.Every() == 0 && next.Sub(at) > s.Interval()+25*time.Hour && i > 0 {
				t.Fatalf("%q: %v after %v, longer than the interval %v", spec, next, at, s.Interval())
			}
			at = next
		}
	})
}
