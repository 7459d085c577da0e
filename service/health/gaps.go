package health

import (
	"fmt"
	"math"
	"time"
)

// maxSlots bounds the slots gaps walks (an unlimited policy over years of
// hourly snapshots).
const maxSlots = 10000

// gaps returns the slots, oldest first, that passed without a snapshot of
// the series: for a tier named after a period its calendar buckets in loc
// (as retention cuts them), else intervals. Only the slots from the
// series' oldest snapshot on count, and only the last keep of them when
// the policy keeps a number (older ones were removed on purpose); a slot
// counts once it ended more than Grace ago (its run may still be going).
func gaps(sns []Snapshot, tier string, interval time.Duration, keep int, now time.Time, loc *time.Location) []string {
	if len(sns) == 0 {
		return nil
	}
	if p, ok := periodOf(tier); ok {
		return calendarGaps(sns, p, keep, now, loc)
	}
	if interval <= 0 {
		return nil
	}
	from := sns[0].Time
	if keep > 0 {
		from = maxTime(from, now.Add(-time.Duration(keep)*interval))
	}
	var missing []string
	for i := 1; i < len(sns); i++ {
		a, b := sns[i-1].Time, sns[i].Time
		if b.Before(from) || b.Sub(a) <= interval+Grace {
			continue
		}
		n := int(math.Round(float64(b.Sub(a))/float64(interval))) - 1
		for k := 1; k <= n && len(missing) < maxSlots; k++ {
			missing = append(missing, showTime(a.Add(time.Duration(k)*interval), loc))
		}
	}
	return missing
}

type period int

const (
	hour period = iota
	day
	week
	month
	year
)

func periodOf(tier string) (period, bool) {
	switch tier {
	case "hourly":
		return hour, true
	case "daily":
		return day, true
	case "weekly":
		return week, true
	case "monthly":
		return month, true
	case "yearly":
		return year, true
	}
	return 0, false
}

// start is the beginning of the bucket of p that holds t, in loc.
func (p period) start(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	y, m, d := t.Date()
	switch p {
	case hour:
		return time.Date(y, m, d, t.Hour(), 0, 0, 0, loc)
	case day:
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	case week:
		back := (int(t.Weekday()) + 6) % 7 // days since Monday (ISO weeks)
		return time.Date(y, m, d-back, 0, 0, 0, 0, loc)
	case month:
		return time.Date(y, m, 1, 0, 0, 0, 0, loc)
	}
	return time.Date(y, 1, 1, 0, 0, 0, 0, loc)
}

// next is the start of the bucket after the one starting at s.
func (p period) next(s time.Time, loc *time.Location) time.Time {
	switch p {
	case hour:
		return p.start(s.Add(time.Hour), loc)
	case day:
		return p.start(s.AddDate(0, 0, 1).Add(time.Hour), loc) // +1h: a day of 23 hours
	case week:
		return p.start(s.AddDate(0, 0, 7).Add(time.Hour), loc)
	case month:
		return s.AddDate(0, 1, 0)
	}
	return s.AddDate(1, 0, 0)
}

// prev is the start of the bucket before the one starting at s.
func (p period) prev(s time.Time, loc *time.Location) time.Time {
	return p.start(s.Add(-time.Second), loc)
}

func (p period) label(s time.Time) string {
	switch p {
	case hour:
		return s.Format("2006-01-02 15:04 MST")
	case day:
		return s.Format("2006-01-02")
	case week:
		y, w := s.ISOWeek()
		return fmt.Sprintf("%d-W%02d", y, w)
	case month:
		return s.Format("2006-01")
	}
	return s.Format("2006")
}

func calendarGaps(sns []Snapshot, p period, keep int, now time.Time, loc *time.Location) []string {
	held := map[int64]bool{}
	for _, sn := range sns {
		held[p.start(sn.Time, loc).Unix()] = true
	}
	from := p.start(sns[0].Time, loc)
	if keep > 0 {
		s := p.start(now, loc)
		for i := 1; i < keep && s.After(from); i++ {
			s = p.prev(s, loc)
		}
		from = maxTime(from, s)
	}
	var missing []string
	for s, n := from, 0; n < maxSlots; s, n = p.next(s, loc), n+1 {
		end := p.next(s, loc)
		if end.Add(Grace).After(now) {
			break
		}
		if !held[s.Unix()] {
			missing = append(missing, p.label(s))
		}
	}
	return missing
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Age writes a duration as people read an age: "45m", "26h", "3d4h".
func Age(d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	days, h := int(d.Hours())/24, int(d.Hours())%24
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, h)
}

// Bytes writes a size in binary units: "1.5 GiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
