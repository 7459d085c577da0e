package main

import (
	"database/sql"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestOldFormatRepository: a repository written before table pages
// (testdata/oldformat, its README says how) opens, checks, restores and
// prunes, and takes new snapshots, whose table nodes keep their chunk
// lists in pages (docs/design.md, "Table pages").
func TestOldFormatRepository(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	copyFixture(t, filepath.Join("testdata", "oldformat", "repo"), c.repo)
	c.pwFile = filepath.Join("testdata", "oldformat", "password")
	c.vars["STRATA_PASSWORD_FILE"] = c.pwFile

	c.check()
	const first, second = "d1cea70d", "750583b4"
	restored := func(snapshot string, rows int, name100 string) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "restored.db")
		c.ok("restore", snapshot, "--db", "sqlite://"+path)
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		var name string
		if err := db.QueryRow(`SELECT count(*), (SELECT name FROM items WHERE id = 100) FROM items`).Scan(&n, &name); err != nil {
			t.Fatal(err)
		}
		if n != rows || name != name100 {
			t.Errorf("snapshot %s restored %d rows, item 100 %q; want %d, %q", snapshot, n, name, rows, name100)
		}
	}
	restored(first, 4000, "item-100")
	restored(second, 4001, "changed-100")

	c.ok("forget", first)
	c.ok("prune")
	c.check()
	restored(second, 4001, "changed-100")

	// A new snapshot in the same repository has its table's chunk list in
	// pages; check and restore read both formats side by side.
	path := filepath.Join(t.TempDir(), "new.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{
		`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT)`,
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 3000) INSERT INTO items SELECT i, 'new-' || i, 'x' FROM c`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	c.ok("backup", "--db", "sqlite://"+path)
	var sn struct{ ID, Tree string }
	c.catJSON(&sn, "snapshot", "latest")
	var tree struct {
		Nodes []struct {
			Name    string
			Pages   string
			Content []string
		}
	}
	c.catJSON(&tree, "tree", sn.Tree)
	for _, n := range tree.Nodes {
		if n.Name == "items" && (n.Pages == "" || len(n.Content) > 0) {
			t.Errorf("new table node: pages %q, %d content blobs", n.Pages, len(n.Content))
		}
	}
	c.check()
	var rep struct{ Pages int }
	if out := c.ok("check", "--json"); json.Unmarshal([]byte(out), &rep) != nil || rep.Pages == 0 {
		t.Errorf("check --json counts no page: %s", out)
	}
	restored(sn.ID, 3000, "new-100")
	restored(second, 4001, "changed-100")
	out := c.ok("stats", "--json")
	if !json.Valid([]byte(out)) {
		t.Errorf("stats --json: %s", out)
	}
}

// copyFixture copies a repository from testdata with the permissions
// strata gives its files, and the empty folders git does not keep.
func copyFixture(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"locks", "policy", "protect"} {
		if err := os.MkdirAll(filepath.Join(dst, dir), 0o700); err != nil {
			t.Fatal(err)
		}
	}
}
