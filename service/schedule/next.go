package schedule

import (
	"slices"
	"time"
)

// Next is the first run strictly after after, or the zero time when there
// is none within eight years (only a spec naming 29 February in a century
// year could). The result is in the schedule's location (UTC for @every).
func (s *Schedule) Next(after time.Time) time.Time {
	if s.every > 0 {
		// Truncate counts from the zero time, so runs do not depend on
		// when the daemon started.
		return after.UTC().Truncate(s.every).Add(s.every)
	}
	local := after.In(s.loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	// A gap-normalized run of the day before can land after midnight.
	day = day.AddDate(0, 0, -1)
	mins := s.minutesOfDay()
	for i := 0; i <= searchDays; i++ {
		d := day.AddDate(0, 0, i)
		if !s.matchDay(d.Year(), d.Month(), d.Day(), d.Weekday()) {
			continue
		}
		var best time.Time
		for _, m := range mins {
			for _, t := range s.instants(d.Add(time.Duration(m) * time.Minute)) {
				if t.After(after) && (best.IsZero() || t.Before(best)) {
					best = t
				}
			}
		}
		if !best.IsZero() {
			return best
		}
	}
	return time.Time{}
}

// instants are the instants a wall-clock time (given as a UTC time with
// the wall clock's fields) runs at in the schedule's location: one
// normally; the instant as far past a forward change as the wall time is
// past its start when the clock skips it; the first of the two when it
// occurs twice, or both when the schedule runs every hour.
func (s *Schedule) instants(wall time.Time) []time.Time {
	_, offBefore := wall.Add(-12 * time.Hour).Add(-offsetAt(wall, s.loc)).In(s.loc).Zone()
	_, offAfter := wall.Add(12 * time.Hour).Add(-offsetAt(wall, s.loc)).In(s.loc).Zone()
	if offBefore == offAfter {
		return []time.Time{wall.Add(-time.Duration(offBefore) * time.Second).In(s.loc)}
	}
	var exact, later []time.Time
	for _, off := range []int{offBefore, offAfter} {
		t := wall.Add(-time.Duration(off) * time.Second).In(s.loc)
		w := wallOf(t)
		switch {
		case w.Equal(wall):
			exact = append(exact, t)
		case w.After(wall):
			later = append(later, t)
		}
	}
	if len(exact) == 0 {
		// Skipped by a forward change: the instant read with the offset
		// before the change lies past the gap by as much as the wall
		// time lies into it.
		slices.SortFunc(later, func(a, b time.Time) int { return a.Compare(b) })
		return later[:min(1, len(later))]
	}
	slices.SortFunc(exact, func(a, b time.Time) int { return a.Compare(b) })
	exact = slices.CompactFunc(exact, func(a, b time.Time) bool { return a.Equal(b) })
	if !s.allHours {
		exact = exact[:1]
	}
	return exact
}

// offsetAt is loc's offset at about the wall time.
func offsetAt(wall time.Time, loc *time.Location) time.Duration {
	_, off := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), 0, 0, loc).Zone()
	return time.Duration(off) * time.Second
}

// wallOf is t's wall clock as a UTC time, to compare with a wall time.
func wallOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
}
