package retention

import (
	"fmt"
	"time"
)

// A period cuts time into calendar buckets in a time zone: hours, days
// (calendar dates), ISO weeks, months or years.
type period int

const (
	hourly period = iota
	daily
	weekly
	monthly
	yearly
)

var periodNames = [...]string{"hourly", "daily", "weekly", "monthly", "yearly"}

func (p period) String() string { return periodNames[p] }

// periodNamed returns the period a tier name stands for.
func periodNamed(name string) (period, bool) {
	for i, n := range periodNames {
		if n == name {
			return period(i), true
		}
	}
	return 0, false
}

// periodRank orders tier names: periods first, shortest first.
func periodRank(name string) int {
	if p, ok := periodNamed(name); ok {
		return int(p)
	}
	return len(periodNames)
}

// bucket is one calendar bucket: key compares buckets, label names it in
// a reason.
type bucket struct {
	key   int64
	label string
}

// bucketOf returns the bucket of t in loc.
//
// An hour is keyed by the instant its local full hour began, not by the
// wall-clock numbers: when clocks go back, 02:00 CEST and 02:00 CET are two
// hours, and the label's zone abbreviation tells them apart. The hour that
// clocks skip in spring has no instants, so it holds no snapshots.
func (p period) bucketOf(t time.Time, loc *time.Location) bucket {
	lt := t.In(loc)
	switch p {
	case hourly:
		start := lt.Add(-time.Duration(lt.Minute())*time.Minute - time.Duration(lt.Second())*time.Second - time.Duration(lt.Nanosecond()))
		return bucket{start.Unix(), start.Format("2006-01-02 15:04 MST")}
	case daily:
		y, m, d := lt.Date()
		return bucket{int64(y)*10000 + int64(m)*100 + int64(d), lt.Format("2006-01-02")}
	case weekly:
		y, w := lt.ISOWeek()
		return bucket{int64(y)*100 + int64(w), fmt.Sprintf("%04d-W%02d", y, w)}
	case monthly:
		return bucket{int64(lt.Year())*100 + int64(lt.Month()), lt.Format("2006-01")}
	default:
		return bucket{int64(lt.Year()), lt.Format("2006")}
	}
}

// bucketCounter keeps the newest snapshot of each of the last n buckets
// that hold a snapshot; it must see snapshots newest first. n < 0 means
// unlimited.
type bucketCounter struct {
	period period
	left   int
	seen   bool
	last   int64
}

// keep reports whether the snapshot at t opens a new bucket that still
// counts, and returns that bucket.
func (c *bucketCounter) keep(t time.Time, loc *time.Location) (bucket, bool) {
	if c.left == 0 {
		return bucket{}, false
	}
	b := c.period.bucketOf(t, loc)
	if c.seen && b.key == c.last {
		return b, false
	}
	c.seen, c.last = true, b.key
	if c.left > 0 {
		c.left--
	}
	return b, true
}
