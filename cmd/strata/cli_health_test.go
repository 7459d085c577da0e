package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"strata/service/health"
)

// healthJSON runs `health --json` that must exit with want.
func (c *tcli) healthJSON(want int, flags ...string) *health.Report {
	c.t.Helper()
	out, _ := c.code(want, append([]string{"health", "--json"}, flags...)...)
	var rep health.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		c.t.Fatalf("health --json: %v\n%s", err, out)
	}
	if rep.ExitCode != want {
		c.t.Fatalf("exit_code %d, exit %d", rep.ExitCode, want)
	}
	return &rep
}

// at is a --time value age ago.
func at(age time.Duration) string { return time.Now().Add(-age).UTC().Format(time.RFC3339) }

func findingOf(rep *health.Report, id string) *health.Finding {
	for i := range rep.Findings {
		if rep.Findings[i].ID == id {
			return &rep.Findings[i]
		}
	}
	return nil
}

func TestHealthFresh(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	data := sampleData(t)
	c.backupStdin(data, "db.sql", "--tier", "hourly")
	c.backupStdin(data, "db.sql", "--tier", "daily", "--time", at(2*time.Hour))
	out := c.ok("health")
	if !strings.HasPrefix(out, "OK: 2 series within their limits") || !strings.Contains(out, "stdin:db.sql daily") || !strings.Contains(out, "of its filesystem") {
		t.Fatalf("health:\n%s", out)
	}
	rep := c.healthJSON(0)
	if len(rep.Jobs) != 2 || rep.Jobs[0].Tier != "hourly" || rep.Jobs[1].Tier != "daily" || rep.Jobs[1].MaxAgeSeconds != 26*3600 {
		t.Fatalf("jobs %+v", rep.Jobs)
	}
	if rep.Storage == nil || rep.Storage.Method != "filesystem" || rep.Storage.StoredBytes <= 0 || rep.Storage.StoredBytes > c.repoSize() {
		t.Fatalf("storage %+v (repository %d bytes)", rep.Storage, c.repoSize())
	}
	if len(rep.Sources) != 1 || rep.Sources[0].RPOSeconds > 600 {
		t.Fatalf("sources %+v", rep.Sources)
	}
	// An empty repository is OK: nothing is promised without a config.
	e := newCLI(t)
	e.ok("init")
	if out := e.ok("health"); !strings.Contains(out, "no snapshots") {
		t.Fatalf("empty: %s", out)
	}
}

func TestHealthStaleDaily(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	data := sampleData(t)
	c.backupStdin(data, "db.sql", "--tier", "hourly")
	c.backupStdin(data, "db.sql", "--tier", "daily", "--time", at(27*time.Hour))
	rep := c.healthJSON(2)
	f := findingOf(rep, "age stdin:db.sql daily")
	if f == nil || f.Status != health.Critical || !strings.Contains(f.Message, "more than the limit of 26h") {
		t.Fatalf("findings %+v", rep.Findings)
	}
	out, _ := c.code(2, "health")
	if !strings.HasPrefix(out, "CRITICAL: stdin:db.sql daily: newest snapshot") {
		t.Fatalf("health:\n%s", out)
	}
	// 25h30m: within the limit, in the last hour before it.
	w := newCLI(t)
	w.ok("init")
	w.backupStdin(data, "db.sql", "--tier", "daily", "--time", at(25*time.Hour+30*time.Minute))
	rep = w.healthJSON(1)
	if f := findingOf(rep, "age stdin:db.sql daily"); f == nil || f.Status != health.Warning {
		t.Fatalf("findings %+v", rep.Findings)
	}
}

