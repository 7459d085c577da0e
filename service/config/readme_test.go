package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEConfig: the strata.yaml of the README's "Run strata as a
// service" loads and validates without warnings, and has the jobs the
// section promises.
func TestREADMEConfig(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Run strata as a service\n")
	if !ok {
		t.Fatal(`README has no "## Run strata as a service" section`)
	}
	_, block, ok := strings.Cut(section, "\n```yaml\n")
	if !ok {
		t.Fatal("the section has no ```yaml block")
	}
	block, _, ok = strings.Cut(block, "\n```\n")
	if !ok {
		t.Fatal("the ```yaml block does not end")
	}
	path := filepath.Join(t.TempDir(), "strata.yaml")
	if err := os.WriteFile(path, []byte(block+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("the README's strata.yaml does not validate:\n%v", err)
	}
	if w := c.Warnings(); len(w) > 0 {
		t.Errorf("warnings: %q", w)
	}
	tiers := map[string]bool{}
	for _, j := range c.Jobs {
		tiers[j.Tier] = j.Schedule != ""
	}
	for _, tier := range []string{"hourly", "daily", "weekly", "monthly"} {
		if !tiers[tier] {
			t.Errorf("no scheduled %s job", tier)
		}
	}
	if c.Check == nil || c.Drill == nil || len(c.Notifications.Channels) == 0 || c.Retention == nil {
		t.Error("the README's strata.yaml lacks a check, a drill, a retention policy or notifications")
	}
}
