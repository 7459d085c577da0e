package health

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"strata/repo/retention"
)

var now = time.Date(2026, 12, 7, 12, 30, 0, 0, time.UTC)

// series makes n snapshots of source and tier, the newest age old, every
// step apart.
func series(source, tier string, n int, age, step time.Duration) []Snapshot {
	var out []Snapshot
	for i := n - 1; i >= 0; i-- {
		out = append(out, Snapshot{ID: source[:1] + tier + strconv.Itoa(i), Time: now.Add(-age - time.Duration(i)*step), Source: source, Tier: tier})
	}
	return out
}

func finding(rep *Report, id string) *Finding {
	for i := range rep.Findings {
		if rep.Findings[i].ID == id {
			return &rep.Findings[i]
		}
	}
	return nil
}

func TestAgeLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tier   string
		age    time.Duration
		maxAge time.Duration
		want   Status
	}{
		{"daily fresh", "daily", 3 * time.Hour, 0, OK},
		{"daily 24h59m", "daily", 24*time.Hour + 59*time.Minute, 0, OK},
		{"daily 25h30m warns", "daily", 25*time.Hour + 30*time.Minute, 0, Warning},
		{"daily 26h01m critical (the 26 h default)", "daily", 26*time.Hour + time.Minute, 0, Critical},
		{"hourly 2h30m warns", "hourly", 150 * time.Minute, 0, Warning},
		{"hourly 3h05m critical", "hourly", 185 * time.Minute, 0, Critical},
		{"weekly 6 days", "weekly", 6 * 24 * time.Hour, 0, OK},
		{"weekly 8 days", "weekly", 8 * 24 * time.Hour, 0, Critical},
		{"daily with max_age 48h", "daily", 30 * time.Hour, 48 * time.Hour, OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step := TierInterval(tc.tier)
			sns := series("db", tc.tier, 3, tc.age, step)
			var jobs []Job
			if tc.maxAge > 0 {
				jobs = []Job{{Name: "j", Source: "db", Tier: tc.tier, MaxAge: tc.maxAge}}
			}
			rep := Evaluate(Inputs{Snapshots: sns}, Options{Now: now, Jobs: jobs})
			if rep.Status != tc.want || rep.ExitCode != int(tc.want) {
				t.Fatalf("status %v (exit %d), want %v: %+v", rep.Status, rep.ExitCode, tc.want, rep.Findings)
			}
			j := rep.Jobs[0]
			if j.AgeSeconds != tc.age.Seconds() || j.Snapshots != 3 {
				t.Errorf("job %+v", j)
			}
		})
	}
}

func TestConfiguredJobWithoutSnapshotsIsCritical(t *testing.T) {
	rep := Evaluate(Inputs{Snapshots: series("db", "hourly", 2, time.Minute, time.Hour)}, Options{Now: now, Jobs: []Job{
		{Name: "db-hourly", Source: "db", Tier: "hourly", Interval: time.Hour},
		{Name: "db-daily", Source: "db", Tier: "daily", Interval: 24 * time.Hour},
	}})
	f := finding(rep, "age db-daily")
	if rep.Status != Critical || f == nil || !strings.Contains(f.Message, "no snapshot") {
		t.Fatalf("%v %+v", rep.Status, rep.Findings)
	}
	if finding(rep, "age db-hourly") != nil {
		t.Errorf("the fresh job has a finding: %+v", rep.Findings)
	}
}