func TestHealthStorageQuota(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin(sampleData(t), "db.sql", "--tier", "hourly")
	stored := c.healthJSON(0, "--quota", "1T").Storage.StoredBytes
	if stored <= 0 {
		t.Fatalf("stored %d", stored)
	}
	for _, tc := range []struct {
		percent float64
		want    int
	}{{50, 0}, {85, 1}, {95, 2}} {
		quota := int64(float64(stored) * 100 / tc.percent)
		rep := c.healthJSON(tc.want, "--quota", strconv.FormatInt(quota, 10))
		s := rep.Storage
		if s.Method != "quota" || s.TotalBytes != quota || s.UsedBytes != stored || s.Percent < tc.percent-0.1 || s.Percent > tc.percent+0.1 {
			t.Fatalf("%v%%: %+v", tc.percent, s)
		}
		if tc.want > 0 && findingOf(rep, "storage") == nil {
			t.Fatalf("%v%%: no storage finding", tc.percent)
		}
	}
	// Thresholds of one's own.
	quota := strconv.FormatInt(stored*2, 10)
	c.healthJSON(1, "--quota", quota, "--storage-warn", "40", "--storage-critical", "60")
	c.code(1, "health", "--quota", "nonsense")
}

// nagiosRE is a Nagios plugin's status line: SERVICE STATUS - text | perfdata.
var nagiosRE = regexp.MustCompile(`^STRATA (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+?)(?: \| (.*))?\n$`)

// perfDatumRE is one datum: 'label'=value[UOM];warn;crit;min;max.
var perfDatumRE = regexp.MustCompile(`'((?:[^']|'')+)'=(-?[0-9.]+)(s|%|B|c|)((?:;[0-9.]*){0,4})(?: |$)`)

func TestHealthNagios(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	data := sampleData(t)
	c.backupStdin(data, "db.sql", "--tier", "hourly")
	c.backupStdin(data, "db.sql", "--tier", "daily", "--time", at(27*time.Hour))
	stored := c.healthJSON(2, "--quota", "1T").Storage.StoredBytes
	out, _ := c.code(2, "health", "--nagios", "--quota", fmt.Sprint(stored*100/85))
	m := nagiosRE.FindStringSubmatch(out)
	if m == nil || m[1] != "CRITICAL" || !strings.Contains(m[2], "newest snapshot") || !strings.Contains(m[2], "storage: 85.") {
		t.Fatalf("%q", out)
	}
	perf := map[string][]string{}
	rest := m[3]
	for rest != "" {
		d := perfDatumRE.FindStringSubmatchIndex(rest)
		if d == nil || d[0] != 0 {
			t.Fatalf("performance data do not parse at %q", rest)
		}
		sub := perfDatumRE.FindStringSubmatch(rest)
		perf[strings.ReplaceAll(sub[1], "''", "'")] = []string{sub[2], sub[3], sub[4]}
		rest = rest[d[1]:]
	}
	if p := perf["stdin:db.sql daily age"]; p == nil || p[1] != "s" || p[2] != ";90000;93600;0" {
		t.Fatalf("daily age %v in %v", p, perf)
	}
	if age, _ := strconv.ParseFloat(perf["stdin:db.sql daily age"][0], 64); age < 27*3600 || age > 28*3600 {
		t.Fatalf("daily age %v", age)
	}
	if p := perf["storage"]; p == nil || p[1] != "%" || p[2] != ";80;90;0;100" {
		t.Fatalf("storage %v", p)
	}
	if p := perf["rpo stdin:db.sql"]; p == nil || p[1] != "s" {
		t.Fatalf("rpo %v", p)
	}
	// OK, and unknown where there is no repository.
	f := newCLI(t)
	f.ok("init")
	f.backupStdin(data, "db.sql", "--tier", "hourly")
	if out := f.ok("health", "--nagios", "--quota", "1T"); !strings.HasPrefix(out, "STRATA OK - 1 series within its limit, storage 0% | ") {
		t.Fatalf("%q", out)
	}
	n := newCLI(t)
	out, errOut := n.code(3, "health", "--nagios")
	if m := nagiosRE.FindStringSubmatch(out); m == nil || m[1] != "UNKNOWN" || !strings.Contains(m[2], "no repository") || !strings.Contains(errOut, "no repository") {
		t.Fatalf("%q %q", out, errOut)
	}
	n.code(3, "health")
	c.code(1, "health", "--nagios", "--json")
}
