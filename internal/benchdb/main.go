// Command benchdb is the database benchmark of `make bench-db`: it builds
// the customer database of internal/customerdb (200,000 customers and
// 600,000 customer_services by default, about 134 MB of COPY text), backs
// it up with `strata backup --db` at hour 0 and after each of 24 hours of
// churn at 0.2% of rows an hour, and side by side sends the same rows
// (each snapshot's tables through `strata dump --format tsv`, one export
// file) to `restic backup --stdin`. It prints bytes added and seconds per
// hour for both, the floor (zstd level 3 of the first export plus, for
// each later hour, of the rows new or changed since the previous hour),
// the restore times of the latest state (`strata restore --db` against
// `restic dump` plus sqlite3 .import), the peak RSS of every backup, the
// times of `check --read-data` of both repositories after the last hour,
// and which of the targets are met. With -table-rows N it runs the
// one-table benchmark of `make bench-table` instead (table.go).
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"strata/dbexport"
	"strata/dbexport/sqlite"
	"strata/internal/benchrepo"
	"strata/internal/customerdb"
)

type config struct {
	strata, restic, sqlite3 string
	customers, hours        int
	tableRows               int // the one-table benchmark (table.go) instead of the customer database
	rate                    float64
	dir                     string
}

func main() {
	if os.Getenv(launchEnv) != "" {
		launch()
	}
	var c config
	flag.StringVar(&c.strata, "strata", "bin/strata", "strata binary")
	flag.StringVar(&c.restic, "restic", "restic", "restic binary")
	flag.StringVar(&c.sqlite3, "sqlite3", "sqlite3", "sqlite3 command-line shell")
	flag.IntVar(&c.customers, "customers", 200000, "customers in the database (three services each)")
	flag.IntVar(&c.hours, "hours", 24, "hours of churn after hour 0")
	flag.Float64Var(&c.rate, "rate", 0.002, "share of rows changed per hour")
	flag.StringVar(&c.dir, "dir", "", "work folder (default: a new temporary folder, removed afterwards)")
	flag.IntVar(&c.tableRows, "table-rows", 0, "instead of the customer database, back up one table of `N` rows (strata only; make bench-table)")
	flag.Parse()
	bench := runBench
	if c.tableRows > 0 {
		bench = runTableBench
	}
	if err := bench(c); err != nil {
		fmt.Fprintln(os.Stderr, "benchdb:", err)
		os.Exit(1)
	}
}

// hour is what one hour's backups cost.
type hour struct {
	n                        int
	changes                  int   // rows Churn inserted or updated
	changed                  int   // rows new or changed in the export
	exportBytes              int64 // COPY text strata read
	strataAdded, resticAdded int64 // repository growth
	strataSecs, resticSecs   float64
	strataRSS, resticRSS     int64 // peak RSS of the backups, KiB
	floor                    int64
}

