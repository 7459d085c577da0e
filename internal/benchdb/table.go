package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"strata/internal/benchrepo"
	"strata/internal/customerdb"
)

// The one-table benchmark (`make bench-table`, -table-rows): one SQLite
// table of -table-rows rows, backed up by strata at hour 0 and after each
// of -hours hours in which -rate of its rows change (four fifths updated
// anywhere in the table, a tenth appended, a tenth deleted), then its
// latest state restored into a new SQLite file. It prints, per hour, the
// bytes strata added to the repository, the backup's seconds and peak RSS,
// and the restore's; restic is not run. The table and its churn are made
// by the sqlite3 shell (SQL below), so the rows are the same in every run.

// tableDDL is the benchmark's table: about 75 bytes of COPY text a row.
const tableDDL = `CREATE TABLE events (id INTEGER PRIMARY KEY, account INTEGER NOT NULL, kind TEXT NOT NULL,
  amount INTEGER NOT NULL, note TEXT);`

// tableFill fills events with rows 1..n.
func tableFill(n int) string {
	return fmt.Sprintf(`PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
%s
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
INSERT INTO events SELECT i, (i * 7919) %% 100003, CASE i %% 4 WHEN 0 THEN 'charge' WHEN 1 THEN 'refund' WHEN 2 THEN 'fee' ELSE 'credit' END,
  (i * 31337) %% 1000000, 'event ' || i || ' of account ' || ((i * 7919) %% 100003) FROM s;
`, tableDDL, n)
}

// tableChurn changes k rows in hour h: spread over the table by a
// multiplicative hash of a counter, so that nearly every chunk changes.
func tableChurn(h, k int) string {
	upd, ins, del := k*8/10, k/10, k/10
	return fmt.Sprintf(`PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < %[2]d)
UPDATE events SET amount = amount + %[1]d, note = 'updated in hour %[1]d'
  WHERE id IN (SELECT (x * 2654435761 + %[1]d * 40503) %% (SELECT max(id) FROM events) + 1 FROM s);
WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < %[3]d)
INSERT INTO events SELECT m + x, (m + x) %% 100003, 'charge', x, 'new in hour %[1]d' FROM s, (SELECT max(id) AS m FROM events);
WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < %[4]d)
DELETE FROM events WHERE id IN (SELECT (x * 2246822519 + %[1]d * 9973) %% (SELECT max(id) FROM events) + 1 FROM s);
COMMIT;
`, h, upd, ins, del)
}

// tableHour is what one hour's backup cost.
type tableHour struct {
	n          int
	rows       int64
	exportMB   float64
	addedBytes int64
	secs       float64
	rssKiB     int64
}

