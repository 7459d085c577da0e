package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrSyntax marks a spec that is not a schedule.
var ErrSyntax = errors.New("invalid schedule")

// searchDays bounds the search for a run: eight years and a day cover the
// rarest day a cron spec can name (29 February).
const searchDays = 8*366 + 1

// Schedule is a parsed spec. The zero value is not usable; use Parse.
type Schedule struct {
	spec  string
	loc   *time.Location
	every time.Duration // "@every": the runs are its multiples; else 0

	minute, hour, dom, month, dow uint64 // bit i set: value i matches
	domStar, dowStar              bool   // the field was "*" (or "?")
	allHours                      bool
	interval                      time.Duration
}

type field struct {
	name     string
	min, max int
	names    []string // names[i] is value min+i
}

var (
	fMinute = field{name: "minute", min: 0, max: 59}
	fHour   = field{name: "hour", min: 0, max: 23}
	fDom    = field{name: "day of month", min: 1, max: 31}
	fMonth  = field{name: "month", min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}}
	fDow    = field{name: "day of week", min: 0, max: 7, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}}
)

var descriptors = map[string]string{
	"@hourly":   "0 * * * *",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@weekly":   "0 0 * * 0",
	"@monthly":  "0 0 1 * *",
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
}

// Parse reads spec in time zone loc (nil means UTC). A "CRON_TZ=ZONE " or
// "TZ=ZONE " prefix overrides loc.
func Parse(spec string, loc *time.Location) (*Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	s := &Schedule{spec: spec, loc: loc}
	rest := strings.TrimSpace(spec)
	if strings.HasPrefix(rest, "CRON_TZ=") || strings.HasPrefix(rest, "TZ=") {
		i := strings.IndexAny(rest, " \t")
		if i < 0 {
			return nil, fmt.Errorf("%w %q: a time zone and no schedule after it", ErrSyntax, spec)
		}
		name := rest[strings.IndexByte(rest, '=')+1 : i]
		z, err := LoadZone(name)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %v", ErrSyntax, spec, err)
		}
		s.loc = z
		rest = strings.TrimSpace(rest[i:])
	}
	if rest == "" {
		return nil, fmt.Errorf("%w: empty (want five cron fields like \"0 3 * * *\", @daily or \"@every 1h\")", ErrSyntax)
	}
	if d, ok := strings.CutPrefix(rest, "@every"); ok {
		if d == "" || (d[0] != ' ' && d[0] != '\t') {
			return nil, fmt.Errorf("%w %q: want \"@every DURATION\", like \"@every 90m\"", ErrSyntax, spec)
		}
		every, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil || every < time.Second || every%time.Second != 0 {
			return nil, fmt.Errorf("%w %q: want a whole number of seconds, 1s or more, like \"@every 90m\"", ErrSyntax, spec)
		}
		s.every, s.interval = every, every
		return s, nil
	}
	if strings.HasPrefix(rest, "@") {
		expanded, ok := descriptors[strings.ToLower(rest)]
		if !ok {
			return nil, fmt.Errorf("%w %q: unknown descriptor (known: @hourly, @daily, @weekly, @monthly, @yearly, @every DURATION)", ErrSyntax, spec)
		}
		rest = expanded
	}
	fields := strings.Fields(rest)
	if len(fields) != 5 {
		return nil, fmt.Errorf("%w %q: %d fields, want 5 (minute hour day-of-month month day-of-week)", ErrSyntax, spec, len(fields))
	}
	var err error
	bits := []*uint64{&s.minute, &s.hour, &s.dom, &s.month, &s.dow}
	for i, f := range []field{fMinute, fHour, fDom, fMonth, fDow} {
		if *bits[i], err = f.parse(fields[i]); err != nil {
			return nil, fmt.Errorf("%w %q: %v", ErrSyntax, spec, err)
		}
	}
	if s.dow&(1<<7) != 0 { // 7 is Sunday too
		s.dow = s.dow&^(1<<7) | 1
	}
	s.domStar = fields[2] == "*" || fields[2] == "?"
	s.dowStar = fields[4] == "*" || fields[4] == "?"
	s.allHours = s.hour == 1<<24-1
	s.interval = s.nominalInterval()
	if s.interval == 0 {
		return nil, fmt.Errorf("%w %q: it never runs (no such day)", ErrSyntax, spec)
	}
	return s, nil
}

// LoadZone resolves an IANA time zone name; "" and "UTC" are UTC, "Local"
// the machine's zone.
func LoadZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (want an IANA name like Europe/Berlin, UTC or Local)", name)
	}
	return loc, nil
}

