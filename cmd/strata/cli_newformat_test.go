package main

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestNewFormatRepository: a repository of table pages and change logs
// (testdata/newformat, its README says how it was made) opens, checks,
// restores every snapshot and prunes, also when the snapshot that wrote
// the base the change logs are written against is forgotten, so that a
// later format change cannot silently stop reading it (docs/design.md,
// "Table pages" and "Table change logs").
func TestNewFormatRepository(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	copyFixture(t, filepath.Join("testdata", "newformat", "repo"), c.repo)
	c.pwFile = filepath.Join("testdata", "newformat", "password")
	c.vars["STRATA_PASSWORD_FILE"] = c.pwFile

	// Each snapshot: its rows, item 100's name, item 251's note and a
	// sum over every row (the source's at each hour).
	type state struct {
		id, name100, note251 string
		rows, sum            int64
	}
	base := state{"3d13179e", "item-100", "note for item 251 with some padding text to make rows longer", 4000, 8279786}
	hour11 := state{"d5105b91", "changed-100", base.note251, 4001, 8283916}
	hour12 := state{"6359ef3a", "changed-100", "hour 12", 3991, 8262371}

	// The fixture is in the format it stands for: one base, two logs.
	bases, logs := map[string]bool{}, map[string]bool{}
	for _, s := range []state{base, hour11, hour12} {
		var sn struct{ Tree string }
		c.catJSON(&sn, "snapshot", s.id)
		var tree struct {
			Nodes []struct{ Name, Pages, Log string }
		}
		c.catJSON(&tree, "tree", sn.Tree)
		for _, n := range tree.Nodes {
			if n.Name == "items" {
				bases[n.Pages], logs[n.Log] = true, true
			}
		}
	}
	if len(bases) != 1 || bases[""] || len(logs) != 3 || !logs[""] {
		t.Fatalf("the fixture's table nodes have pages %v and logs %v; want one base and two logs", bases, logs)
	}

	restored := func(s state) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "restored.db")
		c.ok("restore", s.id, "--db", "sqlite://"+path)
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var got state
		got.id = s.id
		err = db.QueryRow(`SELECT count(*), (SELECT name FROM items WHERE id = 100), (SELECT note FROM items WHERE id = 251),
			sum(length(name) + length(coalesce(note, '')) + id) FROM items`).Scan(&got.rows, &got.name100, &got.note251, &got.sum)
		if err != nil {
			t.Fatal(err)
		}
		if got != s {
			t.Errorf("snapshot %s restored %+v, want %+v", s.id, got, s)
		}
	}

	c.check()
	var rep struct{ Pages int }
	if out := c.ok("check", "--json"); json.Unmarshal([]byte(out), &rep) != nil || rep.Pages != 1 {
		t.Errorf("check --json counts %d pages, want the base's 1: %s", rep.Pages, out)
	}
	for _, s := range []state{base, hour11, hour12} {
		restored(s)
	}

	// The snapshot that wrote the base goes, then the first log's: the
	// last snapshot still needs the base's pages and chunks.
	c.ok("forget", base.id)
	c.ok("prune")
	c.check()
	restored(hour11)
	restored(hour12)
	c.ok("forget", hour11.id)
	c.ok("prune")
	c.check()
	restored(hour12)
}
