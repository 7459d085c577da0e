package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestTag(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	first := c.backupStdin([]byte("data\n"), "a.sql", "--tag", "a")
	other := c.backupStdin([]byte("other\n"), "b.sql")
	c.ok("protect", first[:8], "--reason", "keep me")

	type res struct {
		Old  string   `json:"old_id"`
		New  string   `json:"new_id"`
		Tags []string `json:"tags"`
	}
	var rs []res
	if err := json.Unmarshal([]byte(c.ok("tag", "--json", "--add", "b", "--add", "c", "--remove", "a", first[:8])), &rs); err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Old != first || rs[0].New == first || !slices.Equal(rs[0].Tags, []string{"b", "c"}) {
		t.Fatalf("tag: %+v", rs)
	}
	second := rs[0].New
	sns := c.snapshots()
	ids := snapshotIDs(sns)
	if slices.Contains(ids, first) || !slices.Contains(ids, second) || !slices.Contains(ids, other) || len(ids) != 2 {
		t.Errorf("snapshots after tag: %v; want %s replaced by %s", ids, first[:8], second[:8])
	}
	for _, sn := range sns {
		if sn.ID == second && (!sn.Protected || !slices.Equal(sn.Tags, []string{"b", "c"})) {
			t.Errorf("retagged snapshot %+v: want protected, tags b,c", sn)
		}
	}
	var raw struct{ Original string }
	c.catJSON(&raw, "snapshot", second)
	if raw.Original != first {
		t.Errorf("original = %q, want %s", raw.Original, first)
	}
	out := c.ok("tag", "--set", "x", second)
	third := ""
	for _, sn := range c.snapshots("--tag", "x") {
		third = sn.ID
	}
	if third == "" || !strings.Contains(out, second[:8]+" is now "+third[:8]) {
		t.Fatalf("tag --set x: %s", out)
	}
	c.catJSON(&raw, "snapshot", third)
	if raw.Original != first {
		t.Errorf("after a second retag original = %q, want the first %s", raw.Original, first)
	}
	// Tags that do not change write nothing.
	if _, errOut := c.code(exitOK, "tag", "--add", "x", third); !strings.Contains(errOut, "tags unchanged") || len(c.snapshots("--tag", "x")) != 1 {
		t.Errorf("tag without change: %s", errOut)
	}
	if out := c.ok("tag", "--set", "", third); !strings.HasSuffix(out, ", tags none\n") {
		t.Errorf("tag --set \"\" printed %q, want it to end in \"tags none\"", out)
	}
	for _, sn := range c.snapshots() {
		if sn.ID != other && len(sn.Tags) != 0 {
			t.Errorf("after --set \"\": tags %v", sn.Tags)
		}
	}
	c.code(exitError, "tag", "--add", "y")
	c.code(exitError, "tag", third)
	c.check()
}
