package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// diffSQLite creates a SQLite database with a rowid table of n rows and a
// WITHOUT ROWID table keyed by both its columns.
func diffSQLite(t *testing.T, n int) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	execAll(t, db,
		`CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, balance NUMERIC, note BLOB)`,
		`CREATE TABLE tags (name TEXT NOT NULL, v INTEGER, PRIMARY KEY (name, v)) WITHOUT ROWID`,
		`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < `+fmt.Sprint(n)+`)
		 INSERT INTO customers SELECT i, 'user' || i || '@example.com', i * 1.5, NULL FROM s`,
		`INSERT INTO tags VALUES ('a', 1), ('b', 2), ('c', 3)`,
	)
	return path, db
}

// diffStat is `diff --stat --json` decoded.
type diffStat struct {
	Tables []struct {
		Table        string
		Status       string
		RowsBefore   *int64   `json:"rows_before"`
		RowsAfter    *int64   `json:"rows_after"`
		Added        uint64   `json:"rows_added"`
		Deleted      uint64   `json:"rows_deleted"`
		Modified     uint64   `json:"rows_modified"`
		Cells        uint64   `json:"cells_modified"`
		Schema       []string `json:"schema_changes"`
		Positions    bool     `json:"sequence_positions_moved"`
		ChunksRead   uint64   `json:"chunks_read"`
		ChunksShared uint64   `json:"chunks_shared"`
	}
	Positions    []string `json:"sequence_positions_moved"`
	BytesRead    uint64   `json:"bytes_read"`
	Bytes        uint64   `json:"bytes"`
	ChunksRead   uint64   `json:"chunks_read"`
	ChunksShared uint64   `json:"chunks_shared"`
}

func (c *tcli) diffStat(args ...string) diffStat {
	c.t.Helper()
	out := c.ok(append([]string{"diff", "--json"}, args...)...)
	var st diffStat
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		c.t.Fatalf("diff --json: %v\n%s", err, out)
	}
	return st
}