func TestGaps(t *testing.T) {
	sns := series("db", "hourly", 24, 10*time.Minute, time.Hour)
	// Remove the snapshots of 05:20 and 08:20.
	var kept []Snapshot
	for _, sn := range sns {
		if h := sn.Time.Hour(); h != 5 && h != 8 {
			kept = append(kept, sn)
		}
	}
	p := &retention.Policy{Tiers: map[string]int{"hourly": 24}}
	rep := Evaluate(Inputs{Snapshots: kept, Policy: p}, Options{Now: now})
	j := rep.Jobs[0]
	if j.Gaps != 2 || strings.Join(j.MissingSlots, ",") != "2026-12-07 05:00 UTC,2026-12-07 08:00 UTC" {
		t.Fatalf("gaps %d %v", j.Gaps, j.MissingSlots)
	}
	if f := finding(rep, "gaps db hourly"); f == nil || f.Status != Warning {
		t.Fatalf("%+v", rep.Findings)
	}
	if j.Keep != 24 || j.Snapshots != 22 {
		t.Errorf("keep %d, snapshots %d", j.Keep, j.Snapshots)
	}
	// The slots before the window the policy keeps do not count.
	old := append(series("db", "daily", 1, 40*24*time.Hour, 0), series("db", "daily", 30, time.Hour, 24*time.Hour)...)
	rep = Evaluate(Inputs{Snapshots: old, Policy: &retention.Policy{Daily: 30}}, Options{Now: now})
	if rep.Jobs[0].Gaps != 0 {
		t.Errorf("gaps before the kept window: %v", rep.Jobs[0].MissingSlots)
	}
	// A slot whose run may still be going is not a gap: the newest hourly
	// is 1h50m old, its hour ended 1h30m ago, within the grace.
	rep = Evaluate(Inputs{Snapshots: series("db", "hourly", 5, 110*time.Minute, time.Hour)}, Options{Now: now})
	if rep.Jobs[0].Gaps != 0 {
		t.Errorf("gaps within the grace: %v", rep.Jobs[0].MissingSlots)
	}
}

func TestCountAgainstPolicy(t *testing.T) {
	p := &retention.Policy{Tiers: map[string]int{"daily": 7}}
	// 4 daily snapshots over 10 days: fewer than kept, and gaps.
	sns := []Snapshot{}
	for _, d := range []int{10, 9, 5, 1} {
		sns = append(sns, Snapshot{ID: "d" + strconv.Itoa(d), Time: now.Add(-time.Duration(d) * 24 * time.Hour), Source: "db", Tier: "daily"})
	}
	rep := Evaluate(Inputs{Snapshots: sns, Policy: p}, Options{Now: now})
	if f := finding(rep, "count db daily"); f == nil || !strings.Contains(f.Message, "4 snapshots where the policy keeps 7") {
		t.Fatalf("%+v", rep.Findings)
	}
	// 20 where 7 are kept: forget does not run.
	rep = Evaluate(Inputs{Snapshots: series("db", "daily", 20, time.Hour, 24*time.Hour), Policy: p}, Options{Now: now})
	if f := finding(rep, "count db daily"); f == nil || !strings.Contains(f.Message, "does forget run") {
		t.Fatalf("%+v", rep.Findings)
	}
	// A series still filling up is fine.
	rep = Evaluate(Inputs{Snapshots: series("db", "daily", 3, time.Hour, 24*time.Hour), Policy: p}, Options{Now: now})
	if rep.Status != OK {
		t.Fatalf("%+v", rep.Findings)
	}
}