func runBench(c config) error {
	var err error
	if c.strata, err = filepath.Abs(c.strata); err != nil {
		return err
	}
	if c.restic, err = exec.LookPath(c.restic); err != nil {
		return fmt.Errorf("restic not found (%w): install it with `apt-get install restic` or run `make bench-db`, which does", err)
	}
	if c.sqlite3, err = exec.LookPath(c.sqlite3); err != nil {
		return fmt.Errorf("sqlite3 not found (%w): install it with `apt-get install sqlite3` or run `make bench-db`, which does", err)
	}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "strata-benchdb-"); err != nil {
			return err
		}
		defer os.RemoveAll(c.dir)
	} else if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	dbPath := filepath.Join(c.dir, "app.db")
	strataRepo, resticRepo := filepath.Join(c.dir, "strata-repo"), filepath.Join(c.dir, "restic-repo")
	env := append(os.Environ(),
		"STRATA_REPOSITORY="+strataRepo, "STRATA_PASSWORD=bench",
		"RESTIC_REPOSITORY="+resticRepo, "RESTIC_PASSWORD=bench", "RESTIC_CACHE_DIR="+filepath.Join(c.dir, "restic-cache"))

	var versions bytes.Buffer
	for _, v := range [][]string{{c.strata, "version"}, {c.restic, "version"}, {c.sqlite3, "--version"}} {
		if _, err := command(env, "", &versions, v[0], v[1:]...); err != nil {
			return err
		}
	}
	fmt.Printf("benchdb %s, %d CPUs (GOMAXPROCS %d), -customers %d -hours %d -rate %g\n",
		time.Now().Format(time.DateOnly), runtime.NumCPU(), runtime.GOMAXPROCS(0), c.customers, c.hours, c.rate)
	for _, l := range strings.Split(strings.TrimSpace(versions.String()), "\n") {
		fmt.Println("  " + l)
	}

	ctx := context.Background()
	sqlDB, err := customerdb.Open(dbPath)
	if err != nil {
		return err
	}
	defer sqlDB.Close()
	db := dbConn{sqlDB, dbPath}
	secs, err := timed(func() error { return customerdb.Build(ctx, sqlDB, customerdb.Options{Customers: c.customers}) })
	if err != nil {
		return err
	}
	counts, err := customerdb.CountRows(sqlDB)
	if err != nil {
		return err
	}
	fmt.Printf("built %s in %.1fs: %s\n\n", dbPath, secs, formatCounts(counts))
	if _, err := command(env, "", nil, c.strata, "init"); err != nil {
		return err
	}
	if _, err := command(env, "", nil, c.restic, "init"); err != nil {
		return err
	}

	fmt.Printf("%4s %7s %8s %9s %12s %9s %8s %12s %9s %8s %10s\n",
		"hour", "changes", "diffrows", "export MB", "strata +KB", "strata s", "RSS MiB", "restic +KB", "restic s", "RSS MiB", "floor KB")
	var hours []hour
	export, prevExport := filepath.Join(c.dir, "export.tsv"), filepath.Join(c.dir, "export-prev.tsv")
	for h := 0; h <= c.hours; h++ {
		r, err := oneHour(ctx, c, env, db, h, export, prevExport, strataRepo, resticRepo)
		if err != nil {
			return fmt.Errorf("hour %d: %w", h, err)
		}
		hours = append(hours, r)
		fmt.Printf("%4d %7d %8d %9.1f %12.1f %9.2f %8.1f %12.1f %9.2f %8.1f %10.1f\n",
			h, r.changes, r.changed, mb(r.exportBytes), kb(r.strataAdded), r.strataSecs, float64(r.strataRSS)/1024,
			kb(r.resticAdded), r.resticSecs, float64(r.resticRSS)/1024, kb(r.floor))
		if err := os.Rename(export, prevExport); err != nil {
			return err
		}
	}
	rs, err := restores(c, env, db, prevExport)
	if err != nil {
		return err
	}
	if rs.exportOnly, err = exportOnly(ctx, dbPath); err != nil {
		return err
	}
	cs, err := checks(c, env)
	if err != nil {
		return err
	}
	return report(c, hours, rs, cs, strataRepo, resticRepo)
}

// oneHour churns hour h (none at hour 0), backs the database up with
// strata, exports the new snapshot, backs the export up with restic and
// computes the hour's floor.
func oneHour(ctx context.Context, c config, env []string, db dbConn, h int, export, prevExport, strataRepo, resticRepo string) (hour, error) {
	r := hour{n: h}
	if h > 0 {
		changes, err := customerdb.Churn(ctx, db.DB(), h, c.rate)
		if err != nil {
			return r, err
		}
		for _, ch := range changes {
			if ch.Op != customerdb.Delete {
				r.changes++
			}
		}
	}
	before, err := benchrepo.Size(strataRepo)
	if err != nil {
		return r, err
	}
	var out bytes.Buffer
	// -q: the summary alone, as a cron job runs it (status lines would
	// make a SQLite backup count its rows first, for their totals).
	run, err := command(env, "", &out, c.strata, "-q", "backup", "--db", "sqlite://"+db.path, "--tier", "hourly",
		"--time", customerdb.HourTime(h).Format(customerdb.TimeLayout), "--json")
	if err != nil {
		return r, err
	}
	r.strataSecs, r.strataRSS = run.Seconds, run.RSSKiB
	var res struct {
		ID      string `json:"id"`
		Summary struct {
			BytesRead int64 `json:"bytes_read"`
		} `json:"summary"`
	}
	// The summary is the last line, after the status lines.
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if err := json.Unmarshal(lines[len(lines)-1], &res); err != nil {
		return r, fmt.Errorf("reading the output of strata backup --json: %w: %q", err, out.String())
	}
	r.exportBytes = res.Summary.BytesRead
	after, err := benchrepo.Size(strataRepo)
	if err != nil {
		return r, err
	}
	r.strataAdded = after - before

	if _, err := writeExport(c.strata, env, res.ID, customerdb.Tables(), export); err != nil {
		return r, err
	}
	if before, err = benchrepo.Size(resticRepo); err != nil {
		return r, err
	}
	run, err = command(env, export, nil, c.restic, "backup", "--quiet", "--stdin", "--stdin-filename", "export.tsv", "--host", "benchdb")
	if err != nil {
		return r, err
	}
	r.resticSecs, r.resticRSS = run.Seconds, run.RSSKiB
	if after, err = benchrepo.Size(resticRepo); err != nil {
		return r, err
	}
	r.resticAdded = after - before

	if h == 0 {
		f, err := os.Open(export)
		if err != nil {
			return r, err
		}
		defer f.Close()
		r.floor, err = zstdSize(f)
		return r, err
	}
	var rows bytes.Buffer
	if r.changed, err = changedRows(prevExport, export, &rows); err != nil {
		return r, err
	}
	if r.changed != r.changes {
		fmt.Printf("     (hour %d: Churn reports %d inserted or updated rows, the exports differ in %d)\n", h, r.changes, r.changed)
	}
	r.floor, err = zstdSize(&rows)
	return r, err
}

