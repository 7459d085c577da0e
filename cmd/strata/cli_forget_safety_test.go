package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestForgetWithoutPolicyRemovesNothing: forget without rules and without
// a stored policy explains and removes nothing, as restic's does.
func TestForgetWithoutPolicyRemovesNothing(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	for _, at := range []string{"2026-06-01 10:00:00", "2026-06-02 10:00:00", "2026-06-03 10:00:00"} {
		c.backupAt(at)
	}
	out := c.ok("forget")
	if !strings.Contains(out, "no policy: forget removes nothing") || !strings.Contains(out, "strata policy set") {
		t.Errorf("forget without a policy:\n%s", out)
	}
	res := c.forget()
	if res.PolicySource != "none" || res.Remove != 0 || res.Keep != 3 {
		t.Errorf("forget --json without a policy: %+v", res)
	}
	if n := len(c.snapshots()); n != 3 {
		t.Errorf("forget without a policy left %d of 3 snapshots", n)
	}
}

// TestForgetKeepsSafetySnapshots: the snapshots restore --replace and
// guard take are kept for the safety period whatever the rules say, with
// the reason listed; --keep-safety (or the stored policy's) sets the
// period.
func TestForgetKeepsSafetySnapshots(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	dsn := "sqlite://" + path
	c.ok("backup", "--db", dsn)
	c.ok("restore", "latest", "--db", dsn, "--replace") // takes a pre-restore snapshot
	c.ok("guard", "--db", dsn, "--", "true")            // takes a pre-op snapshot
	c.ok("backup", "--db", dsn)
	var preRestore, preOp string
	for _, sn := range c.snapshots() {
		for _, tag := range sn.Tags {
			switch tag {
			case "pre-restore":
				preRestore = sn.ID
			case "pre-op":
				preOp = sn.ID
			}
		}
	}
	if preRestore == "" || preOp == "" {
		t.Fatalf("no safety snapshots: %+v", c.snapshots())
	}

	res := c.forget("--keep-last", "1", "--dry-run")
	got := decisions(res)
	for id, tag := range map[string]string{preRestore: "pre-restore", preOp: "pre-op"} {
		if want := "keep: safety snapshot (" + tag + ") for 7d, until "; !strings.HasPrefix(got[id], want) {
			t.Errorf("the %s snapshot: %q, want %q...", tag, got[id], want)
		}
	}
	if res.Remove != 1 {
		t.Errorf("forget --keep-last 1 would remove %d, want 1 (the first backup): %v", res.Remove, got)
	}
	out := c.ok("forget", "--keep-last", "1", "--dry-run")
	if !strings.Contains(out, "safety snapshot (pre-op) for 7d") {
		t.Errorf("forget does not list the safety reason:\n%s", out)
	}

	// No safety period: the rules alone decide.
	res = c.forget("--keep-last", "1", "--keep-safety", "0", "--dry-run")
	if got := decisions(res); got[preRestore] != "remove" || got[preOp] != "remove" {
		t.Errorf("with --keep-safety 0: %v", got)
	}

	// A stored period, shown by policy show and applied by forget.
	c.ok("policy", "set", "--keep-last", "1", "--keep-safety", "30d")
	var shown policyJSON
	if err := json.Unmarshal([]byte(c.ok("policy", "show", "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Policy.Safety == nil || shown.Policy.Safety.String() != "30d" || !strings.Contains(shown.Flags, "--keep-safety 30d") {
		t.Errorf("policy show --json: %+v", shown)
	}
	c.ok("forget")
	left := map[string]bool{}
	for _, sn := range c.snapshots() {
		left[sn.ID] = true
	}
	if len(left) != 3 || !left[preRestore] || !left[preOp] {
		t.Errorf("forget with the stored policy left %v, want the two safety snapshots and the newest", left)
	}
	c.check()
}

// TestForgetNamedSnapshots: forget SNAPSHOT... removes those snapshots,
// all or none: a protected one or one that does not exist removes
// nothing.
func TestForgetNamedSnapshots(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	a := c.backupAt("2026-06-01 10:00:00")
	b := c.backupAt("2026-06-02 10:00:00")
	d := c.backupAt("2026-06-03 10:00:00")
	e := c.backupAt("2026-06-04 10:00:00")
	c.ok("protect", d[:8])

	if _, errOut := c.code(exitError, "forget", a[:8], d[:8]); !strings.Contains(errOut, "protected") || !strings.Contains(errOut, "nothing removed") {
		t.Errorf("forget of a protected snapshot: %s", errOut)
	}
	if _, errOut := c.code(exitError, "forget", a[:8], "ffffffff"); !strings.Contains(errOut, "ffffffff") || !strings.Contains(errOut, "nothing removed") {
		t.Errorf("forget of a missing snapshot: %s", errOut)
	}
	c.ok("forget", "--dry-run", a[:8])
	if n := len(c.snapshots()); n != 4 {
		t.Fatalf("refused forgets and a dry run left %d of 4 snapshots", n)
	}

	out := c.ok("forget", a[:8], b)
	if !strings.Contains(out, "until prune") {
		t.Errorf("forget A B:\n%s", out)
	}
	var left []string
	for _, sn := range c.snapshots() {
		left = append(left, sn.ID)
	}
	if strings.Join(left, ",") != d+","+e {
		t.Errorf("after forget A B the snapshots are %v, want %v", left, []string{d, e})
	}
	var res forgetSnapshotsJSON
	if err := json.Unmarshal([]byte(c.ok("forget", "--json", "latest")), &res); err != nil || len(res.Remove) != 1 || res.Remove[0] != e {
		t.Errorf("forget --json latest: %+v, %v", res, err)
	}
	c.check()
}