func TestCheckDrillStorageRPO(t *testing.T) {
	sns := series("postgres://db1/shop", "daily", 2, 2*time.Hour, 24*time.Hour)
	in := Inputs{
		Snapshots: sns,
		LastCheck: &CheckRun{Time: now.Add(-9 * 24 * time.Hour), OK: false, Errors: 2},
		Drills: []DrillRun{
			{Time: now.Add(-time.Hour), Source: "postgres://db1/shop", OK: true, RestoreSeconds: 12.5, Tables: 3},
			{Time: now.Add(-time.Hour), Source: "sqlite:/a.db", OK: false, Tables: 2, FailedTables: 1},
		},
		Usage: &Usage{Method: "quota", UsedBytes: 85, TotalBytes: 100, StoredBytes: 85},
	}
	rep := Evaluate(in, Options{Now: now, CheckMaxAge: 8 * 24 * time.Hour})
	if rep.Status != Critical {
		t.Fatalf("status %v", rep.Status)
	}
	if c := rep.Check; c.Status != Critical || c.Errors != 2 || c.AgeSeconds != (9*24*time.Hour).Seconds() {
		t.Errorf("check %+v", c)
	}
	if f := finding(rep, "drill sqlite:/a.db"); f == nil || f.Status != Critical || !strings.Contains(f.Message, "1 table of 2 failed") {
		t.Errorf("drill finding %+v", rep.Findings)
	}
	if s := rep.Storage; s.Status != Warning || s.Percent != 85 || finding(rep, "storage") == nil {
		t.Errorf("storage %+v", s)
	}
	if len(rep.Sources) != 1 || rep.Sources[0].RPOSeconds != 7200 || rep.Sources[0].RTOSeconds == nil || *rep.Sources[0].RTOSeconds != 12.5 {
		t.Errorf("sources %+v", rep.Sources)
	}
	in.Usage.UsedBytes = 90
	if rep := Evaluate(in, Options{Now: now}); rep.Storage.Status != Critical {
		t.Errorf("90%% is %v", rep.Storage.Status)
	}
	in.Usage.UsedBytes = 79
	if rep := Evaluate(in, Options{Now: now}); rep.Storage.Status != OK || finding(rep, "storage") != nil {
		t.Errorf("79%% is %v", rep.Storage.Status)
	}
	// A configured drill that never ran warns.
	rep = Evaluate(Inputs{Snapshots: sns}, Options{Now: now, DrillMaxAge: 8 * 24 * time.Hour, DrillSources: []string{"postgres://db1/shop"}})
	if f := finding(rep, "drill postgres://db1/shop"); f == nil || f.Status != Warning {
		t.Errorf("%+v", rep.Findings)
	}
}

// perfRE is one Nagios performance datum: 'label'=value[UOM];warn;crit;min;max.
var perfRE = regexp.MustCompile(`^'((?:[^']|'')+)'=(-?[0-9.]+)([a-zA-Z%]*)(?:;([0-9.]*)(?:;([0-9.]*)(?:;([0-9.]*)(?:;([0-9.]*))?)?)?)?$`)

func TestNagiosLine(t *testing.T) {
	in := Inputs{
		Snapshots: append(series("it's", "daily", 2, 27*time.Hour, 24*time.Hour), series("it's", "hourly", 3, 10*time.Minute, time.Hour)...),
		Usage:     &Usage{Method: "filesystem", UsedBytes: 50, TotalBytes: 200},
		Drills:    []DrillRun{{Time: now, Source: "it's", OK: true, RestoreSeconds: 1.25}},
	}
	line := Evaluate(in, Options{Now: now}).Nagios()
	if strings.Contains(line, "\n") {
		t.Fatalf("more than one line: %q", line)
	}
	text, perf, ok := strings.Cut(line, " | ")
	if !ok || !strings.HasPrefix(text, "STRATA CRITICAL - it's daily: newest snapshot") {
		t.Fatalf("%q", line)
	}
	got := map[string][]string{}
	for _, d := range splitPerf(t, perf) {
		m := perfRE.FindStringSubmatch(d)
		if m == nil {
			t.Fatalf("datum %q of %q does not parse", d, perf)
		}
		got[strings.ReplaceAll(m[1], "''", "'")] = m[2:]
	}
	want := map[string][]string{
		"it's daily age":       {"97200", "s", "90000", "93600", "0", ""},
		"it's hourly gaps":     {"0", "", "0", "", "0", ""},
		"storage":              {"25", "%", "80", "90", "0", "100"},
		"rto it's":             {"1.25", "s", "", "", "0", ""},
		"it's daily snapshots": {"2", "", "", "", "0", ""},
	}
	for k, w := range want {
		if strings.Join(got[k], ",") != strings.Join(w, ",") {
			t.Errorf("%s: %v, want %v", k, got[k], w)
		}
	}
}

