package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// This file holds what the kill tests run: backups of standard input, of
// a folder and of an SQLite table, the strata processes and their kill,
// and forget.

// backupJob is one backup the rig runs: the arguments after `backup`, the
// file fed to its standard input (if any), and what its snapshot must
// restore.
type backupJob struct {
	kind  string // "stdin", "files" or "table", for the log
	args  []string
	stdin string
	want  saved
}

// saved is what a snapshot must restore: the SHA-256 of the stream or
// file at path in it, or, for a table snapshot (path ""), of the rows of
// killTable as tableSum reads them.
type saved struct {
	path string
	sum  string
}

// stdinJob backs up data as the stream /export.tsv.
func (k *killRig) stdinJob(data killData) backupJob {
	return backupJob{kind: "stdin", args: []string{"--stdin", "--stdin-name", "export.tsv"}, stdin: data.path,
		want: saved{path: "/export.tsv", sum: data.sum}}
}

// killProc is a strata process the rig started.
type killProc struct {
	cmd   *exec.Cmd
	out   bytes.Buffer
	lines chan killLine // its standard error, line by line, as it arrives

	mu     sync.Mutex
	errOut strings.Builder
}

type killLine struct {
	text string
	at   time.Time
}

// start starts strata with args, its standard input read from the file
// stdin (none if ""); its standard error arrives on p.lines.
func (k *killRig) start(args []string, stdin string) *killProc {
	k.t.Helper()
	p := &killProc{cmd: exec.Command(k.bin, args...), lines: make(chan killLine, 1024)}
	p.cmd.Env, p.cmd.Stdout = k.envv, &p.out
	if stdin != "" {
		in, err := os.Open(stdin)
		if err != nil {
			k.t.Fatal(err)
		}
		k.t.Cleanup(func() { in.Close() })
		p.cmd.Stdin = in
	}
	pipe, err := p.cmd.StderrPipe()
	if err != nil {
		k.t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		k.t.Fatal(err)
	}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.mu.Lock()
			p.errOut.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- killLine{sc.Text(), time.Now()}:
			default: // nobody reads them
			}
		}
	}()
	return p
}

func (p *killProc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errOut.String()
}

// kill sends SIGKILL and reports whether the process had exited
// successfully before it; any other exit fails the test.
func (k *killRig) kill(p *killProc) (completed bool) {
	k.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		k.t.Fatal(err)
	}
	err := p.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return true
	case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
		return false
	}
	k.t.Fatalf("strata %s failed before the kill: %v\n%s", strings.Join(p.cmd.Args[1:], " "), err, p.stderr())
	return false
}

// filesJob backs up the folder holding data: one file, cut with the file
// chunk parameters rather than the table ones of standard input.
func (k *killRig) filesJob(data killData) backupJob {
	dir := filepath.Dir(data.path)
	return backupJob{kind: "files", args: []string{dir}, want: saved{path: filepath.Join(dir, "export.tsv"), sum: data.sum}}
}

// tableJob changes the table a little and backs it up with --db.
func (k *killRig) tableJob(rng *rand.Rand) backupJob {
	k.t.Helper()
	k.table.change(k.t, rng)
	return backupJob{kind: "table", args: []string{"--db", "sqlite://" + k.table.path}, want: saved{sum: tableSum(k.t, k.table.db)}}
}

// killTable is an SQLite table the kill tests back up with --db. Rows
// change, appear and disappear between backups, so its snapshots hold
// delta blobs, whose bases prune must keep.
type killTable struct {
	path   string
	db     *sql.DB
	nextID int
}

