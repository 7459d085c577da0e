package health

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Nagios is the report as one Nagios plugin status line (Nagios Plugin
// Development Guidelines): "STRATA CRITICAL - summary | perfdata", where
// each performance datum is 'label'=value[UOM];warn;crit;min;max.
func (rep *Report) Nagios() string {
	var b strings.Builder
	b.WriteString("STRATA " + strings.ToUpper(rep.Status.String()) + " - " + rep.Summary())
	var perf []string
	add := func(label string, value float64, uom string, warn, crit, lo, hi string) {
		perf = append(perf, perfDatum(label, value, uom, warn, crit, lo, hi))
	}
	for _, j := range rep.Jobs {
		if j.Newest != nil {
			add(j.Job+" age", math.Round(j.AgeSeconds), "s", thr(j.WarnAgeSeconds), thr(j.MaxAgeSeconds), "0", "")
		}
		add(j.Job+" snapshots", float64(j.Snapshots), "", "", "", "0", "")
		add(j.Job+" gaps", float64(j.Gaps), "", "0", "", "0", "")
	}
	if s := rep.Storage; s != nil && s.TotalBytes > 0 {
		add("storage", round(s.Percent, 2), "%", num(s.WarnPercent), num(s.CritPercent), "0", "100")
		add("storage used", float64(s.UsedBytes), "B", "", "", "0", strconv.FormatInt(s.TotalBytes, 10))
	}
	if c := rep.Check; c != nil && c.Time != nil {
		add("check age", math.Round(c.AgeSeconds), "s", thr(c.MaxAgeSeconds), "", "0", "")
		add("check errors", float64(c.Errors), "", "", "0", "0", "")
	}
	for _, s := range rep.Sources {
		add("rpo "+s.Source, math.Round(s.RPOSeconds), "s", "", "", "0", "")
		if s.RTOSeconds != nil {
			add("rto "+s.Source, round(*s.RTOSeconds, 3), "s", "", "", "0", "")
		}
	}
	if len(perf) > 0 {
		b.WriteString(" | " + strings.Join(perf, " "))
	}
	return b.String()
}

// Summary is the report in one sentence: its findings, worst first, or
// what is fine; either way followed by what is pending (the jobs without
// a snapshot, the check and the sources without a drill whose first run
// is not overdue), as the report's Pending fields say.
func (rep *Report) Summary() string {
	pending, pendingJobs := rep.pending()
	pendingNote := ""
	if len(pending) > 0 {
		pendingNote = fmt.Sprintf("pending (first run not overdue): %s", strings.Join(pending, ", "))
	}
	if len(rep.Findings) == 0 {
		n := len(rep.Jobs) - pendingJobs
		s := fmt.Sprintf("%d series within their limits", n)
		if n == 1 {
			s = "1 series within its limit"
		}
		switch {
		case n == 0 && len(pending) > 0:
			s = pendingNote
		case len(pending) > 0:
			s += ", " + pendingNote
		}
		if st := rep.Storage; st != nil && st.TotalBytes > 0 {
			s += fmt.Sprintf(", storage %.0f%%", st.Percent)
		}
		return s
	}
	msgs := make([]string, 0, len(rep.Findings)+1)
	for _, f := range rep.Findings {
		msgs = append(msgs, oneLine(f.Message))
	}
	if pendingNote != "" {
		msgs = append(msgs, pendingNote)
	}
	return strings.Join(msgs, "; ")
}

// pending names what is pending: the jobs (JobHealth.Pending) by name,
// "check" (CheckHealth.Pending), and "drill of SOURCE" (PendingDrills);
// jobs counts the jobs among them.
func (rep *Report) pending() (names []string, jobs int) {
	for _, j := range rep.Jobs {
		if j.Pending {
			names = append(names, j.Job)
		}
	}
	jobs = len(names)
	if rep.Check != nil && rep.Check.Pending {
		names = append(names, "check")
	}
	for _, d := range rep.PendingDrills {
		names = append(names, "drill of "+d.Source)
	}
	return names, jobs
}

// perfDatum writes one performance datum; a label's quote is doubled and
// its '=' (which would end it) and '|' (which would end the output) are
// replaced.
func perfDatum(label string, value float64, uom, warn, crit, lo, hi string) string {
	label = strings.NewReplacer("'", "''", "=", "_", "|", "/").Replace(oneLine(label))
	s := fmt.Sprintf("'%s'=%s%s;%s;%s;%s;%s", label, num(value), uom, warn, crit, lo, hi)
	return strings.TrimRight(s, ";")
}

// num writes a number without exponent and trailing zeros; 0 thresholds
// that mean "none" are left out by the callers passing "".
func num(v float64) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// thr writes a threshold; 0 is none.
func thr(v float64) string {
	if v == 0 {
		return ""
	}
	return num(v)
}

func round(v float64, digits int) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', digits, 64), 64)
	return f
}

// oneLine keeps a message on one line and out of the performance data.
func oneLine(s string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", "/")
}
