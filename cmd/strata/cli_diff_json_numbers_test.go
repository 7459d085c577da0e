package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// jsonObjects decodes every line of out as a JSON object, numbers kept as
// their text, and fails the test naming what wrote a line that is not.
func jsonObjects(t *testing.T, what, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		var o map[string]any
		if err := dec.Decode(&o); err != nil {
			t.Fatalf("%s: not JSON: %q: %v", what, line, err)
		}
		objs = append(objs, o)
	}
	return objs
}

// PostgreSQL's numeric NaN and infinities, which JSON numbers lack, are
// the strings "NaN", "Infinity" and "-Infinity" in every JSON output, as
// float8's are; numbers beyond 2^53 keep all their digits.
func TestJSONNumericNaNAndInfinity(t *testing.T) {
	t.Parallel()
	pg := pgDB(t)
	pg.exec(t, `CREATE TABLE orders (id int PRIMARY KEY, total numeric, big bigint, f float8)`,
		`INSERT INTO orders VALUES (1, 1.5, 9007199254740993, 1), (2, 2, 1, 2), (3, 3, 1, 3), (4, 123456789012345678901234567890.123456789, 1, 4)`)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", pg.dsn, "--time", historyHour(0))
	pg.exec(t, `UPDATE orders SET total = 'Infinity' WHERE id = 1`, `UPDATE orders SET total = 'NaN', f = 'NaN' WHERE id = 2`,
		`UPDATE orders SET total = '-Infinity', f = '-Infinity' WHERE id = 3`)
	c.ok("backup", "--db", pg.dsn, "--time", historyHour(1))
	sns := c.snapshots()
	a, b := sns[0].ShortID, sns[1].ShortID

	want := map[string]string{"1": "Infinity", "2": "NaN", "3": "-Infinity"}
	for _, o := range jsonObjects(t, "diff --format jsonl", c.ok("diff", a, b, "--format", "jsonl")) {
		id := o["key"].(map[string]any)["id"].(json.Number).String()
		if got := o["new"].(map[string]any)["total"]; got != want[id] {
			t.Errorf("diff: row %s total %#v, want the string %q", id, got, want[id])
		}
	}
	rows := jsonObjects(t, "dump --format jsonl", c.ok("dump", b, "public.orders", "--format", "jsonl"))
	for _, o := range rows {
		id := o["id"].(json.Number).String()
		if w, ok := want[id]; ok && o["total"] != w {
			t.Errorf("dump: row %s total %#v, want the string %q", id, o["total"], w)
		}
	}
	if got := rows[0]["big"]; got != json.Number("9007199254740993") {
		t.Errorf("dump: big %#v, want the number with all its digits", got)
	}
	if got := rows[3]["total"]; got != json.Number("123456789012345678901234567890.123456789") {
		t.Errorf("dump: total %#v, want the number with all its digits", got)
	}
	hist := jsonObjects(t, "history --format jsonl", c.ok("history", "orders", "--key", "3", "--format", "jsonl"))
	if got := hist[len(hist)-1]["new"].(map[string]any)["total"]; got != "-Infinity" {
		t.Errorf("history: total %#v, want the string \"-Infinity\"", got)
	}

	if _, err := os.Stat("/dev/fuse"); err != nil {
		return
	}
	m := c.mount()
	data, err := os.ReadFile(filepath.Join(m.dir, "ids", b, "public.orders", "public.orders.jsonl"))
	if err != nil {
		t.Fatalf("mount: %v\n%s", err, m.stderr.String())
	}
	if !bytes.Equal(data, []byte(c.ok("dump", b, "public.orders", "--format", "jsonl"))) {
		t.Errorf("mount's .jsonl differs from dump --format jsonl:\n%s", data)
	}
}