func newKillTable(t *testing.T, rows int) *killTable {
	t.Helper()
	tb := &killTable{path: filepath.Join(t.TempDir(), "app.db")}
	db, err := sql.Open("sqlite", "file:"+tb.path+"?_pragma=journal_mode(wal)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tb.db = db
	if _, err := db.Exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, balance INTEGER NOT NULL, note TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for range rows {
		tb.insert(t, tx, rng)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return tb
}

func (tb *killTable) insert(t *testing.T, tx *sql.Tx, rng *rand.Rand) {
	t.Helper()
	tb.nextID++
	note := fmt.Sprintf("%016x plan=%d region=%s", rng.Uint64(), rng.IntN(5), []string{"eu", "us", "ap"}[rng.IntN(3)])
	if _, err := tx.Exec(`INSERT INTO customers VALUES (?, ?, ?, ?)`, tb.nextID, "customer "+strconv.Itoa(tb.nextID), rng.IntN(100000), note); err != nil {
		t.Fatal(err)
	}
}

// change updates about 1% of the rows, deletes a few and adds a few.
func (tb *killTable) change(t *testing.T, rng *rand.Rand) {
	t.Helper()
	tx, err := tb.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for range tb.nextID / 100 {
		if _, err := tx.Exec(`UPDATE customers SET balance = ? WHERE id = ?`, rng.IntN(100000), 1+rng.IntN(tb.nextID)); err != nil {
			t.Fatal(err)
		}
	}
	for range 20 {
		if _, err := tx.Exec(`DELETE FROM customers WHERE id = ?`, 1+rng.IntN(tb.nextID)); err != nil {
			t.Fatal(err)
		}
		tb.insert(t, tx, rng)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// tableSum is the SHA-256 of the rows of customers, in id order.
func tableSum(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT id, name, balance, note FROM customers ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	h := sha256.New()
	for rows.Next() {
		var id, balance int64
		var name, note string
		if err := rows.Scan(&id, &name, &balance, &note); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%d\t%s\t%d\t%s\n", id, name, balance, note)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// restoredSum restores table snapshot id into a new SQLite file and
// returns its tableSum.
func (tb *killTable) restoredSum(k *killRig, id string) string {
	k.t.Helper()
	target := filepath.Join(k.tmpdir, "restored-"+id[:8]+".db")
	k.strata(0, "restore", id, "--db", "sqlite://"+target)
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(target + suffix)
		}
	}()
	db, err := sql.Open("sqlite", "file:"+target)
	if err != nil {
		k.t.Fatal(err)
	}
	defer db.Close()
	return tableSum(k.t, db)
}

// hasForget reports whether this strata has `forget --keep-last`.
func (k *killRig) hasForget() bool {
	cmd := exec.Command(k.bin, "forget", "--help")
	cmd.Env = k.envv
	out, _ := cmd.CombinedOutput()
	return strings.Contains(string(out), "--keep-last")
}

// forget keeps the newest keep snapshots of each source, fewer if that
// would forget nothing: with `strata forget --keep-last` when there is
// one, else by removing the snapshot files as forget would. Snapshots no
// longer listed are no longer expected to restore.
func (k *killRig) forget(keep int, useForget bool) {
	k.t.Helper()
	listed := k.listSnapshots()
	bySource := map[string][]snapshotJSON{}
	largest := 0
	for _, sn := range listed {
		bySource[sn.Source] = append(bySource[sn.Source], sn)
		largest = max(largest, len(bySource[sn.Source]))
	}
	keep = max(1, min(keep, largest-1))
	if useForget {
		k.strata(0, "forget", "--keep-last", strconv.Itoa(keep))
	} else {
		for _, sns := range bySource {
			sort.Slice(sns, func(i, j int) bool { return sns[i].Time > sns[j].Time })
			for _, sn := range sns[min(keep, len(sns)):] {
				if err := os.Remove(filepath.Join(k.cli.repo, "snapshots", sn.ID)); err != nil {
					k.t.Fatal(err)
				}
			}
		}
	}
	kept := map[string]bool{}
	for _, sn := range k.listSnapshots() {
		if _, ok := k.snapshots[sn.ID]; !ok {
			k.t.Fatalf("snapshot %s appeared from nowhere", sn.ShortID)
		}
		kept[sn.ID] = true
	}
	for id := range k.snapshots {
		if !kept[id] {
			delete(k.snapshots, id)
			delete(k.verified, id)
		}
	}
	if len(kept) == len(listed) {
		k.t.Logf("forget --keep-last %d removed nothing", keep)
	}
}

func (k *killRig) listSnapshots() []snapshotJSON {
	k.t.Helper()
	out, _ := k.strata(0, "snapshots", "--json")
	var sns []snapshotJSON
	if err := json.Unmarshal([]byte(out), &sns); err != nil {
		k.t.Fatalf("snapshots --json: %v\n%s", err, out)
	}
	return sns
}