func TestDiffTablesStatTextJSONL(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, db := diffSQLite(t, 60000)
	dsn := "sqlite://" + path
	c.ok("backup", "--db", dsn, "--time", "2025-06-17 13:00:00")
	execAll(t, db,
		`UPDATE customers SET email = 'tab	and
newline ''quote''' WHERE id = 5`,
		`UPDATE customers SET balance = NULL, note = x'00ff' WHERE id = 30000`,
		`UPDATE customers SET note = 3.0 WHERE id = 30001`,
		`DELETE FROM customers WHERE id = 45000`,
		`INSERT INTO customers VALUES (70000, 'new@example.com', -0.5, 'x')`,
		`DELETE FROM tags WHERE name = 'b'`,
		`INSERT INTO tags VALUES ('b', 20)`,
	)
	c.ok("backup", "--db", dsn, "--time", "2025-06-17 14:00:00")

	st := c.diffStat("--from-at", "2025-06-17 13:30", "--to-at", "2025-06-17 14:00")
	byName := map[string]int{}
	for i, tb := range st.Tables {
		byName[tb.Table] = i
	}
	cu := st.Tables[byName["customers"]]
	if cu.Added != 1 || cu.Deleted != 1 || cu.Modified != 3 || cu.Cells != 4 || *cu.RowsBefore != 60000 || *cu.RowsAfter != 60000 || cu.Status != "changed" {
		t.Errorf("customers: %+v", cu)
	}
	tg := st.Tables[byName["tags"]]
	if tg.Added != 1 || tg.Deleted != 1 || tg.Modified != 0 {
		t.Errorf("tags (keyed by both columns): %+v", tg)
	}
	// Shared chunks are passed over: the changes touch a handful of
	// chunks of a table of dozens. (The chunks read, both sides' of each
	// changed span, vary in size from run to run: 1.6 of 4.5 MB was seen.)
	if st.ChunksShared < 10 || st.ChunksRead > st.ChunksShared || st.BytesRead*2 > st.Bytes {
		t.Errorf("read %d of %d bytes, %d chunks read, %d shared: shared chunks were read", st.BytesRead, st.Bytes, st.ChunksRead, st.ChunksShared)
	}

	text := c.ok("diff", "latest", "--from-at", "2025-06-17 13:00", "--format", "text", "--tables", "customers")
	for _, want := range []string{
		"table customers\n",
		"M id=5\n    email: \"user5@example.com\" -> \"tab\\tand\\nnewline 'quote'\"\n",
		"M id=30000\n    balance: 45000 -> NULL\n    note: NULL -> x'00ff'\n",
		"M id=30001\n    note: NULL -> 3.0\n",
		"- id=45000  email=\"user45000@example.com\" balance=67500 note=NULL\n",
		"+ id=70000  email=\"new@example.com\" balance=-0.5 note=\"x\"\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "\x1b[") || strings.Contains(text, "tags") {
		t.Errorf("text: colour in a pipe, or a table --tables left out:\n%s", text)
	}

	jl := c.ok("diff", "--from-at", "2025-06-17 13:00", "--format", "jsonl")
	lines := strings.Split(strings.TrimSpace(jl), "\n")
	want := []string{
		`{"table":"customers","op":"update","key":{"id":5},"old":{"email":"user5@example.com"},"new":{"email":"tab\tand\nnewline 'quote'"}}`,
		`{"table":"customers","op":"update","key":{"id":30000},"old":{"balance":45000,"note":null},"new":{"balance":null,"note":"\\x00ff"}}`,
		`{"table":"customers","op":"update","key":{"id":30001},"old":{"note":null},"new":{"note":3.0}}`,
		`{"table":"customers","op":"delete","key":{"id":45000},"old":{"id":45000,"email":"user45000@example.com","balance":67500,"note":null}}`,
		`{"table":"customers","op":"insert","key":{"id":70000},"new":{"id":70000,"email":"new@example.com","balance":-0.5,"note":"x"}}`,
		`{"table":"tags","op":"delete","key":{"name":"b","v":2},"old":{"name":"b","v":2}}`,
		`{"table":"tags","op":"insert","key":{"name":"b","v":20},"new":{"name":"b","v":20}}`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("jsonl:\n%s\nwant:\n%s", jl, strings.Join(want, "\n"))
	}

	// --key-range, --columns and --limit narrow the changes.
	got := c.ok("diff", "--from-at", "2025-06-17 13:00", "--format", "jsonl", "--tables", "customers", "--key-range", "30000..45000")
	if n := strings.Count(got, "\n"); n != 3 || !strings.Contains(got, `"id":45000`) || strings.Contains(got, `"id":5}`) {
		t.Errorf("--key-range 30000..45000:\n%s", got)
	}
	got = c.ok("diff", "--from-at", "2025-06-17 13:00", "--format", "jsonl", "--columns", "note", "--tables", "customers", "--key-range", "..30001")
	if n := strings.Count(got, "\n"); n != 2 || strings.Contains(got, "balance") {
		t.Errorf("--columns note --key-range ..30001:\n%s", got)
	}
	got = c.ok("diff", "--from-at", "2025-06-17 13:00", "--format", "jsonl", "--limit", "2")
	if n := strings.Count(got, "\n"); n != 2 {
		t.Errorf("--limit 2 gave %d lines:\n%s", n, got)
	}

	// The text --stat.
	stat := c.ok("diff", "--from-at", "2025-06-17 13:00")
	if !strings.Contains(stat, "customers  60000        60000       1      1        3         4") {
		t.Errorf("stat:\n%s", stat)
	}

	_, errOut := c.code(exitError, "diff", "latest", "--columns", "nosuch")
	if !strings.Contains(errOut, `no table compared has a column "nosuch"`) {
		t.Errorf("--columns typo: %s", errOut)
	}
	_, errOut = c.code(exitError, "diff", "latest", "--tables", "nosuch")
	if !strings.Contains(errOut, "nosuch") {
		t.Errorf("--tables typo: %s", errOut)
	}
}

func TestDiffSchemaChanges(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, db := diffSQLite(t, 100)
	dsn := "sqlite://" + path
	c.ok("backup", "--db", dsn)
	execAll(t, db,
		`ALTER TABLE customers ADD COLUMN phone TEXT`,
		`CREATE INDEX customers_email ON customers (email)`,
		`CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT)`,
		`INSERT INTO audit VALUES (1, 'x')`,
		`DROP TABLE tags`,
		`UPDATE customers SET phone = '555' WHERE id = 3`,
	)
	c.ok("backup", "--db", dsn)
	sns := c.snapshots()
	st := c.diffStat(sns[0].ID, sns[1].ID)
	byName := map[string]int{}
	for i, tb := range st.Tables {
		byName[tb.Table] = i
	}
	cu := st.Tables[byName["customers"]]
	schema := strings.Join(cu.Schema, "\n")
	if !strings.Contains(schema, "columns: phone added") || !strings.Contains(schema, "CREATE INDEX customers_email") || cu.Modified != 0 {
		t.Errorf("customers: %+v", cu)
	}
	if a := st.Tables[byName["audit"]]; a.Status != "added" || a.Added != 1 || a.RowsBefore != nil {
		t.Errorf("audit: %+v", a)
	}
	if tg := st.Tables[byName["tags"]]; tg.Status != "dropped" || tg.Deleted != 3 || tg.RowsAfter != nil {
		t.Errorf("tags: %+v", tg)
	}
	text := c.ok("diff", sns[0].ID, sns[1].ID)
	if !strings.Contains(text, "audit (new)") || !strings.Contains(text, "tags (dropped)") || !strings.Contains(text, "customers: columns: phone added") {
		t.Errorf("stat:\n%s", text)
	}
}

func TestDiffFiles(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "one")
	write("same/x.txt", "unchanged")
	write("sub/b.txt", "two")
	write("gone/g.txt", "three")
	if err := os.Symlink("a.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	c.ok("backup", dir, "--time", "2025-06-17 13:00:00")
	write("a.txt", "one, changed")
	write("sub/new.txt", "four")
	if err := os.RemoveAll(filepath.Join(dir, "gone")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "sub/b.txt"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	write("link", "now a file")
	c.ok("backup", dir, "--time", "2025-06-17 14:00:00")

	out := c.ok("diff", "--from-at", "2025-06-17 13:00", "--source", "files:"+dir)
	for _, want := range []string{
		"M    " + dir + "/a.txt\n",
		"-    " + dir + "/gone/\n",
		"-    " + dir + "/gone/g.txt\n",
		"T    " + dir + "/link\n",
		"U    " + dir + "/sub/b.txt\n",
		"+    " + dir + "/sub/new.txt\n",
		"Files:           1 new,     1 removed,     3 changed\n",
		"Dirs:            0 new,     1 removed\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "same/") {
		t.Errorf("an unchanged folder is listed:\n%s", out)
	}
	sns := c.snapshots()
	lines := strings.Split(strings.TrimSpace(c.ok("diff", sns[0].ID, sns[1].ID, "--json")), "\n")
	var st struct {
		MessageType  string `json:"message_type"`
		BlobsAdded   uint64 `json:"data_blobs_added"`
		BytesAdded   uint64 `json:"bytes_added"`
		BytesRemoved uint64 `json:"bytes_removed"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &st); err != nil || st.MessageType != "statistics" || st.BlobsAdded != 3 || st.BytesAdded == 0 || st.BytesRemoved == 0 {
		t.Errorf("--json statistics: %+v %v\n%s", st, err, strings.Join(lines, "\n"))
	}
	_, errOut := c.code(exitError, "diff", sns[0].ID, sns[1].ID, "--format", "jsonl")
	if !strings.Contains(errOut, "are for table snapshots") {
		t.Errorf("--format on files: %s", errOut)
	}
}
