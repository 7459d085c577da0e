package retention

import (
	"fmt"
	"strconv"
	"time"
)

// Duration is a calendar span for the keep-within rules: years, months
// and days are calendar units (time.AddDate in the policy's time zone, so
// a day across a daylight saving change is 23 or 25 hours), hours are
// absolute. It is written like restic's: "2d", "36h", "1y6m", "1y2m3d4h".
type Duration struct {
	Years, Months, Days, Hours int
}

// maxDurationPart bounds each number of a Duration, so AddDate never
// overflows; a million years is more than any policy needs.
const maxDurationPart = 1_000_000

// ParseDuration reads "1y2m3d4h": one or more numbers each followed by
// its unit, y (years), m (months), d (days) and h (hours), in that order
// and each at most once.
func ParseDuration(s string) (Duration, error) {
	var d Duration
	parts := []struct {
		unit byte
		dst  *int
	}{{'y', &d.Years}, {'m', &d.Months}, {'d', &d.Days}, {'h', &d.Hours}}
	rest, next := s, 0
	for rest != "" {
		digits := 0
		for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
			digits++
		}
		if digits == 0 || digits == len(rest) {
			return Duration{}, fmt.Errorf("invalid duration %q: want numbers with units y, m, d, h, like 2d, 36h or 1y6m", s)
		}
		unit := rest[digits]
		i := next
		for i < len(parts) && parts[i].unit != unit {
			i++
		}
		if i == len(parts) {
			return Duration{}, fmt.Errorf("invalid duration %q: unit %q out of order or unknown (units y, m, d, h, in that order)", s, unit)
		}
		n, err := strconv.Atoi(rest[:digits])
		if err != nil || n > maxDurationPart {
			return Duration{}, fmt.Errorf("invalid duration %q: %s%c is too large", s, rest[:digits], unit)
		}
		*parts[i].dst = n
		next = i + 1
		rest = rest[digits+1:]
	}
	if next == 0 {
		return Duration{}, fmt.Errorf("invalid duration %q: want numbers with units y, m, d, h, like 2d, 36h or 1y6m", s)
	}
	return d, nil
}

// String writes d as ParseDuration reads it; the zero Duration is "0h".
func (d Duration) String() string {
	var b []byte
	for _, p := range []struct {
		n    int
		unit byte
	}{{d.Years, 'y'}, {d.Months, 'm'}, {d.Days, 'd'}, {d.Hours, 'h'}} {
		if p.n != 0 {
			b = strconv.AppendInt(b, int64(p.n), 10)
			b = append(b, p.unit)
		}
	}
	if len(b) == 0 {
		return "0h"
	}
	return string(b)
}

// IsZero reports whether d spans nothing (the rule is off).
func (d Duration) IsZero() bool { return d == Duration{} }

// Before returns the instant d before t, counted in loc.
func (d Duration) Before(t time.Time, loc *time.Location) time.Time {
	return t.In(loc).AddDate(-d.Years, -d.Months, -d.Days).Add(-time.Duration(d.Hours) * time.Hour)
}

// After returns the instant d after t, counted in loc.
func (d Duration) After(t time.Time, loc *time.Location) time.Time {
	return t.In(loc).AddDate(d.Years, d.Months, d.Days).Add(time.Duration(d.Hours) * time.Hour)
}

// MarshalText writes d as a string ("1y6m") in a stored policy.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads what MarshalText wrote.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func (d Duration) validate() error {
	for _, n := range []int{d.Years, d.Months, d.Days, d.Hours} {
		if n < 0 || n > maxDurationPart {
			return fmt.Errorf("duration %v out of range", d)
		}
	}
	return nil
}
