package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"strata/pack"
	"strata/repo"
)

// backupAt saves a small stream at the local time at ("2026-06-01
// 10:00:00") and returns the snapshot ID.
func (c *tcli) backupAt(at string, flags ...string) string {
	c.t.Helper()
	return c.backupStdin([]byte("rows at "+at+"\n"), "export.tsv", append([]string{"--time", at}, flags...)...)
}

// forgetJSON runs forget --json with args and decodes the result.
func (c *tcli) forget(args ...string) forgetJSON {
	c.t.Helper()
	out := c.ok(append([]string{"forget", "--json"}, args...)...)
	var res forgetJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		c.t.Fatalf("forget --json: %v\n%s", err, out)
	}
	return res
}

// decisions maps the short snapshot IDs of a forget result to "keep:
// reason; reason" or "remove".
func decisions(res forgetJSON) map[string]string {
	out := map[string]string{}
	for _, g := range res.Groups {
		for _, d := range g.Decisions {
			if d.Keep {
				out[d.ID] = "keep: " + strings.Join(d.Reasons, "; ")
			} else {
				out[d.ID] = "remove"
			}
		}
	}
	return out
}

func snapshotIDs(sns []snapshotJSON) []string {
	var ids []string
	for _, sn := range sns {
		ids = append(ids, sn.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestForgetDryRunThenForget(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	d1a := c.backupAt("2026-06-01 10:00:00")
	d1b := c.backupAt("2026-06-01 18:00:00", "--tag", "billing")
	d2a := c.backupAt("2026-06-02 09:00:00")
	d2b := c.backupAt("2026-06-02 21:00:00")
	d3 := c.backupAt("2026-06-03 12:00:00")
	all := []string{d1a, d1b, d2a, d2b, d3}

	res := c.forget("--dry-run", "--keep-last", "1", "--keep-daily", "2", "--keep-tag", "billing")
	want := map[string]string{
		d3:  "keep: last snapshot 1; daily 2026-06-03",
		d2b: "keep: daily 2026-06-02",
		d2a: "remove",
		d1b: "keep: tag billing",
		d1a: "remove",
	}
	if got := decisions(res); !sameDecisions(got, want) {
		t.Errorf("decisions:\n%v\nwant:\n%v", got, want)
	}
	if !res.DryRun || res.Keep != 3 || res.Remove != 2 || res.PolicySource != "flags" || res.Timezone != "Local" {
		t.Errorf("forget --dry-run --json: %+v", res)
	}
	if len(res.Groups) != 1 || res.Groups[0].Host == "" || res.Groups[0].Source != "stdin:export.tsv" {
		t.Errorf("groups: %+v", res.Groups)
	}
	if got := res.Groups[0].Decisions; got[0].ID != d3 || got[4].ID != d1a {
		t.Errorf("decisions are not newest first: %+v", got)
	}
	if got := snapshotIDs(c.snapshots()); len(got) != len(all) {
		t.Fatalf("the dry run removed snapshots: %d left", len(got))
	}

	out := c.ok("forget", "--keep-last", "1", "--keep-daily", "2", "--keep-tag", "billing")
	for _, s := range []string{
		"policy: from the command line (--keep-last 1 --keep-daily 2 --keep-tag billing)",
		"times in local time (" + time.Now().Format("MST, UTC-07:00") + ")", // the zone, not Go's "Local"
		"Action", "last snapshot 1, daily 2026-06-03",
		"removed 2 of 5 snapshots, kept 3",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("forget output lacks %q:\n%s", s, out)
		}
	}
	wantLeft := []string{d1b, d2b, d3}
	slices.Sort(wantLeft)
	if got := snapshotIDs(c.snapshots()); !slices.Equal(got, wantLeft) {
		t.Errorf("left %v, want %v", got, wantLeft)
	}
	c.check()
}

func sameDecisions(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestForgetGroups(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	a1 := c.backupAt("2026-06-01 10:00:00", "--host", "db1")
	a2 := c.backupAt("2026-06-02 10:00:00", "--host", "db1")
	b1 := c.backupAt("2026-06-01 11:00:00", "--host", "db2")
	res := c.forget("--dry-run", "--keep-last", "1")
	want := map[string]string{a2: "keep: last snapshot 1", a1: "remove", b1: "keep: last snapshot 1"}
	if got := decisions(res); !sameDecisions(got, want) {
		t.Errorf("by host and source: %v, want %v", got, want)
	}
	if len(res.Groups) != 2 || res.Groups[0].Host != "db1" || res.Groups[1].Host != "db2" {
		t.Errorf("groups: %+v", res.Groups)
	}
	res = c.forget("--dry-run", "--keep-last", "1", "--group-by", "source")
	want = map[string]string{a2: "keep: last snapshot 1", a1: "remove", b1: "remove"}
	if got := decisions(res); !sameDecisions(got, want) {
		t.Errorf("by source: %v, want %v", got, want)
	}
	if _, errOut := c.code(exitError, "forget", "--keep-last", "1", "--group-by", "paths"); !strings.Contains(errOut, `"paths"`) {
		t.Errorf("unknown --group-by: %s", errOut)
	}
}

func TestForgetKeepsProtected(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	old := c.backupAt("2026-06-01 10:00:00")
	c.backupAt("2026-06-02 10:00:00")
	newest := c.backupAt("2026-06-03 10:00:00")

	out := c.ok("protect", old[:8], "--until", "2099-01-01", "--reason", "billing November")
	if !strings.Contains(out, "protected snapshot "+old[:8]+": billing November (until 2099-01-01 00:00") {
		t.Errorf("protect output: %s", out)
	}
	sns := c.snapshots()
	if !sns[0].Protected || len(sns[0].Protections) != 1 || sns[0].Protections[0].Reason != "billing November" || sns[1].Protected {
		t.Errorf("snapshots --json: %+v", sns)
	}
	if out := c.ok("snapshots"); !strings.Contains(out, "until 2099-01-01 00:00") {
		t.Errorf("snapshots does not mark the protected snapshot:\n%s", out)
	}

	out = c.ok("forget", "--keep-last", "1")
	if !strings.Contains(out, "protected: billing November (until 2099-01-01 00:00") || !strings.Contains(out, "removed 1 of 3 snapshots, kept 2 (1 protected)") {
		t.Errorf("forget does not say it kept the protected snapshot:\n%s", out)
	}
	want := []string{old, newest}
	slices.Sort(want)
	if got := snapshotIDs(c.snapshots()); !slices.Equal(got, want) {
		t.Errorf("left %v, want %v", got, want)
	}
	if n := len(c.files("protect")); n != 1 {
		t.Errorf("%d protect files, want the active one", n)
	}

	if out := c.ok("unprotect", old[:8]); !strings.Contains(out, "no longer protected") {
		t.Errorf("unprotect: %s", out)
	}
	if out := c.ok("unprotect", old[:8]); !strings.Contains(out, "was not protected") {
		t.Errorf("unprotect again: %s", out)
	}
	c.ok("forget", "--keep-last", "1")
	if got := snapshotIDs(c.snapshots()); !slices.Equal(got, []string{newest}) {
		t.Errorf("after unprotect, forget left %v", got)
	}
	c.check()
}

// TestForgetRemovesExpiredProtections: a protection that has ended no
// longer keeps its snapshot, and its file goes with the snapshot.
func TestForgetRemovesExpiredProtections(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	old := c.backupAt("2026-06-01 10:00:00")
	c.backupAt("2026-06-02 10:00:00")
	// Written by a clock in 2020, so it ended long ago.
	past := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	r := c.openAPI(repo.Options{Now: func() time.Time { return past }})
	id, err := pack.ParseID(old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Protect(context.Background(), id, past.AddDate(0, 1, 0), "ended"); err != nil {
		t.Fatal(err)
	}
	if sns := c.snapshots(); sns[0].Protected {
		t.Error("snapshots shows an expired protection as active")
	}
	res := c.forget("--keep-last", "1")
	if got := decisions(res)[old]; got != "remove" || res.ProtectionsRemoved != 1 {
		t.Errorf("forget: %s, %d protections removed; want remove, 1", got, res.ProtectionsRemoved)
	}
	if names := c.files("protect"); len(names) != 0 {
		t.Errorf("protect files left: %v", names)
	}
	c.check()
}

func TestPolicySetThenForget(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	out := c.ok("policy", "show")
	if !strings.Contains(out, "no repository policy: forget without --keep-* flags removes nothing") || !strings.Contains(out, "policy set --keep-hourly 24 --keep-daily 30") {
		t.Errorf("policy show of a new repository:\n%s", out)
	}
	// Three snapshots on one UTC day; the one at 23:30 UTC is the next
	// day in Berlin.
	var ids []string
	for _, at := range []string{"2026-06-01 08:00", "2026-06-01 20:00", "2026-06-01 23:30"} {
		utc, _ := time.ParseInLocation("2006-01-02 15:04", at, time.UTC)
		ids = append(ids, c.backupAt(utc.In(time.Local).Format("2006-01-02 15:04:05")))
	}
	out = c.ok("policy", "set", "--keep-daily", "2", "--timezone", "Europe/Berlin")
	if !strings.Contains(out, "policy set: --keep-daily 2, times in Europe/Berlin") {
		t.Errorf("policy set: %s", out)
	}
	var shown policyJSON
	if err := json.Unmarshal([]byte(c.ok("policy", "show", "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Source != "repository" || shown.Timezone != "Europe/Berlin" || shown.Policy.Daily != 2 || shown.Flags != "--keep-daily 2" {
		t.Errorf("policy show --json: %+v", shown)
	}

	out = c.ok("forget", "--dry-run")
	for _, s := range []string{"policy: repository policy set ", "(--keep-daily 2)", "times in Europe/Berlin (repository policy)", "dry run: would remove 1 of 3"} {
		if !strings.Contains(out, s) {
			t.Errorf("forget with a stored policy lacks %q:\n%s", s, out)
		}
	}
	res := c.forget("--dry-run")
	want := map[string]string{ids[2]: "keep: daily 2026-06-02", ids[1]: "keep: daily 2026-06-01", ids[0]: "remove"}
	if got := decisions(res); !sameDecisions(got, want) || res.PolicySource != "repository" || res.PolicySet == nil {
		t.Errorf("forget with the repository policy: %v (%s), want %v", got, res.PolicySource, want)
	}
	// --timezone overrides the stored zone.
	res = c.forget("--dry-run", "--timezone", "UTC")
	if got := decisions(res); got[ids[2]] != "keep: daily 2026-06-01" || got[ids[1]] != "remove" {
		t.Errorf("forget --timezone UTC: %v", got)
	}

	c.ok("policy", "set", "--keep-last", "2")
	if n := len(c.files("policy")); n != 1 {
		t.Errorf("%d policy files after a second set, want 1", n)
	}
	if res := c.forget("--dry-run"); res.Timezone != "Local" || res.Remove != 1 {
		t.Errorf("second policy: %+v", res)
	}

	if out := c.ok("policy", "reset"); !strings.Contains(out, "removed the repository policy") {
		t.Errorf("policy reset: %s", out)
	}
	out = c.ok("forget")
	if !strings.Contains(out, "no policy: forget removes nothing") || len(c.snapshots()) != 3 {
		t.Errorf("forget after reset:\n%s", out)
	}
	if _, errOut := c.code(exitError, "policy", "set"); !strings.Contains(errOut, "--keep-") {
		t.Errorf("policy set without rules: %s", errOut)
	}
	if _, errOut := c.code(exitError, "policy", "set", "--keep-daily", "1", "--timezone", "Mars/Olympus"); !strings.Contains(errOut, "Mars/Olympus") {
		t.Errorf("policy set with an unknown zone: %s", errOut)
	}
}

func TestForgetRefuses(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	id := c.backupAt("2026-06-01 10:00:00")
	c.backupAt("2026-06-02 10:00:00")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no rule", []string{"--keep-last", "0"}, "no rule"},
		{"bad duration", []string{"--keep-within", "2w"}, "2w"},
		{"bad tier", []string{"--keep-tier", "daily"}, "TIER=COUNT"},
		{"negative count", []string{"--keep-daily", "-2"}, "-1 for unlimited"},
		{"prune in a dry run", []string{"--keep-last", "1", "--prune", "--dry-run"}, "prune"},
		{"snapshots and rules", []string{"--keep-last", "1", id[:8]}, "not both"},
		{"bad safety period", []string{"--keep-last", "1", "--keep-safety", "7"}, "--keep-safety"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut := c.code(exitError, append([]string{"forget"}, tt.args...)...)
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("error %q does not mention %q", errOut, tt.want)
			}
		})
	}
	if n := len(c.snapshots()); n != 2 {
		t.Errorf("%d snapshots left, want 2", n)
	}
	if out := c.ok("forget", "--help"); !strings.Contains(out, "Exit codes: 0 ok, 1 error, 10 no repository, 11 locked, 12 wrong password, 130 interrupted.") {
		t.Errorf("forget --help lists no exit codes:\n%s", out)
	}
}

// TestForgetDamagedProtectFile: a protect file that cannot be read might
// protect any snapshot, so forget removes nothing and names the file.
func TestForgetDamagedProtectFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	old := c.backupAt("2026-06-01 10:00:00")
	c.backupAt("2026-06-02 10:00:00")
	c.ok("protect", old[:8])
	path := c.onlyFile("protect")
	flipByte(t, path, 40)
	_, errOut := c.code(exitError, "forget", "--keep-last", "1")
	if !strings.Contains(errOut, "forget refuses to run") || !strings.Contains(errOut, filepath.Base(path)) {
		t.Errorf("forget with a damaged protect file: %s", errOut)
	}
	if n := len(c.snapshots()); n != 2 {
		t.Errorf("%d snapshots left, want 2", n)
	}
	_, errOut, _ = c.run("snapshots")
	if !strings.Contains(errOut, filepath.Base(path)) {
		t.Errorf("snapshots does not warn about the damaged protect file: %s", errOut)
	}
}

func TestForgetPrune(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	for day := 1; day <= 3; day++ {
		c.stdin = genData(t, 256<<10+int64(day))
		c.ok("backup", "--stdin", "--stdin-name", "export.tsv", "--time", fmt.Sprintf("2026-06-0%d 10:00:00", day))
	}
	out := c.ok("forget", "--keep-last", "1", "--prune")
	if !strings.Contains(out, "removed 2 of 3 snapshots") || !strings.Contains(out, "prune:") || !strings.Contains(out, "freed:") {
		t.Errorf("forget --prune:\n%s", out)
	}
	c.check()
	res := c.forget("--keep-last", "1", "--prune")
	if len(res.Prune) == 0 || !json.Valid(res.Prune) {
		t.Errorf("forget --json --prune has no prune report: %s", res.Prune)
	}
}

func TestParseUntil(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2027-01-31", time.Date(2027, 1, 31, 0, 0, 0, 0, time.Local)},
		{"2027-01-31 18:00", time.Date(2027, 1, 31, 18, 0, 0, 0, time.Local)},
		{"2027-01-31 18:00:30", time.Date(2027, 1, 31, 18, 0, 30, 0, time.Local)},
		{"2027-01-31T18:00:00+01:00", time.Date(2027, 1, 31, 17, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := parseUntil(tt.in)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseUntil(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "tomorrow", "31.01.2027", "2027-02-30"} {
		if _, err := parseUntil(bad); err == nil {
			t.Errorf("parseUntil(%q) accepted it", bad)
		}
	}
}

// TestForgetQuiet: with --quiet, forget prints nothing but errors, as
// restic's does; a dry run still prints its decisions, the output asked
// for.
func TestForgetQuiet(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupAt("2026-06-01 10:00:00")
	c.backupAt("2026-06-02 10:00:00")
	if out := c.ok("-q", "forget", "--dry-run", "--keep-last", "1"); !strings.Contains(out, "remove") {
		t.Errorf("forget -q --dry-run printed %q, want its decisions", out)
	}
	if out, errOut, code := c.run("-q", "forget", "--keep-last", "1", "--prune"); code != 0 || out != "" || errOut != "" {
		t.Errorf("forget -q --prune: exit %d, printed %q and %q, want nothing", code, out, errOut)
	}
	if n := len(c.snapshots()); n != 1 {
		t.Errorf("forget -q kept %d snapshots, want 1", n)
	}
}
