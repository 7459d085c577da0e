package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// checkKeys fails t for every object key in v that is not snake_case;
// where says which output v came from.
func checkKeys(t *testing.T, where string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if !snakeCase.MatchString(k) {
				t.Errorf("%s: key %q is not snake_case", where, k)
			}
			checkKeys(t, where, e)
		}
	case []any:
		for _, e := range v {
			checkKeys(t, where, e)
		}
	}
}

// TestJSONSnakeCase runs every command that prints JSON and checks that
// all keys are snake_case, the one convention README documents.
func TestJSONSnakeCase(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	dsn := "sqlite://" + path
	c.ok("backup", "--db", dsn)
	src := t.TempDir()
	writeTree(t, src, map[string]string{"a.csv": "1,2\n"})
	c.ok("backup", src)
	id := c.backupStdin(sampleData(t)[:4096], "s.tsv")
	var sn struct{ Tree string }
	c.catJSON(&sn, "snapshot", id)
	pack := ""
	for p := range c.packs() {
		pack = p
	}
	dbSnap := ""
	for _, s := range c.snapshots() {
		if strings.HasPrefix(s.Source, "sqlite://") {
			dbSnap = s.ID
		}
	}
	toTag := c.backupStdin([]byte("t\n"), "t.txt")
	commands := [][]string{
		{"verify", "drill", dbSnap, "--json"},
		{"snapshots", "--json"},
		{"stats", "--json"}, {"stats", "--json", "--by", "tier"}, {"stats", "--json", "--growth"},
		{"check", "--json"}, {"key", "list", "--json"}, {"policy", "show", "--json"},
		{"forget", "--dry-run", "--json", "--keep-last", "1"},
		{"prune", "--dry-run", "--json"},
		{"find", "--json", "*.csv"},
		{"tag", "--json", "--add", "x", toTag},
		{"restore", dbSnap, "--db", "sqlite://" + filepath.Join(t.TempDir(), "x.db"), "--dry-run", "--json"},
		{"cat", "config"}, {"cat", "snapshot", id}, {"cat", "tree", sn.Tree},
		{"cat", "index", c.files("index")[0]}, {"cat", "pack-header", pack},
	}
	for _, args := range commands {
		out := c.ok(args...)
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Errorf("%s printed no JSON: %v\n%s", strings.Join(args, " "), err, out)
			continue
		}
		checkKeys(t, strings.Join(args[:min(2, len(args))], " "), v)
	}
	// restore's action is a keyword (dbexport.PlanAction), not prose.
	// A dry run of a restore that would be refused exits 1, with the plan.
	var plan []struct{ Action string }
	refused, _ := c.code(exitError, "restore", dbSnap, "--db", dsn, "--dry-run", "--json")
	if err := json.Unmarshal([]byte(refused), &plan); err != nil || len(plan) == 0 {
		t.Fatalf("restore --dry-run --json: %v %v", plan, err)
	}
	for _, e := range plan {
		if e.Action != "refuse" {
			t.Errorf("restore --dry-run --json over a database with rows: action %q, want \"refuse\"", e.Action)
		}
	}
	// JSON Lines: ls, and the status lines and summary of backup and
	// restore.
	for _, args := range [][]string{
		{"ls", "--json", id},
		{"backup", "--json", src},
		{"restore", "--json", id, "--target", t.TempDir()},
	} {
		for i, line := range strings.Split(strings.TrimSpace(c.ok(args...)), "\n") {
			var v any
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				t.Fatalf("%s line %d: %v", strings.Join(args, " "), i, err)
			}
			checkKeys(t, args[0]+" --json", v)
		}
	}
}