// restoreTimes are the two ways back to a SQLite file of the latest state,
// and what the export alone costs.
type restoreTimes struct {
	strata                float64
	resticDump, sqlImport float64
	exportOnly            float64
}

// exportOnly times strata's SQLite export of every table (the COPY text
// a backup chunks) into io.Discard, to show how much of an hourly backup
// is the export.
func exportOnly(ctx context.Context, path string) (float64, error) {
	return timed(func() error {
		src, err := sqlite.Open(ctx, dbexport.DSN{Engine: dbexport.EngineSQLite, Path: path}, sqlite.Options{})
		if err != nil {
			return err
		}
		defer src.Close()
		s, err := src.Schema(ctx)
		if err != nil {
			return err
		}
		for _, t := range s.Tables {
			if _, err := src.CopyOut(ctx, t, io.Discard); err != nil {
				return err
			}
		}
		return nil
	})
}

func restores(c config, env []string, db dbConn, lastExport string) (restoreTimes, error) {
	var rt restoreTimes
	want, err := customerdb.CountRows(db.DB())
	if err != nil {
		return rt, err
	}
	newDB := filepath.Join(c.dir, "new.db")
	run, err := command(env, "", nil, c.strata, "restore", "latest", "--db", "sqlite://"+newDB)
	if err != nil {
		return rt, err
	}
	rt.strata = run.Seconds
	if err := sameCounts("strata restore", newDB, want); err != nil {
		return rt, err
	}

	dumped := filepath.Join(c.dir, "restic-dump.tsv")
	f, err := os.Create(dumped)
	if err != nil {
		return rt, err
	}
	run, err = command(env, "", f, c.restic, "dump", "latest", "/export.tsv")
	if err1 := f.Close(); err == nil {
		err = err1
	}
	if err != nil {
		return rt, err
	}
	rt.resticDump = run.Seconds
	if a, b := fileSize(dumped), fileSize(lastExport); a != b {
		return rt, fmt.Errorf("restic dump wrote %d bytes, the export had %d", a, b)
	}
	nullable, err := nullableColumns(db.DB())
	if err != nil {
		return rt, err
	}
	split := filepath.Join(c.dir, "import")
	if err := os.MkdirAll(split, 0o700); err != nil {
		return rt, err
	}
	new2 := filepath.Join(c.dir, "new2.db")
	script := filepath.Join(c.dir, "import.sql")
	rt.sqlImport, err = timed(func() error {
		if err := splitExport(dumped, split); err != nil {
			return err
		}
		if err := os.WriteFile(script, []byte(importScript(split, nullable)), 0o600); err != nil {
			return err
		}
		_, err := command(env, script, nil, c.sqlite3, "-bail", new2)
		return err
	})
	if err != nil {
		return rt, err
	}
	return rt, sameCounts("restic dump + sqlite3 .import", new2, want)
}

func sameCounts(what, path string, want map[string]int64) error {
	got, err := tableCounts(path)
	if err != nil {
		return err
	}
	for t, n := range want {
		if got[t] != n {
			return fmt.Errorf("%s: table %s has %d rows, the source %d", what, t, got[t], n)
		}
	}
	return nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return fi.Size()
}

func formatCounts(counts map[string]int64) string {
	var parts []string
	for _, t := range customerdb.Tables() {
		parts = append(parts, fmt.Sprintf("%s %d", t, counts[t]))
	}
	return strings.Join(parts, ", ")
}

// dbConn is the open customer database and its file.
type dbConn struct {
	db   *sql.DB
	path string
}

func (d dbConn) DB() *sql.DB { return d.db }
