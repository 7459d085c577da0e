package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// This file runs one case of the damage matrix: damage a copy of the
// fixture, then check, restore, repair as advised, check and restore.

// damCase is one file kind damaged one way.
type damCase struct {
	kind   damKind
	damage damage
}

// damResult is what one case found.
type damResult struct {
	damCase
	harmless   bool // the damage changes nothing that matters (a stale lock deleted)
	detected   bool // check failed, or a message named the damaged file
	attributed bool // check named the damaged file and every snapshot that lost data
	clean      bool // check --read-data passed after the advised repairs
	units      int  // files, streams and tables in the fixture's snapshots
	intact     int  // units whose blobs and snapshot survived the damage
	restored   int  // units restored exactly after the repairs
	repairs    []string
	violations []string
	log        string // every command run and its output, for failures
}

// recovered: after the repairs check is clean and every unit that had an
// intact copy restores exactly.
func (r *damResult) recovered() bool {
	return r.clean && r.restored >= r.intact
}

// damRun runs the binary on one copy of the repository.
type damRun struct {
	bin, repo, pw string
	tmp           string
	res           *damResult
	log           strings.Builder
}

func (r *damRun) run(args ...string) (stdout, stderr string, code int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Env = damEnv(r.repo, r.pw, r.tmp)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		code = -1
		errOut.WriteString(err.Error())
	}
	stdout, stderr = out.String(), errOut.String()
	fmt.Fprintf(&r.log, "$ strata %s\nexit %d\n%.1500s%.1500s\n", strings.Join(args, " "), code, stdout, stderr)
	if strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") || code < 0 {
		r.res.violations = append(r.res.violations, fmt.Sprintf("strata %s: panicked, hung or died (exit %d):\n%.3000s", strings.Join(args, " "), code, stderr))
	}
	return stdout, stderr, code
}

// runCase damages a copy of the fixture and measures what the commands do.
func (f *damFixture) runCase(t *testing.T, c damCase) *damResult {
	res := &damResult{damCase: c}
	r := &damRun{bin: f.bin, repo: filepath.Join(t.TempDir(), "repo"), pw: f.pw, tmp: t.TempDir(), res: res}
	copyDir(t, f.repo, r.repo)

	// Damage, and what the damage destroys: the blobs of which no copy
	// survives, or a whole snapshot when its file is gone.
	target, partner := c.kind.target(f), ""
	if c.damage.swap {
		partner = c.kind.partner(f)
	}
	gone := c.damage.apply(t, f, filepath.Join(r.repo, target), filepath.Join(r.repo, partner))
	destroyed := map[string]bool{} // snapshot ID -> it loses a unit
	lostBlobs := map[string]bool{}
	if c.kind.pack && gone != nil {
		lostBlobs = f.lostBlobs(map[string][2]int64{filepath.Base(target): *gone})
	}
	for _, sn := range f.snaps {
		for _, u := range sn.units {
			res.units++
			lost := f.unitLost(u, lostBlobs) || (c.kind.name == "snapshot" && gone != nil && strings.HasSuffix(target, sn.id))
			if lost {
				destroyed[sn.id] = true
			} else {
				res.intact++
			}
		}
	}
	res.harmless = c.kind.name == "lock" && c.damage.name == "delete"

	// Detection and attribution: what check says, and what the commands
	// that read the policy and the protections say about them. (A
	// restore's "no snapshot X" names a deleted snapshot file but does
	// not tell the user of damage.)
	checkOut, checkErr, code := r.run("check", "--read-data", "--json")
	seen := checkOut + checkErr
	for _, args := range [][]string{{"snapshots"}, {"policy", "show"}} {
		out, errOut, _ := r.run(args...)
		seen += out + errOut
	}
	names := damNames(c.kind, target, partner)
	named := func(s string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return strings.Contains(s, n) })
	}
	res.attributed = named(checkOut + checkErr)
	for id := range destroyed {
		res.attributed = res.attributed && strings.Contains(checkOut+checkErr, id[:8])
	}
	for _, sn := range f.snaps {
		r.restore(t, sn, sn.id, false)
	}
	res.detected = code != 0 || named(seen)

	// The user with a damaged key file uses their other password. When
	// the key is gone, no message readable without a master key can name
	// it (docs/design.md, "The journal"): check run with the other
	// password must.
	if c.kind.name == "key (in use)" {
		wrongPassword := code == exitWrongPass
		r.pw = f.pw2
		var checkErr string
		checkOut, checkErr, code = r.run("check", "--read-data", "--json")
		if wrongPassword {
			res.attributed = named(checkOut + checkErr)
		}
	}
	// Each round runs what check advises, until check advises nothing to
	// run or the same as in the round before (no progress).
	var last []string
	for round := 0; round < 4; round++ {
		var rep struct {
			WhatToDo []struct{ Command string } `json:"what_to_do"`
		}
		_ = json.Unmarshal([]byte(checkOut), &rep)
		var todo []string
		for _, s := range rep.WhatToDo {
			cmd := s.Command
			if !strings.HasPrefix(cmd, "strata ") || strings.HasPrefix(cmd, "strata backup") || strings.HasPrefix(cmd, "strata check") {
				continue
			}
			todo = append(todo, cmd)
		}
		if len(todo) == 0 || slices.Equal(todo, last) {
			break
		}
		last = todo
		for _, cmd := range todo {
			_, _, code := r.run(strings.Fields(cmd)[1:]...)
			res.repairs = append(res.repairs, fmt.Sprintf("%s (exit %d)", strings.TrimPrefix(cmd, "strata "), code))
		}
		checkOut, _, code = r.run("check", "--read-data", "--json")
	}
	res.clean = code == 0

	// Recovery: restore every snapshot, or its repaired replacement.
	out, _, code := r.run("snapshots", "--json")
	var sns []snapshotJSON
	if code == 0 {
		_ = json.Unmarshal([]byte(out), &sns)
	}
	for _, sn := range f.snaps {
		// The repaired snapshot if there is one (an original that
		// repair could not remove is still damaged), else the original.
		var pick *snapshotJSON
		for i := range sns {
			if sns[i].Time == sn.time && (pick == nil || slices.Contains(sns[i].Tags, "repaired")) {
				pick = &sns[i]
			}
		}
		switch {
		case pick != nil:
			res.restored += r.restore(t, sn, pick.ID, slices.Contains(pick.Tags, "repaired"))
		case code != 0:
			// snapshots failed: restore the original by its ID.
			res.restored += r.restore(t, sn, sn.id, false)
		}
	}
	res.log = r.log.String()
	return res
}