// splitPerf splits performance data at the spaces outside quoted labels.
func splitPerf(t *testing.T, perf string) []string {
	var out []string
	for perf != "" {
		if perf[0] != '\'' {
			t.Fatalf("a datum does not start with a quoted label: %q", perf)
		}
		i := 1
		for {
			j := strings.IndexByte(perf[i:], '\'')
			if j < 0 {
				t.Fatalf("unterminated label in %q", perf)
			}
			i += j + 1
			if i < len(perf) && perf[i] == '\'' {
				i++ // a doubled quote
				continue
			}
			break
		}
		end := strings.IndexByte(perf[i:], ' ')
		if end < 0 {
			out, perf = append(out, perf), ""
			break
		}
		out, perf = append(out, perf[:i+end]), perf[i+end+1:]
	}
	return out
}

// TestPendingFirstRun: a configured job without a snapshot is pending
// (OK, with a note) until its first due time plus its limit, and
// critical after; without a first due time it is critical as before.
func TestPendingFirstRun(t *testing.T) {
	daily := func(firstDue time.Time) []Job {
		return []Job{{Name: "db-daily", Source: "db", Tier: "daily", Interval: 24 * time.Hour, FirstDue: firstDue}}
	}
	for _, tc := range []struct {
		name     string
		firstDue time.Time
		want     Status
		pending  bool
	}{
		{"first run ahead", now.Add(5 * time.Hour), OK, true},
		{"first run passed, within the limit", now.Add(-20 * time.Hour), OK, true},
		{"first run overdue", now.Add(-27 * time.Hour), Critical, false},
		{"first due unknown", time.Time{}, Critical, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Evaluate(Inputs{}, Options{Now: now, Jobs: daily(tc.firstDue)})
			j := rep.Jobs[0]
			if rep.Status != tc.want || j.Pending != tc.pending || j.Status != tc.want {
				t.Fatalf("status %v (job %v, pending %v), want %v (pending %v): %v %v", rep.Status, j.Status, j.Pending, tc.want, tc.pending, rep.Findings, rep.Notes)
			}
			if tc.pending {
				if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "db-daily: pending: no snapshot yet") || !strings.Contains(rep.Summary(), "pending") || !strings.HasPrefix(rep.Nagios(), "STRATA OK - pending") {
					t.Fatalf("notes %q, summary %q, nagios %q", rep.Notes, rep.Summary(), rep.Nagios())
				}
			}
			if tc.want == Critical && !tc.firstDue.IsZero() && !strings.Contains(finding(rep, "age db-daily").Message, "its first run was due") {
				t.Fatalf("finding %+v", rep.Findings)
			}
		})
	}
}

// TestStateFolderUnwritable: a state folder the daemon cannot write is
// a critical finding "state", gone once it can.
func TestStateFolderUnwritable(t *testing.T) {
	since := now.Add(-time.Hour)
	rep := Evaluate(Inputs{StateFolder: &StateFolder{Dir: "/var/lib/strata", Error: "no space left on device", Since: since}}, Options{Now: now, Jobs: []Job{}})
	f := finding(rep, "state")
	if rep.Status != Critical || f == nil || f.Status != Critical || !strings.Contains(f.Message, "/var/lib/strata cannot be written since 2026-12-07 11:30 UTC (no space left on device)") ||
		rep.StateFolder == nil || rep.StateFolder.Status != Critical {
		t.Fatalf("report %+v", rep)
	}
	rep = Evaluate(Inputs{StateFolder: &StateFolder{Dir: "/var/lib/strata"}}, Options{Now: now, Jobs: []Job{}})
	if rep.Status != OK || finding(rep, "state") != nil || rep.StateFolder.Status != OK {
		t.Fatalf("writable folder: %+v", rep)
	}
}
