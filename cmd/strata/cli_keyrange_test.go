package main

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// keyRangeDB makes a SQLite database with a 60,000-row table t keyed by
// id, a 30,000-row table o keyed by (cust, seq), and a table m keyed by
// text, and backs it up.
func keyRangeDB(t *testing.T, c *tcli) string {
	t.Helper()
	c.ok("init")
	path, exec := sqliteFile(t, "k.db")
	exec(
		`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, n)`,
		`WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 60000)
		 INSERT INTO t SELECT x, hex(randomblob(24)), CASE x % 3 WHEN 0 THEN x * 1.5 WHEN 1 THEN '0' || x ELSE x END FROM n`,
		`CREATE TABLE o (cust INTEGER, seq INTEGER, note TEXT, PRIMARY KEY (cust, seq)) WITHOUT ROWID`,
		`WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM n WHERE x < 29999)
		 INSERT INTO o SELECT x / 10 + 1, x % 10 + 1, hex(randomblob(30)) FROM n`,
		`CREATE TABLE m (code TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID`,
		`INSERT INTO m VALUES ('a', 1), ('b', 2), ('b,c', 3), ('c', 4), ('d', 5)`,
	)
	c.ok("backup", "--db", "sqlite://"+path)
	return path
}

// filterDump keeps the rows of a full dump (tsv, csv or jsonl) whose
// integer key columns (positions in the row, names in JSON) pass keep.
func filterDump(t *testing.T, format, full string, cols []int, names []string, keep func(key []int64) bool) string {
	t.Helper()
	var out strings.Builder
	lines := strings.SplitAfter(full, "\n")
	for i, line := range lines {
		if line == "" {
			continue
		}
		if format == "csv" && i == 0 {
			out.WriteString(line)
			continue
		}
		key := make([]int64, len(cols))
		for j := range cols {
			var field string
			switch format {
			case "jsonl":
				var row map[string]json.RawMessage
				if err := json.Unmarshal([]byte(line), &row); err != nil {
					t.Fatal(err)
				}
				field = string(row[names[j]])
			case "csv":
				field = strings.Split(strings.TrimSuffix(line, "\n"), ",")[cols[j]]
			default:
				field = strings.Split(strings.TrimSuffix(line, "\n"), "\t")[cols[j]]
			}
			n, err := strconv.ParseInt(field, 10, 64)
			if err != nil {
				t.Fatalf("key field %q of %q: %v", field, line, err)
			}
			key[j] = n
		}
		if keep(key) {
			out.WriteString(line)
		}
	}
	return out.String()
}

var keyRangeRead = regexp.MustCompile(`(\d+) rows? in range; read (\d+) of (\d+) chunks, .* \((\d+) bytes\) from the repository`)

