package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// statusLine is one line of backup or restore --json output.
type statusLine struct {
	MessageType   string  `json:"message_type"`
	PercentDone   float64 `json:"percent_done"`
	TotalBytes    uint64  `json:"total_bytes"`
	BytesDone     uint64  `json:"bytes_done"`
	TotalFiles    uint64  `json:"total_files"`
	FilesDone     uint64  `json:"files_done"`
	ID            string  `json:"id"`
	FilesRestored uint64  `json:"files_restored"`
	BytesRestored uint64  `json:"bytes_restored"`
}

// jsonLines decodes every line of out, failing t on one that is not JSON.
func jsonLines(t *testing.T, out string) []statusLine {
	t.Helper()
	var lines []statusLine
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var s statusLine
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		lines = append(lines, s)
	}
	return lines
}

// TestJSONProgress: under --json, backup and restore print restic-style
// status lines, the last of them with the final counts against totals
// known beforehand (a scan of the paths; the restore's first walk), and
// then a summary.
func TestJSONProgress(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := t.TempDir()
	big := sampleData(t)
	writeTree(t, src, map[string]string{"a.tsv": string(big), "sub/b.txt": "hello\n", "sub/c.txt": ""})
	total := uint64(len(big) + len("hello\n"))

	for _, run := range []string{"first", "unchanged"} {
		lines := jsonLines(t, c.ok("backup", "--json", src))
		if len(lines) < 2 {
			t.Fatalf("%s backup --json printed %d lines, want status lines and a summary", run, len(lines))
		}
		last, status := lines[len(lines)-1], lines[len(lines)-2]
		if last.MessageType != "summary" || len(last.ID) != 64 {
			t.Errorf("%s backup: last line %+v, want the summary with the snapshot ID", run, last)
		}
		for _, s := range lines[:len(lines)-1] {
			if s.MessageType != "status" {
				t.Errorf("%s backup: line %+v before the summary is no status line", run, s)
			}
		}
		// Unchanged files count as done although they are not read again.
		if status.TotalBytes != total || status.BytesDone != total || status.TotalFiles != 3 || status.FilesDone != 3 || status.PercentDone != 1 {
			t.Errorf("%s backup: last status %+v, want %d of %d bytes and 3 of 3 files, percent_done 1", run, status, total, total)
		}
	}

	target := t.TempDir()
	lines := jsonLines(t, c.ok("restore", "--json", "latest", "--target", target))
	last, status := lines[len(lines)-1], lines[len(lines)-2]
	if status.MessageType != "status" || status.TotalBytes != total || status.BytesDone != total || status.TotalFiles != 3 || status.FilesDone != 3 || status.PercentDone != 1 {
		t.Errorf("restore: last status %+v, want %d of %d bytes, 3 of 3 files", status, total, total)
	}
	if last.MessageType != "summary" || last.FilesRestored != 3 || last.BytesRestored != total {
		t.Errorf("restore: summary %+v", last)
	}
	if _, err := os.Stat(filepath.Join(target, src, "sub", "b.txt")); err != nil {
		t.Error(err)
	}
	// --quiet keeps the summary and drops the status lines.
	if lines := jsonLines(t, c.ok("-q", "backup", "--json", src)); len(lines) != 1 || lines[0].MessageType != "summary" {
		t.Errorf("backup -q --json printed %+v, want the summary alone", lines)
	}
}

// TestJSONProgressTables: a database backup's status lines count tables
// against their number and, where the engine counts rows in the snapshot
// (PostgreSQL), rows against that count.
func TestJSONProgressTables(t *testing.T) {
	t.Parallel()
	src := pgDB(t)
	src.exec(t,
		`CREATE TABLE a (id integer PRIMARY KEY, v text)`,
		`CREATE TABLE b (id integer PRIMARY KEY)`,
		`INSERT INTO a SELECT g, 'row ' || g FROM generate_series(1, 500) g`,
		`INSERT INTO b SELECT g FROM generate_series(1, 20) g`)
	c := newCLI(t)
	c.ok("init")
	lines := jsonLines(t, c.ok("backup", "--json", "--db", src.dsn))
	st := lines[len(lines)-2]
	if st.MessageType != "status" || st.TotalFiles != 2 || st.FilesDone != 2 || st.PercentDone != 1 {
		t.Errorf("last status %+v, want 2 of 2 tables, percent_done 1", st)
	}
	var rows struct {
		TotalRows uint64 `json:"total_rows"`
		RowsDone  uint64 `json:"rows_done"`
	}
	last := strings.Split(strings.TrimSpace(c.ok("backup", "--json", "--db", src.dsn)), "\n")
	if err := json.Unmarshal([]byte(last[len(last)-2]), &rows); err != nil || rows.TotalRows != 520 || rows.RowsDone != 520 {
		t.Errorf("last status rows %+v (%v), want 520 of 520", rows, err)
	}
}