// damNames are the words that name the damaged file in a message: its
// ID's first 8 hex digits, as IDs are printed, and for a lock the notice
// about it (every command names the stale locks it ignores).
func damNames(k damKind, files ...string) []string {
	var names []string
	for _, p := range files {
		base := filepath.Base(p)
		switch {
		case p == "":
		case base == "config":
			names = append(names, "config")
		case k.name == "journal":
			// Named by its sequence number, the part of its name that
			// check can tell even when the file is gone.
			names = append(names, "journal file "+base[:16])
		case k.name == "audit":
			// Named whole: its first 8 digits are of its sequence number.
			names = append(names, "audit record audit/"+base)
		case k.name == "lock":
			names = append(names, "unreadable lock "+base[:8])
		default:
			names = append(names, base[:8])
		}
	}
	return names
}

// restore restores every unit of sn from snapshot id, compares it with
// the original and returns how many came back exactly. A restore that
// exits 0 with other bytes is a violation, unless repair marked the
// snapshot as having lost data; so is a failed file restore that leaves
// a file under its name.
func (r *damRun) restore(t *testing.T, sn damSnap, id string, repaired bool) int {
	ok := 0
	wrong := func(u damUnit, code int, how string) {
		if code == 0 && !repaired {
			r.res.violations = append(r.res.violations, fmt.Sprintf("snapshot %s: %s of %s exited 0 but %s", id[:8], sn.kind, u.name, how))
		}
	}
	switch sn.kind {
	case "files":
		target := filepath.Join(t.TempDir(), "restore")
		_, _, code := r.run("restore", id, "--target", target)
		for _, u := range sn.units {
			got, err := os.ReadFile(filepath.Join(target, u.name))
			switch {
			case err != nil && code == 0:
				wrong(u, code, "the file is missing")
			case err != nil:
			case bytes.Equal(got, u.want):
				ok++
			case code != 0:
				r.res.violations = append(r.res.violations, fmt.Sprintf("snapshot %s: a failed restore left %s with %d wrong bytes", id[:8], u.name, len(got)))
			default:
				wrong(u, code, fmt.Sprintf("restored %d bytes that differ from the original's %d", len(got), len(u.want)))
			}
		}
	case "stream":
		u := sn.units[0]
		out, _, code := r.run("dump", id, u.name)
		switch {
		case code == 0 && out == string(u.want):
			ok++
		case code == 0:
			wrong(u, code, fmt.Sprintf("dumped %d bytes that differ from the original's %d", len(out), len(u.want)))
		}
	case "tables":
		// All tables at once; when that fails, each table alone.
		all := filepath.Join(t.TempDir(), "restored.db")
		_, _, allCode := r.run("restore", id, "--db", "sqlite://"+all)
		for _, u := range sn.units {
			path, code := all, allCode
			if allCode != 0 {
				path = filepath.Join(t.TempDir(), "restored.db")
				_, _, code = r.run("restore", id, "--db", "sqlite://"+path, "--tables", u.name)
			}
			if code != 0 {
				continue
			}
			got, err := restoredRows(path, u.name)
			switch {
			case err != nil:
				wrong(u, code, fmt.Sprintf("the table cannot be read: %v", err))
			case bytes.Equal(got, u.want):
				ok++
			case repaired && !rowsSubset(got, u.want):
				r.res.violations = append(r.res.violations, fmt.Sprintf("repaired snapshot %s: table %s restored %d rows, some of which the original (%d rows) does not have",
					id[:8], u.name, bytes.Count(got, []byte("\n")), bytes.Count(u.want, []byte("\n"))))
			default:
				wrong(u, code, fmt.Sprintf("restored %d bytes of rows that differ from the original's %d", len(got), len(u.want)))
			}
		}
	}
	return ok
}

// rowsSubset tells whether every row of got is a row of want: a repaired
// snapshot may lose rows, never invent or change them.
func rowsSubset(got, want []byte) bool {
	rows := map[string]int{}
	for _, l := range bytes.SplitAfter(want, []byte("\n")) {
		rows[string(l)]++
	}
	for _, l := range bytes.SplitAfter(got, []byte("\n")) {
		if rows[string(l)] == 0 {
			return false
		}
		rows[string(l)]--
	}
	return true
}

func restoredRows(path, table string) ([]byte, error) {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT * FROM "` + table + `" ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rowsText(rows)
}