// dump --key-range writes what the full dump filtered by key writes, in
// every format, for closed and open ranges and composite keys, and reads
// only the chunks that hold the range: a narrow range reads a small part
// of the repository.
func TestDumpKeyRange(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	keyRangeDB(t, c)
	repoBytes := c.repoSize()
	fullDumps := map[string]string{} // table/format -> the full dump, the same for every range
	between := func(lo, hi int64) func([]int64) bool {
		return func(k []int64) bool { return k[0] >= lo && k[0] <= hi }
	}
	for _, tc := range []struct {
		table, rng string
		cols       []int
		names      []string
		keep       func([]int64) bool
		narrow     bool
	}{
		{"t", "30000..30010", []int{0}, []string{"id"}, between(30000, 30010), true},
		{"t", "1..1", []int{0}, []string{"id"}, between(1, 1), true},
		{"t", "59990..", []int{0}, []string{"id"}, between(59990, 1<<62), true},
		{"t", "..25", []int{0}, []string{"id"}, between(-1<<62, 25), true},
		{"t", "20000..40000", []int{0}, []string{"id"}, between(20000, 40000), false},
		{"t", "60001..70000", []int{0}, []string{"id"}, between(60001, 70000), true},
		// A prefix of the composite key: every row of customers 1500..1501.
		{"o", "1500..1501", []int{0, 1}, []string{"cust", "seq"}, between(1500, 1501), true},
		{"o", "1500,3..1500,7", []int{0, 1}, []string{"cust", "seq"}, func(k []int64) bool {
			return k[0] == 1500 && k[1] >= 3 && k[1] <= 7
		}, true},
		{"o", "2999,5..", []int{0, 1}, []string{"cust", "seq"}, func(k []int64) bool {
			return k[0] > 2999 || k[0] == 2999 && k[1] >= 5
		}, true},
	} {
		for _, format := range []string{"tsv", "csv", "jsonl"} {
			t.Run(tc.table+"/"+tc.rng+"/"+format, func(t *testing.T) {
				full, ok := fullDumps[tc.table+"/"+format]
				if !ok {
					full = c.ok("dump", "latest", tc.table, "--format", format)
					fullDumps[tc.table+"/"+format] = full
				}
				want := filterDump(t, format, full, tc.cols, tc.names, tc.keep)
				got, errOut := c.code(0, "-v", "dump", "latest", tc.table, "--format", format, "--key-range", tc.rng)
				if got != want {
					t.Fatalf("--key-range %s: %d bytes, want %d (the full dump filtered)\n%.300s\nwant\n%.300s", tc.rng, len(got), len(want), got, want)
				}
				m := keyRangeRead.FindStringSubmatch(errOut)
				if m == nil {
					t.Fatalf("-v does not say what was read:\n%s", errOut)
				}
				rows, _ := strconv.Atoi(m[1])
				read, _ := strconv.Atoi(m[2])
				chunks, _ := strconv.Atoi(m[3])
				bytesRead, _ := strconv.ParseInt(m[4], 10, 64)
				if wantRows := strings.Count(want, "\n") - map[bool]int{true: 1}[format == "csv"]; rows != wantRows {
					t.Errorf("-v says %d rows, wrote %d", rows, wantRows)
				}
				// Chunk boundaries follow the repository's random
				// polynomial, so table o's chunk count varies from run to
				// run (one run had 19). Ten are enough for "at most 2 read" to mean
				// the range narrowed the read.
				if chunks < 10 {
					t.Fatalf("table %s has %d chunks: too few to tell", tc.table, chunks)
				}
				if tc.narrow && (read > 2 || bytesRead > repoBytes/10) {
					t.Errorf("read %d of %d chunks, %d bytes of a %d-byte repository", read, chunks, bytesRead, repoBytes)
				}
			})
		}
	}
	t.Run("TextAndErrors", func(t *testing.T) { dumpKeyRangeTextAndErrors(t, c) })
}

// dumpKeyRangeTextAndErrors: a key range of a table keyed by text reads
// every chunk (strata does not know the database's collation) and still
// writes the rows in range, a quoted field holding a comma included;
// bounds that cannot be keys of the table are refused naming the key. A
// subtest of TestDumpKeyRange, on its repository.
func dumpKeyRangeTextAndErrors(t *testing.T, c *tcli) {
	got, errOut := c.code(0, "-v", "dump", "latest", "m", "--key-range", `"b,c"..c`)
	if want := "b,c\t3\nc\t4\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !strings.Contains(errOut, "every chunk was read") {
		t.Errorf("-v does not say every chunk was read:\n%s", errOut)
	}
	for _, tc := range []struct{ args, want string }{
		{"t --key-range 5", "want FROM..TO"},
		{"t --key-range ..", "give FROM, TO or both"},
		{"t --key-range 9..3", "FROM sorts after TO"},
		{"t --key-range abc..", `"abc" is not an integer, but key column id of table t is one`},
		{"t --key-range 1,2..3", "FROM gives 2 fields, but the key of table t has 1: (id)"},
		{"o --key-range 1,2,3..", "the key of table o has 2: (cust, seq)"},
	} {
		_, errOut := c.code(1, append([]string{"dump", "latest"}, strings.Fields(tc.args)...)...)
		if !strings.Contains(errOut, tc.want) {
			t.Errorf("dump latest %s: %s\nwant it to say %q", tc.args, errOut, tc.want)
		}
	}
}
