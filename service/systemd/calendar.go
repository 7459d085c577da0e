package systemd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrSchedule marks a schedule Calendar cannot translate.
var ErrSchedule = errors.New("schedule not translatable to systemd")

// descriptors are cron's shorthands as five fields (service/schedule
// reads the same).
var descriptors = map[string]string{
	"@hourly":   "0 * * * *",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@weekly":   "0 0 * * 0",
	"@monthly":  "0 0 1 * *",
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
}

// Trigger is how a timer fires: at calendar times, or every Every.
type Trigger struct {
	OnCalendar []string
	Every      time.Duration
}

type cronField struct {
	name     string
	min, max int
	names    []string
}

var (
	minuteField = cronField{name: "minute", min: 0, max: 59}
	hourField   = cronField{name: "hour", min: 0, max: 23}
	domField    = cronField{name: "day of month", min: 1, max: 31}
	monthField  = cronField{name: "month", min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}}
	dowField    = cronField{name: "day of week", min: 0, max: 7, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}}
)

var weekdays = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// Calendar translates spec, read in zone (an IANA name, "Local", or ""
// for UTC; a CRON_TZ= or TZ= prefix wins), into a timer's trigger.
func Calendar(spec, zone string) (Trigger, error) {
	rest := strings.TrimSpace(spec)
	if strings.HasPrefix(rest, "CRON_TZ=") || strings.HasPrefix(rest, "TZ=") {
		z, r, ok := strings.Cut(rest, " ")
		if !ok {
			return Trigger{}, fmt.Errorf("%w: %q: a time zone and no schedule", ErrSchedule, spec)
		}
		_, zone, _ = strings.Cut(z, "=")
		rest = strings.TrimSpace(r)
	}
	if d, ok := strings.CutPrefix(rest, "@every "); ok {
		every, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil || every < time.Second {
			return Trigger{}, fmt.Errorf("%w: %q: want @every and a duration of 1s or more", ErrSchedule, spec)
		}
		return Trigger{Every: every}, nil
	}
	if f, ok := descriptors[rest]; ok {
		rest = f
	}
	fields := strings.Fields(rest)
	if len(fields) != 5 {
		return Trigger{}, fmt.Errorf("%w: %q: want five cron fields, @hourly, @daily, @weekly, @monthly, @yearly or @every D", ErrSchedule, spec)
	}
	var sets [5][]int
	for i, f := range []cronField{minuteField, hourField, domField, monthField, dowField} {
		s, err := f.parse(fields[i])
		if err != nil {
			return Trigger{}, fmt.Errorf("%w: %q: %v", ErrSchedule, spec, err)
		}
		sets[i] = s
	}
	// Day of week 7 is Sunday, as 0.
	dows := map[int]bool{}
	for _, d := range sets[4] {
		dows[d%7] = true
	}
	sets[4] = sets[4][:0]
	for d := range 7 {
		if dows[d] {
			sets[4] = append(sets[4], d)
		}
	}
	suffix := ""
	switch zone {
	case "", "Local":
		if zone == "" {
			suffix = " UTC"
		}
	default:
		if _, err := time.LoadLocation(zone); err != nil {
			return Trigger{}, fmt.Errorf("%w: %q: time zone %q: %v", ErrSchedule, spec, zone, err)
		}
		suffix = " " + zone
	}
	date := func(dow []int, dom []int) string {
		s := ""
		if len(dow) < 7 {
			s = weekdayList(dow) + " "
		}
		return s + "*-" + render(sets[3], monthField) + "-" + render(dom, domField) + " " +
			render(sets[1], hourField) + ":" + render(sets[0], minuteField) + ":00" + suffix
	}
	all := func(f cronField) []int { return span(f.min, f.max) }
	domStar, dowStar := strings.HasPrefix(fields[2], "*"), strings.HasPrefix(fields[4], "*")
	if !domStar && !dowStar {
		// Cron: day of month OR day of week.
		return Trigger{OnCalendar: []string{date(all(dowField)[:7], sets[2]), date(sets[4], all(domField))}}, nil
	}
	return Trigger{OnCalendar: []string{date(sets[4], sets[2])}}, nil
}

func span(a, b int) []int {
	var s []int
	for i := a; i <= b; i++ {
		s = append(s, i)
	}
	return s
}

// parse reads a cron field into its sorted values.
func (f cronField) parse(s string) ([]int, error) {
	set := map[int]bool{}
	for _, item := range strings.Split(s, ",") {
		rng, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%s %q: bad step", f.name, item)
			}
			step = n
		}
		lo, hi := f.min, f.max
		if f.name == dowField.name && rng == "*" {
			hi = 6
		}
		switch {
		case rng == "*" || rng == "?":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(a); err != nil {
				return nil, err
			}
			if hi, err = f.value(b); err != nil {
				return nil, err
			}
			if lo > hi {
				return nil, fmt.Errorf("%s %q: range backwards", f.name, item)
			}
		default:
			v, err := f.value(rng)
			if err != nil {
				return nil, err
			}
			lo = v
			if !hasStep {
				hi = v
			}
		}
		for v := lo; v <= hi; v += step {
			set[v] = true
		}
	}
	var out []int
	for v := f.min; v <= f.max; v++ {
		if set[v] {
			out = append(out, v)
		}
	}
	return out, nil
}

func (f cronField) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < f.min || v > f.max {
		return 0, fmt.Errorf("%s %q: want %d to %d", f.name, s, f.min, f.max)
	}
	return v, nil
}

// render writes a set of values in systemd's syntax: "*", "a/step" for a
// progression running to the field's end, else a list of values and
// ranges "a..b". Hours and minutes are two digits.
func render(vals []int, f cronField) string {
	if len(vals) == f.max-f.min+1 {
		return "*"
	}
	num := func(v int) string {
		if f.name == minuteField.name || f.name == hourField.name {
			return fmt.Sprintf("%02d", v)
		}
		return strconv.Itoa(v)
	}
	if len(vals) >= 3 {
		step := vals[1] - vals[0]
		progression := step > 1
		for i := 2; i < len(vals) && progression; i++ {
			progression = vals[i]-vals[i-1] == step
		}
		if progression && vals[len(vals)-1]+step > f.max {
			return num(vals[0]) + "/" + strconv.Itoa(step)
		}
	}
	return runs(vals, num, "..")
}

// runs writes vals as a comma list of values and ranges a<sep>b.
func runs(vals []int, num func(int) string, sep string) string {
	var parts []string
	for i := 0; i < len(vals); {
		j := i
		for j+1 < len(vals) && vals[j+1] == vals[j]+1 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, num(vals[i]))
		case j == i+1:
			parts = append(parts, num(vals[i]), num(vals[j]))
		default:
			parts = append(parts, num(vals[i])+sep+num(vals[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

func weekdayList(days []int) string {
	return runs(days, func(d int) string { return weekdays[d] }, "..")
}
