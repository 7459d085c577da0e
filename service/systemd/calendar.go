package systemd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"strata/service/schedule"
)

// ErrSchedule marks a schedule Calendar cannot translate.
var ErrSchedule = errors.New("schedule not translatable to systemd")

// Trigger is how a timer fires: at calendar times, or every Every.
type Trigger struct {
	OnCalendar []string
	Every      time.Duration
}

// cronField is the range of one cron field, for rendering its values.
type cronField struct {
	name     string
	min, max int
}

var (
	minuteField = cronField{name: "minute", min: 0, max: 59}
	hourField   = cronField{name: "hour", min: 0, max: 23}
	domField    = cronField{name: "day of month", min: 1, max: 31}
	monthField  = cronField{name: "month", min: 1, max: 12}
	dowField    = cronField{name: "day of week", min: 0, max: 6}
)

var weekdays = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// Calendar translates spec, read in zone (an IANA name, "Local", or ""
// for UTC; a CRON_TZ= or TZ= prefix wins), into a timer's trigger. The
// spec is read by service/schedule, as the daemon reads it, so the timer
// fires when the daemon would run the job.
func Calendar(spec, zone string) (Trigger, error) {
	loc, err := schedule.LoadZone(zone)
	if err != nil {
		return Trigger{}, fmt.Errorf("%w: %q: %v", ErrSchedule, spec, err)
	}
	s, err := schedule.Parse(spec, loc)
	if err != nil {
		return Trigger{}, fmt.Errorf("%w: %v", ErrSchedule, err)
	}
	if every := s.Every(); every > 0 {
		return Trigger{Every: every}, nil
	}
	f := s.Fields()
	suffix := ""
	if name := s.Location().String(); name != "Local" {
		suffix = " " + name
	}
	date := func(dow []int, dom []int) string {
		days := ""
		if len(dow) < 7 {
			days = weekdayList(dow) + " "
		}
		return days + "*-" + render(f.Month, monthField) + "-" + render(dom, domField) + " " +
			render(f.Hour, hourField) + ":" + render(f.Minute, minuteField) + ":00" + suffix
	}
	all := func(f cronField) []int { return span(f.min, f.max) }
	if !f.DayOfMonthStar && !f.DayOfWeekStar {
		// Cron: day of month OR day of week.
		return Trigger{OnCalendar: []string{date(all(dowField), f.DayOfMonth), date(f.DayOfWeek, all(domField))}}, nil
	}
	return Trigger{OnCalendar: []string{date(f.DayOfWeek, f.DayOfMonth)}}, nil
}

func span(a, b int) []int {
	var s []int
	for i := a; i <= b; i++ {
		s = append(s, i)
	}
	return s
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