func (f field) parse(s string) (uint64, error) {
	var bits uint64
	for _, part := range strings.Split(s, ",") {
		rangePart, stepPart, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepPart)
			if err != nil || n < 1 || n > f.max+1 {
				return 0, fmt.Errorf("%s: step %q: want a number from 1 to %d", f.name, stepPart, f.max+1)
			}
			step = n
		}
		lo, hi := f.min, f.max
		switch {
		case rangePart == "*" || rangePart == "?":
			if f.name == fDow.name {
				hi = 6
			}
		default:
			a, b, isRange := strings.Cut(rangePart, "-")
			var err error
			if lo, err = f.value(a); err != nil {
				return 0, err
			}
			hi = lo
			if isRange {
				if hi, err = f.value(b); err != nil {
					return 0, err
				}
				if hi < lo {
					return 0, fmt.Errorf("%s: range %q runs backwards", f.name, rangePart)
				}
			} else if hasStep {
				hi = f.max // "a/n": from a to the end
			}
		}
		for v := lo; v <= hi; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

func (f field) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < f.min || v > f.max {
		return 0, fmt.Errorf("%s: %q: want a number from %d to %d%s", f.name, s, f.min, f.max, f.nameHint())
	}
	return v, nil
}

func (f field) nameHint() string {
	if f.names == nil {
		return ""
	}
	return " or a name like " + f.names[1]
}

// String is the spec as given.
func (s *Schedule) String() string { return s.spec }

// Location is the time zone the schedule is read in.
func (s *Schedule) Location() *time.Location { return s.loc }

// Every is the duration of an "@every" schedule, else 0.
func (s *Schedule) Every() time.Duration { return s.every }

// Fields are the five fields of a cron schedule as parsed: the values
// each matches, ascending.
type Fields struct {
	Minute, Hour, DayOfMonth, Month []int
	DayOfWeek                       []int // 0 to 6, Sunday 0 (and 7 read as 0)
	// DayOfMonthStar and DayOfWeekStar: the field was "*" (or "?"). When
	// neither is, a day matches when either day field does (Vixie cron);
	// otherwise both must.
	DayOfMonthStar, DayOfWeekStar bool
}

// Fields returns the fields of a cron schedule; zero for "@every".
func (s *Schedule) Fields() Fields {
	if s.every > 0 {
		return Fields{}
	}
	values := func(bits uint64) []int {
		var out []int
		for v := 0; v < 64; v++ {
			if bits&(1<<uint(v)) != 0 {
				out = append(out, v)
			}
		}
		return out
	}
	return Fields{Minute: values(s.minute), Hour: values(s.hour), DayOfMonth: values(s.dom), Month: values(s.month),
		DayOfWeek: values(s.dow), DayOfMonthStar: s.domStar, DayOfWeekStar: s.dowStar}
}

// Interval is the longest time between two runs, daylight saving time
// aside: an hour for @hourly, a day for @daily, three days for
// "0 9 * * 1-5" (Friday to Monday). Health sets its default age limit from
// it.
func (s *Schedule) Interval() time.Duration { return s.interval }

// matchDay reports whether the schedule runs on the day d (any location).
func (s *Schedule) matchDay(y int, m time.Month, d int, wd time.Weekday) bool {
	if s.month&(1<<uint(m)) == 0 {
		return false
	}
	domOK := s.dom&(1<<uint(d)) != 0
	dowOK := s.dow&(1<<uint(wd)) != 0
	if !s.domStar && !s.dowStar {
		return domOK || dowOK // Vixie cron: either day field
	}
	return domOK && dowOK
}

// minutesOfDay lists the minutes after midnight the schedule runs at on a
// matching day, in order.
func (s *Schedule) minutesOfDay() []int {
	var out []int
	for h := 0; h < 24; h++ {
		if s.hour&(1<<uint(h)) == 0 {
			continue
		}
		for m := 0; m < 60; m++ {
			if s.minute&(1<<uint(m)) != 0 {
				out = append(out, h*60+m)
			}
		}
	}
	return out
}

// nominalInterval is the longest gap between runs in UTC over eight years
// from 2000 (a leap year), or 0 when it never runs.
func (s *Schedule) nominalInterval() time.Duration {
	mins := s.minutesOfDay()
	if len(mins) == 0 {
		return 0
	}
	longest := 0
	for i := 1; i < len(mins); i++ {
		longest = max(longest, mins[i]-mins[i-1])
	}
	first, last := mins[0], mins[len(mins)-1]
	start := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	prev, days := -1, 0
	for i := 0; i < searchDays; i++ {
		d := start.AddDate(0, 0, i)
		if !s.matchDay(d.Year(), d.Month(), d.Day(), d.Weekday()) {
			continue
		}
		days++
		if prev >= 0 {
			longest = max(longest, (i-prev)*1440+first-last)
		}
		prev = i
	}
	if days == 0 {
		return 0
	}
	if days == 1 { // runs once in eight years: say eight years
		longest = max(longest, searchDays*1440)
	}
	return time.Duration(longest) * time.Minute
}
