package main

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// historyHour is the time of hour h of the history tests' backups.
func historyHour(h int) string {
	return time.Date(2025, 6, 1, h, 0, 0, 0, time.UTC).Format(time.RFC3339)
}

// historyOps returns the ops of `history --format jsonl` in order, and
// the objects.
func historyOps(t *testing.T, out string) ([]string, []map[string]any) {
	t.Helper()
	var ops []string
	var objs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var o map[string]any
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		op := o["op"].(string)
		if o["again"] == true {
			op += " again"
		}
		ops = append(ops, op)
		objs = append(objs, o)
	}
	return ops, objs
}

var historyRead = regexp.MustCompile(`(\d+) snapshots in the window, (\d+) read, (\d+) skipped .*; (\d+) chunks? read`)

// history follows one SQLite row through hourly snapshots: insert,
// updates of several columns (a value whose storage class changes
// included), delete and insert again, reading at most one chunk per
// snapshot and skipping snapshots whose chunk did not change; --since and
// --until bound the window; a key no snapshot holds is said plainly.
func TestHistorySQLite(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, exec := sqliteFile(t, "h.db")
	exec(`CREATE TABLE acct (id INTEGER PRIMARY KEY, email TEXT, balance NUMERIC, note)`,
		`WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 30000)
		 INSERT INTO acct SELECT x, 'user' || x || '@example.com', x % 100, hex(randomblob(20)) FROM n WHERE x <> 15000`)
	steps := []string{
		``, // hour 0: the row is not there yet
		`INSERT INTO acct VALUES (15000, 'a@example.com', 10, 3)`,
		`UPDATE acct SET note = 'far away' WHERE id = 29000`, // another chunk: skipped
		`UPDATE acct SET email = 'b@example.com', balance = 12.5, note = '3' WHERE id = 15000`,
		`UPDATE acct SET note = 3.0 WHERE id = 15000`,
		`DELETE FROM acct WHERE id = 15000`,
		`UPDATE acct SET note = 'far again' WHERE id = 2`,
		`INSERT INTO acct VALUES (15000, 'c@example.com', NULL, x'00ff')`,
	}
	for h, s := range steps {
		if s != "" {
			exec(s)
		}
		c.ok("backup", "--db", "sqlite://"+path, "--time", historyHour(h))
	}

	out, errOut := c.code(0, "-v", "history", "acct", "--key", "15000")
	for _, want := range []string{
		"acct id=15000: 8 snapshots of sqlite://" + path,
		"inserted\n    id       15000\n    email    \"a@example.com\"\n    balance  10\n    note     3\n",
		"updated\n    email    \"a@example.com\" -> \"b@example.com\"\n    balance  10 -> 12.5\n    note     3 -> \"3\"\n",
		"updated\n    note  \"3\" -> 3.0\n",
		"deleted\n",
		"inserted again\n    id       15000\n    email    \"c@example.com\"\n    balance  NULL\n    note     x'00ff'\n",
		"5 versions",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("history does not say %q:\n%s", want, out)
		}
	}
	m := historyRead.FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("-v does not say what history read:\n%s", errOut)
	}
	read, _ := strconv.Atoi(m[2])
	skipped, _ := strconv.Atoi(m[3])
	chunks, _ := strconv.Atoi(m[4])
	// Hours 2 and 6 changed other chunks only.
	if m[1] != "8" || skipped < 2 || read+skipped != 8 || chunks != read {
		t.Errorf("-v: %s (want 8 snapshots, hours 2 and 6 skipped, one chunk per snapshot read)", m[0])
	}

	jsonl := c.ok("history", "acct", "--key", "15000", "--format", "jsonl")
	ops, objs := historyOps(t, jsonl)
	if got := strings.Join(ops, ","); got != "insert,update,update,delete,insert again" {
		t.Errorf("ops %s", got)
	}
	if got, _ := json.Marshal(objs[1]["new"]); string(got) != `{"balance":12.5,"email":"b@example.com","note":"3"}` {
		t.Errorf("update's new values %s", got)
	}
	if !strings.Contains(jsonl, `"new":{"note":3.0}`) {
		t.Errorf("the second update's new values are not {\"note\":3.0}:\n%s", jsonl)
	}
	if objs[0]["time"] != historyHour(1) || objs[0]["key"].(map[string]any)["id"] != 15000.0 {
		t.Errorf("first event %v", objs[0])
	}

	// The snapshot before --since tells what the window starts from.
	for _, tc := range []struct {
		since, until int
		want         string
	}{
		{3, 5, "update,update,delete"}, // present at hour 2, changed at 3
		{1, 1, "insert"},               // absent at hour 0
		{2, 2, "present"},              // hour 2 is hour 1's row, skipped
		{6, 6, ""},                     // deleted at 5
	} {
		out, errOut, code := c.run("history", "acct", "--key", "15000", "--json", "--since", historyHour(tc.since), "--until", historyHour(tc.until))
		if tc.want == "" {
			if code != 1 || !strings.Contains(errOut, "no row with id=15000 in any of the 1 snapshot, at "+historyHour(6)) {
				t.Errorf("--since hour %d --until hour %d: exit %d, %s", tc.since, tc.until, code, errOut)
			}
			continue
		}
		if code != 0 {
			t.Fatalf("--since hour %d: exit %d: %s", tc.since, code, errOut)
		}
		ops, objs := historyOps(t, out)
		if got := strings.Join(ops, ","); got != tc.want {
			t.Errorf("--since hour %d --until hour %d: ops %s, want %s", tc.since, tc.until, got, tc.want)
		}
		if objs[0]["time"] != historyHour(tc.since) {
			t.Errorf("--since hour %d: the first version is at %v", tc.since, objs[0]["time"])
		}
	}

	_, errOut = c.code(1, "history", "acct", "--key", "99999")
	if !strings.Contains(errOut, "table acct has no row with id=99999 in any of the 8 snapshots") {
		t.Errorf("absent key: %s", errOut)
	}
	for _, tc := range []struct{ args, want string }{
		{"history acct --key abc", `"abc" is not an integer, but key column id of table acct is one`},
		{"history acct --key 1,2", "gives 2 fields, but the key of table acct has 1"},
		{"history nosuch --key 1", "table nosuch is in none of the 8 snapshots"},
		{"history acct", "give the row's primary key"},
		{"history acct --key 1 --format xml", `unknown --format "xml"`},
	} {
		_, errOut := c.code(1, strings.Fields(tc.args)...)
		if !strings.Contains(errOut, tc.want) {
			t.Errorf("strata %s: %s\nwant it to say %q", tc.args, errOut, tc.want)
		}
	}

	// A second database: history must be told which one.
	other, otherExec := sqliteFile(t, "other.db")
	otherExec(`CREATE TABLE acct (id INTEGER PRIMARY KEY, email TEXT)`)
	c.ok("backup", "--db", "sqlite://"+other)
	_, errOut = c.code(1, "history", "acct", "--key", "15000")
	if !strings.Contains(errOut, "say which with --source") || !strings.Contains(errOut, path) || !strings.Contains(errOut, other) {
		t.Errorf("two databases: %s", errOut)
	}
	out = c.ok("history", "acct", "--key", "15000", "--source", "sqlite://"+path)
	if !strings.Contains(out, "5 versions") {
		t.Errorf("--source: %s", out)
	}
}

