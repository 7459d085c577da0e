package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigRetention: forget and policy set take strata.yaml's retention
// when no --keep-* flag is given; flags win; the repository's stored
// policy comes after the config's.
func TestConfigRetention(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	for _, at := range []string{"2026-03-01 10:00", "2026-03-01 11:00", "2026-03-01 12:00"} {
		c.backupStdin([]byte("rows at "+at), "db.sql", "--tier", "hourly", "--time", at)
	}
	c.backupStdin([]byte("daily"), "db.sql", "--tier", "daily", "--time", "2026-03-01 12:30")
	cfg := filepath.Join(t.TempDir(), "strata.yaml")
	writeNew(t, cfg, []byte("version: 1\ntimezone: Asia/Tokyo\nrepository:\n  url: "+c.repo+"\nretention:\n  keep_tiers: {hourly: 2, daily: 1}\n  keep_safety: \"0\"\n"))

	var plan forgetJSON
	out := c.ok("forget", "--config", cfg, "--dry-run", "--json")
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("forget --json: %v\n%s", err, out)
	}
	if plan.PolicySource != "config" || plan.PolicyFlags != "--keep-tier hourly=2,daily=1 --keep-safety 0h" || plan.Timezone != "Asia/Tokyo" || plan.Keep != 3 || plan.Remove != 1 {
		t.Errorf("forget with the config's policy: source %q, flags %q, zone %q, keep %d, remove %d", plan.PolicySource, plan.PolicyFlags, plan.Timezone, plan.Keep, plan.Remove)
	}
	text := c.ok("forget", "--config", cfg, "--dry-run")
	if !strings.Contains(text, "from "+cfg+" (--keep-tier hourly=2,daily=1") || !strings.Contains(text, "Asia/Tokyo ("+cfg+")") {
		t.Errorf("forget does not say the policy and zone come from the config:\n%s", text)
	}
	// Flags win over the config.
	out = c.ok("forget", "--config", cfg, "--keep-last", "10", "--dry-run", "--json")
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatal(err)
	}
	if plan.PolicySource != "flags" || plan.Remove != 0 {
		t.Errorf("--keep-last with a config: source %q, remove %d", plan.PolicySource, plan.Remove)
	}
	// policy set stores the config's policy, in its zone.
	if out := c.ok("policy", "set", "--config", cfg); !strings.Contains(out, "policy set: --keep-tier hourly=2,daily=1 --keep-safety 0h, times in Asia/Tokyo") {
		t.Errorf("policy set from the config: %s", out)
	}
	// Without the config, forget applies the stored copy.
	c.ok("forget")
	if n := len(c.snapshots()); n != 3 {
		t.Errorf("%d snapshots after forget with the stored policy, want 3", n)
	}
}