func runTableBench(c config) error {
	var err error
	if c.strata, err = filepath.Abs(c.strata); err != nil {
		return err
	}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "strata-benchtable-"); err != nil {
			return err
		}
		defer os.RemoveAll(c.dir)
	} else if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	dbPath := filepath.Join(c.dir, "table.db")
	repoPath := filepath.Join(c.dir, "strata-repo")
	env := append(os.Environ(), "STRATA_REPOSITORY="+repoPath, "STRATA_PASSWORD=bench")
	fmt.Printf("benchdb one table %s, %d CPUs (GOMAXPROCS %d), -table-rows %d -hours %d -rate %g\n",
		time.Now().Format(time.DateOnly), runtime.NumCPU(), runtime.GOMAXPROCS(0), c.tableRows, c.hours, c.rate)
	sql := func(script string) error {
		f := filepath.Join(c.dir, "script.sql")
		if err := os.WriteFile(f, []byte(script), 0o600); err != nil {
			return err
		}
		_, err := command(env, f, nil, c.sqlite3, "-bail", dbPath)
		return err
	}
	secs, err := timed(func() error { return sql(tableFill(c.tableRows)) })
	if err != nil {
		return err
	}
	fmt.Printf("built %s (%d rows) in %.1fs\n\n", dbPath, c.tableRows, secs)
	if _, err := command(env, "", nil, c.strata, "init"); err != nil {
		return err
	}
	empty, err := benchrepo.Size(repoPath)
	if err != nil {
		return err
	}
	fmt.Printf("%4s %9s %10s %12s %9s %8s\n", "hour", "rows", "export MB", "strata +KB", "strata s", "RSS MiB")
	var hours []tableHour
	for h := 0; h <= c.hours; h++ {
		if h > 0 {
			if err := sql(tableChurn(h, int(float64(c.tableRows)*c.rate))); err != nil {
				return fmt.Errorf("hour %d: %w", h, err)
			}
		}
		r, err := tableBackup(c, env, dbPath, repoPath, h)
		if err != nil {
			return fmt.Errorf("hour %d: %w", h, err)
		}
		hours = append(hours, r)
		fmt.Printf("%4d %9d %10.1f %12.1f %9.2f %8.1f\n", h, r.rows, r.exportMB, kb(r.addedBytes), r.secs, float64(r.rssKiB)/1024)
	}

	newDB := filepath.Join(c.dir, "restored.db")
	restore, err := command(env, "", nil, c.strata, "restore", "latest", "--db", "sqlite://"+newDB)
	if err != nil {
		return err
	}
	got, err := eventsRows(newDB)
	if err != nil {
		return err
	}
	if want := hours[len(hours)-1].rows; got != want {
		return fmt.Errorf("strata restore: %d rows, the source has %d", got, want)
	}
	size, err := benchrepo.Size(repoPath)
	if err != nil {
		return err
	}
	var later int64
	var laterRSS int64
	for _, h := range hours[1:] {
		later += h.addedBytes
		laterRSS = max(laterRSS, h.rssKiB)
	}
	fmt.Printf("\nafter %d snapshots: the repository grew %.1f MB since init (hour 0 added %.1f MB)\n",
		len(hours), mb(size-empty), mb(hours[0].addedBytes))
	if n := len(hours) - 1; n > 0 {
		fmt.Printf("  hours 1-%d added %.1f KB an hour on average (%d rows changed an hour)\n",
			n, kb(later)/float64(n), int(float64(c.tableRows)*c.rate))
		fmt.Printf("  peak RSS of a backup: hour 0 %.1f MiB, hours 1-%d up to %.1f MiB\n",
			float64(hours[0].rssKiB)/1024, n, float64(laterRSS)/1024)
	}
	fmt.Printf("  restore of the latest state into a new SQLite file: %.2f s, peak RSS %.1f MiB\n",
		restore.Seconds, float64(restore.RSSKiB)/1024)
	return nil
}

// tableBackup backs the table up at hour h and says what it cost.
func tableBackup(c config, env []string, dbPath, repoPath string, h int) (tableHour, error) {
	r := tableHour{n: h}
	before, err := benchrepo.Size(repoPath)
	if err != nil {
		return r, err
	}
	var out bytes.Buffer
	run, err := command(env, "", &out, c.strata, "-q", "backup", "--db", "sqlite://"+dbPath, "--tier", "hourly",
		"--time", customerdb.HourTime(h).Format(customerdb.TimeLayout), "--json")
	if err != nil {
		return r, err
	}
	r.secs, r.rssKiB = run.Seconds, run.RSSKiB
	var res struct {
		Summary struct {
			BytesRead int64 `json:"bytes_read"`
		} `json:"summary"`
	}
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if err := json.Unmarshal(lines[len(lines)-1], &res); err != nil {
		return r, fmt.Errorf("reading the output of strata backup --json: %w: %q", err, out.String())
	}
	r.exportMB = mb(res.Summary.BytesRead)
	after, err := benchrepo.Size(repoPath)
	if err != nil {
		return r, err
	}
	r.addedBytes = after - before
	r.rows, err = eventsRows(dbPath)
	return r, err
}

// eventsRows counts the rows of the table events of the database at path.
func eventsRows(path string) (int64, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int64
	err = db.QueryRow(`SELECT count(*) FROM events`).Scan(&n)
	return n, err
}