// history on PostgreSQL: a composite integer key found through the
// pages, and a text key, whose table is read whole in each changed
// snapshot; insert, updates of several columns, delete, insert again.
func TestHistoryPostgres(t *testing.T) {
	t.Parallel()
	s := pgDB(t)
	// About 1.5 MB of rows, so that the row followed (in the middle) and
	// the row changed at hour 3 (at the start) lie in different chunks
	// (512 KiB at most).
	s.exec(t, `CREATE TABLE orders (cust int, seq int, status text, total numeric(10,2), paid boolean, ref text, PRIMARY KEY (cust, seq))`,
		`INSERT INTO orders SELECT c, q, 'open', c * 1.5, false, md5(c::text) || md5(q::text) FROM generate_series(1, 3000) c, generate_series(1, 5) q WHERE NOT (c = 1500 AND q = 3)`,
		`CREATE TABLE codes (code text PRIMARY KEY, label text)`,
		`INSERT INTO codes SELECT 'c' || g, 'label ' || g FROM generate_series(1, 500) g`)
	c := newCLI(t)
	c.ok("init")
	steps := [][]string{
		{},
		{`INSERT INTO orders VALUES (1500, 3, 'open', 9.99, false, 'r')`, `INSERT INTO codes VALUES ('Zürich, "HQ"', 'new')`},
		{`UPDATE orders SET status = 'paid', paid = true, total = 10.50 WHERE cust = 1500 AND seq = 3`, `UPDATE codes SET label = 'renamed' WHERE code = 'Zürich, "HQ"'`},
		{`UPDATE orders SET status = 'x' WHERE cust = 1 AND seq = 1`},
		{`DELETE FROM orders WHERE cust = 1500 AND seq = 3`, `DELETE FROM codes WHERE code = 'Zürich, "HQ"'`},
		{`INSERT INTO orders VALUES (1500, 3, 'reopened', NULL, false, 'r')`, `INSERT INTO codes VALUES ('Zürich, "HQ"', 'back')`},
	}
	for h, stmts := range steps {
		s.exec(t, stmts...)
		c.ok("backup", "--db", s.dsn, "--time", historyHour(h))
	}
	out, errOut := c.code(0, "-v", "history", "orders", "--key", "1500,3")
	for _, want := range []string{
		"public.orders cust=1500, seq=3: 6 snapshots of postgres://localhost:5432/",
		"inserted\n    cust    1500\n    seq     3\n    status  \"open\"\n    total   9.99\n    paid    false\n    ref     \"r\"\n",
		"updated\n    status  \"open\" -> \"paid\"\n    total   9.99 -> 10.50\n    paid    false -> true\n",
		"deleted\n",
		"inserted again\n",
		"    total   NULL\n",
		"4 versions",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("history of orders does not say %q:\n%s", want, out)
		}
	}
	if m := historyRead.FindStringSubmatch(errOut); m == nil || m[3] == "0" || m[2] != m[4] {
		t.Errorf("-v: %q; want skipped snapshots and one chunk per snapshot read\n%s", m, errOut)
	}
	ops, objs := historyOps(t, c.ok("history", "orders", "--key", "1500,3", "--format", "jsonl"))
	if got := strings.Join(ops, ","); got != "insert,update,delete,insert again" {
		t.Errorf("ops %s", got)
	}
	if got, _ := json.Marshal(objs[1]["new"]); string(got) != `{"status":"paid","total":10.50,"paid":true}` && string(got) != `{"paid":true,"status":"paid","total":10.5}` {
		t.Errorf("update's new values %s", got)
	}

	out, errOut = c.code(0, "-v", "history", "codes", "--key", `"Zürich, ""HQ"""`)
	for _, want := range []string{"inserted\n", "    label  \"new\"\n", "    label  \"new\" -> \"renamed\"\n", "deleted\n", "inserted again\n", "4 versions"} {
		if !strings.Contains(out, want) {
			t.Errorf("history of codes does not say %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "read whole") {
		t.Errorf("-v does not say the text-keyed table was read whole:\n%s", errOut)
	}
	_, errOut = c.code(1, "history", "orders", "--key", "1500,6")
	if !strings.Contains(errOut, "no row with cust=1500, seq=6 in any of the 6 snapshots") {
		t.Errorf("absent key: %s", errOut)
	}
	_, errOut = c.code(1, "history", "orders", "--key", "1500")
	if !strings.Contains(errOut, "give all of cust, seq") {
		t.Errorf("part of a key: %s", errOut)
	}
}

// TestHistoryKeyChanged: a table whose primary key changed from id to k
// between two snapshots: the same --key names another row under the new
// key, so history stops with an error naming the snapshot and both keys
// instead of following k=20 under a heading of id=20 (it did before); a
// window on one side of the change works.
func TestHistoryKeyChanged(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, exec := sqliteFile(t, "k.db")
	exec(`CREATE TABLE b (id INTEGER PRIMARY KEY, k INTEGER NOT NULL, v TEXT)`,
		`INSERT INTO b VALUES (20, 1, 'id twenty'), (1, 20, 'k twenty')`)
	c.ok("backup", "--db", "sqlite://"+path, "--time", historyHour(0))
	exec(`CREATE TABLE b2 (id INTEGER NOT NULL, k INTEGER PRIMARY KEY, v TEXT)`,
		`INSERT INTO b2 SELECT id, k, v FROM b`, `DROP TABLE b`, `ALTER TABLE b2 RENAME TO b`)
	c.ok("backup", "--db", "sqlite://"+path, "--time", historyHour(1))

	_, errOut := c.code(1, "history", "b", "--key", "20")
	for _, want := range []string{"primary key of table b is (k)", "and (id) before it", "--since or --until"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("history across the key change does not say %q:\n%s", want, errOut)
		}
	}
	out := c.ok("history", "b", "--key", "20", "--until", historyHour(0))
	if !strings.Contains(out, "b id=20") || !strings.Contains(out, "id twenty") {
		t.Errorf("history before the key change:\n%s", out)
	}
}
