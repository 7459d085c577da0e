package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestDiffByLogsMatchesDumps backs a table up hour after hour, so that
// consecutive snapshots share a base and differ in their change logs
// (diffed by log: docs/design.md, "Diff", "Two logs of one base") until
// a new base is written (diffed by chunks), and compares every diff of
// consecutive hours, and of hours far apart, change by change (op, key,
// old and new values, key order) with what full dumps of both snapshots
// say.
func TestDiffByLogsMatchesDumps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(wal)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	src := logDB{dsn: "sqlite://" + path, db: db}
	fillLogDB(t, src)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", src.dsn)
	// Hours: inserts, updates, deletes, rows updated twice, rows deleted
	// and inserted again (with other values, and as they were); in the
	// ninth hour a third of the rows change, which makes the log larger
	// than its share of the base, so a new base comes (a chain's depth
	// alone brings one only after 9 to 16 backups).
	hours := [][]string{
		{`UPDATE c SET name = 'once' WHERE id IN (100, 2500, 9000)`, `INSERT INTO c VALUES (20000, 'ins', 'i')`, `DELETE FROM c WHERE id = 1500`},
		{`UPDATE c SET name = 'twice' WHERE id IN (100, 2500)`, `DELETE FROM c WHERE id IN (300, 4000, 11000)`},
		{`INSERT INTO c VALUES (300, 'back changed', 'b')`, `UPDATE c SET note = 'n' WHERE id % 500 = 7`},
		{`INSERT INTO c VALUES (4000, 'customer 76000', 'note nnnnnnnnnn')`, `DELETE FROM c WHERE id = 20000`, `UPDATE c SET name = 'thrice' WHERE id = 100`},
		{`INSERT INTO c VALUES (1500, 'back again', 'g')`, `UPDATE c SET note = 'x' WHERE id BETWEEN 600 AND 640`},
		{`UPDATE c SET name = 'customer 91900', note = 'note nnnnnnnnnn' WHERE id = 100`},
		{`INSERT INTO c VALUES (0, 'first', 'f')`, `UPDATE c SET name = 'last' WHERE id = 12000`},
		{`DELETE FROM c WHERE id IN (0, 2)`, `UPDATE c SET name = 'h8' WHERE id % 997 = 3`},
		{`UPDATE c SET name = 'h9' WHERE id IN (5, 7000)`, `UPDATE c SET note = 'wide' WHERE id % 3 = 0`},
		{`INSERT INTO c VALUES (2, 'two', 't')`, `UPDATE c SET name = 'h10' WHERE id = 7001`},
		{`UPDATE c SET name = 'h11' WHERE id IN (5, 7000, 7002)`, `DELETE FROM c WHERE id = 9000`},
	}
	for _, stmts := range hours {
		for _, q := range stmts {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		c.ok("backup", "--db", src.dsn)
	}
	var ids []string
	var pages, logs []string
	for _, sn := range c.snapshots() {
		ids = append(ids, sn.ID)
		var tree struct {
			Nodes []struct {
				Name, Pages, Log string
			}
		}
		if err := json.Unmarshal([]byte(c.ok("cat", "tree", sn.Tree)), &tree); err != nil {
			t.Fatal(err)
		}
		for _, n := range tree.Nodes {
			if n.Name == "c" {
				pages, logs = append(pages, n.Pages), append(logs, n.Log)
			}
		}
	}
	if len(pages) != len(hours)+1 {
		t.Fatalf("%d snapshots hold table c, want %d", len(pages), len(hours)+1)
	}
	byLog, newBase := 0, 0
	for i := 1; i < len(pages); i++ {
		switch {
		case pages[i] != pages[i-1]:
			newBase++
		case logs[i] != "":
			byLog++
		}
	}
	if byLog < 5 || newBase < 1 {
		t.Fatalf("%d consecutive pairs share a base, %d have a new base; want at least 5 and 1", byLog, newBase)
	}

	dumps := make([]map[string]map[string]json.RawMessage, len(ids))
	for i, id := range ids {
		dumps[i] = map[string]map[string]json.RawMessage{}
		for _, line := range strings.Split(strings.TrimSpace(c.ok("dump", id, "c", "--format", "jsonl")), "\n") {
			var r map[string]json.RawMessage
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("dump: %q: %v", line, err)
			}
			dumps[i][string(r["id"])] = r
		}
	}
	pairs := [][2]int{{0, len(ids) - 1}, {2, 6}, {5, 11}}
	for i := 1; i < len(ids); i++ {
		pairs = append(pairs, [2]int{i - 1, i})
	}
	for _, p := range pairs {
		want := expectedChanges(dumps[p[0]], dumps[p[1]])
		var got []string
		out := strings.TrimSpace(c.ok("diff", ids[p[0]], ids[p[1]], "--format", "jsonl", "--tables", "c"))
		for _, line := range strings.Split(out, "\n") {
			if line == "" {
				continue
			}
			var ch struct {
				Op       string
				Key      map[string]json.RawMessage
				Old, New map[string]json.RawMessage
			}
			if err := json.Unmarshal([]byte(line), &ch); err != nil {
				t.Fatalf("diff: %q: %v", line, err)
			}
			got = append(got, changeLine(ch.Op, string(ch.Key["id"]), ch.Old, ch.New))
		}
		if !slices.Equal(got, want) {
			t.Errorf("diff of hours %d and %d (same base: %v):\n%s\nthe dumps differ by\n%s", p[0], p[1], pages[p[0]] == pages[p[1]],
				strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// expectedChanges lists the changes from rows a to rows b (by id) in key
// order, as diff --format jsonl writes them: an update's changed columns
// only.
func expectedChanges(a, b map[string]map[string]json.RawMessage) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y string) int {
		nx, _ := strconv.Atoi(x)
		ny, _ := strconv.Atoi(y)
		return nx - ny
	})
	var out []string
	for _, k := range keys {
		ra, inA := a[k]
		rb, inB := b[k]
		switch {
		case !inA:
			out = append(out, changeLine("insert", k, nil, rb))
		case !inB:
			out = append(out, changeLine("delete", k, ra, nil))
		default:
			old, nw := map[string]json.RawMessage{}, map[string]json.RawMessage{}
			for col, v := range ra {
				if string(rb[col]) != string(v) {
					old[col], nw[col] = v, rb[col]
				}
			}
			if len(old) > 0 {
				out = append(out, changeLine("update", k, old, nw))
			}
		}
	}
	return out
}

// changeLine writes a change with its values in column name order.
func changeLine(op, key string, old, nw map[string]json.RawMessage) string {
	side := func(m map[string]json.RawMessage) string {
		var cols []string
		for col, v := range m {
			cols = append(cols, col+"="+string(v))
		}
		slices.Sort(cols)
		return strings.Join(cols, ",")
	}
	return fmt.Sprintf("%s %s old{%s} new{%s}", op, key, side(old), side(nw))
}
