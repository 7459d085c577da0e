package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"strata/pack"
	"strata/repo/audit"
)

// auditRecords runs `strata audit --json` and returns the records.
func (c *tcli) auditRecords(flags ...string) []*audit.Record {
	c.t.Helper()
	var rows []auditRecordJSON
	out := c.ok(append([]string{"audit", "--json"}, flags...)...)
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		c.t.Fatalf("audit --json: %v\n%s", err, out)
	}
	var recs []*audit.Record
	for _, row := range rows {
		row.Record.Name = row.Name
		recs = append(recs, row.Record)
	}
	return recs
}

func commandsOf(recs []*audit.Record) []string {
	var cmds []string
	for _, r := range recs {
		cmds = append(cmds, r.Command)
	}
	return cmds
}

// TestAuditTrailRecordsCommands: the commands that change the repository
// or restore from it leave one record each, failures too, with their
// result and snapshots; the readers that do neither and dry runs leave
// none; a secret on the command line is masked.
func TestAuditTrailRecordsCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.stdin = []byte("one\n")
	c.ok("backup", "--stdin", "--stdin-name", "a.txt")
	first, err := pack.ParseID(c.snapshots()[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	c.stdin = []byte("two\n")
	c.ok("backup", "--stdin", "--stdin-name", "a.txt")
	c.ok("snapshots")
	c.ok("ls", "latest")
	c.ok("forget", "--keep-last", "1", "--dry-run")
	// A failing command is recorded with its error, and a secret in its
	// command line is not.
	c.code(exitError, "backup", "--db", "postgres://app:hunter2@127.0.0.1:1/shop?sslmode=disable&password=hunter3")
	c.ok("forget", "--keep-last", "1")
	c.ok("prune")
	c.ok("dump", "latest", "/a.txt")
	c.ok("check")

	recs := c.auditRecords()
	want := []string{"init", "backup", "backup", "backup", "forget", "prune", "dump", "check"}
	if got := commandsOf(recs); !slices.Equal(got, want) {
		t.Fatalf("recorded commands %v, want %v", got, want)
	}
	raw, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "hunter2") || strings.Contains(string(raw), "hunter3") {
		t.Errorf("a password is in the audit trail:\n%s", raw)
	}
	failed := recs[3]
	if failed.Result.OK || failed.Result.ExitCode != exitError || failed.Result.Error == "" || !slices.Contains(failed.Args, "--db") {
		t.Errorf("the failed backup's record: %+v", failed)
	}
	if !slices.Contains(recs[4].Snapshots, first) {
		t.Errorf("forget's record names %v, not the snapshot it removed %s", recs[4].Snapshots, first.Short())
	}
	if recs[6].Result.Check != nil || len(recs[6].Snapshots) != 1 {
		t.Errorf("dump's record: %+v", recs[6])
	}
	chk := recs[7].Result.Check
	if chk == nil || chk.Errors != 0 || !recs[7].Result.OK {
		t.Errorf("check's record: %+v", recs[7].Result)
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) || r.Host == "" || r.Program != "strata "+version || r.Time.IsZero() {
			t.Errorf("record %d: %+v", i, r)
		}
		if i > 0 && (len(r.Prev) != 1 || r.Prev[0] != recs[i-1].Name) {
			t.Errorf("record %d names %v, not its predecessor %s", i, r.Prev, recs[i-1].Name)
		}
	}
	if got := commandsOf(c.auditRecords("--command", "backup", "--since", recs[3].Time.Format("2006-01-02T15:04:05.999999999Z07:00"))); !slices.Equal(got, []string{"backup"}) {
		t.Errorf("backups since the failed one: %v", got)
	}
	if got := c.auditRecords("--since", "1h"); len(got) != len(recs) {
		t.Errorf("records of the last hour: %d, want all %d", len(got), len(recs))
	}
	if _, errOut := c.code(exitError, "audit", "--since", "yesterday"); !strings.Contains(errOut, "or a duration back from now") {
		t.Errorf("audit --since yesterday: %s", errOut)
	}
	text := c.ok("audit")
	if !strings.Contains(text, "exit 1") || !strings.Contains(text, "strata backup --db postgres://app:***@127.0.0.1:1/") {
		t.Errorf("audit:\n%s", text)
	}

	// The reader API health reports use: the last check.
	last := latestOf(t, c, "check")
	if last == nil || last.Name != recs[7].Name {
		t.Errorf("latest check: %+v", last)
	}
}

// latestOf opens the test repository and returns its newest record of
// command, through the library's reader.
func latestOf(t *testing.T, c *tcli, command string) *audit.Record {
	t.Helper()
	var got *audit.Record
	g := &globals{env: &env{getenv: func(k string) string { return c.vars[k] }}, repoPath: c.repo, passwordFile: c.pwFile}
	r, err := g.openRepo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, err = audit.New(r.Backend(), r.Key()).Latest(context.Background(), command)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestAuditRecordsNeverRemoved: forget, prune and every repair leave every
// audit record in place.
func TestAuditRecordsNeverRemoved(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	for _, s := range []string{"one\n", "two\n", "three\n"} {
		c.stdin = []byte(s)
		c.ok("backup", "--stdin", "--stdin-name", "a.txt")
	}
	before := c.files("audit")
	for _, args := range [][]string{
		{"forget", "--keep-last", "1"},
		{"prune"},
		{"repair", "index"},
		{"repair", "snapshots"},
		{"repair", "packs"},
		{"repair", "journal"},
		{"unlock", "--remove-all"},
	} {
		c.ok(args...)
		now := c.files("audit")
		for _, f := range before {
			if !slices.Contains(now, f) {
				t.Fatalf("strata %s removed audit record %s", strings.Join(args, " "), f)
			}
		}
		if len(now) != len(before)+1 {
			t.Errorf("strata %s: %d audit records, want %d", strings.Join(args, " "), len(now), len(before)+1)
		}
		before = now
	}
	c.check()
}

// TestCheckReportsAuditDamage: check names a damaged audit record and one
// removed from the middle of the trail.
func TestCheckReportsAuditDamage(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.stdin = []byte("one\n")
	c.ok("backup", "--stdin", "--stdin-name", "a.txt")
	c.ok("key", "add", "--new-password-file", c.pwFile)
	c.ok("protect", "latest")
	names := c.files("audit")
	slices.Sort(names)
	if len(names) != 4 {
		t.Fatalf("audit records %v", names)
	}
	dir := filepath.Join(c.repo, "audit")
	if err := os.Remove(filepath.Join(dir, names[1])); err != nil {
		t.Fatal(err)
	}
	flipByte(t, filepath.Join(dir, names[3]), 40)
	out, _ := c.code(exitCheckFailed, "check")
	for _, want := range []string{
		"audit record audit/" + names[1] + " is missing: record audit/" + names[2] + " names it",
		"audit record audit/" + names[3] + " is damaged",
		"strata never removes or changes them",
		// The removed record was the backup's, the only one naming its
		// snapshot.
		"is named by no audit record",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check does not say %q:\n%s", want, out)
		}
	}
	_, errOut := c.code(exitError, "audit")
	if !strings.Contains(errOut, names[3]) {
		t.Errorf("audit does not name the damaged record:\n%s", errOut)
	}
	// check's own record counts what it found.
	last := latestOf(t, c, "check")
	if last == nil || last.Result.OK || last.Result.ExitCode != exitCheckFailed || last.Result.Check.Errors != 3 {
		t.Errorf("check's record: %+v", last)
	}
}

// TestAuditWarnsOfRemovedRecords: a record removed from the middle of the
// trail, then with its successor, is named by audit as check names it, and
// audit exits 1, the listing (--json too) still printed.
func TestAuditWarnsOfRemovedRecords(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	c.backupStdin([]byte("one\n"), "a.txt")
	c.backupStdin([]byte("two\n"), "a.txt")
	c.check()
	names := c.files("audit")
	slices.Sort(names)
	if len(names) != 4 { // init, two backups, check
		t.Fatalf("audit records %v", names)
	}
	dir := filepath.Join(c.repo, "audit")
	if err := os.Remove(filepath.Join(dir, names[2])); err != nil {
		t.Fatal(err)
	}
	for _, flags := range [][]string{nil, {"--json"}} {
		out, errOut := c.code(exitError, append([]string{"audit"}, flags...)...)
		if want := "warning: audit record audit/" + names[2] + " is missing: record audit/" + names[3] + " names it"; !strings.Contains(errOut, want) {
			t.Errorf("audit %v does not say %q:\n%s", flags, want, errOut)
		}
		if flags != nil {
			var rows []auditRecordJSON
			if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 3 {
				t.Errorf("audit --json lists %d records (%v):\n%s", len(rows), err, out)
			}
		} else if !strings.Contains(out, "strata init") || strings.Count(out, "strata backup") != 1 || !strings.Contains(out, "strata check") {
			t.Errorf("audit does not list the 3 records left:\n%s", out)
		}
	}
	// Its predecessor removed too: no record names it, its sequence
	// number has none.
	if err := os.Remove(filepath.Join(dir, names[1])); err != nil {
		t.Fatal(err)
	}
	_, errOut := c.code(exitError, "audit")
	if want := "audit records of sequence number 2 are missing"; !strings.Contains(errOut, want) {
		t.Errorf("audit does not say %q:\n%s", want, errOut)
	}
}

// TestAuditWriteFailureKeepsResult: a record that cannot be written is a
// warning; the backup still succeeds.
func TestAuditWriteFailureKeepsResult(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	dir := filepath.Join(c.repo, "audit")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	// A file where the folder belongs: no record can be stored.
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c.stdin = []byte("one\n")
	out, errOut, code := c.run("backup", "--stdin", "--stdin-name", "a.txt")
	if code != 0 || !strings.Contains(errOut, "warning: the audit record of this backup could not be written") {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}
	if len(c.snapshots()) != 1 {
		t.Fatal("the backup's snapshot is not there")
	}
}

// TestAuditDrillRecord: verify drill records its restore time and tables.
func TestAuditDrillRecord(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	c.ok("backup", "--db", "sqlite://"+path)
	c.ok("verify", "drill", "latest")
	last := latestOf(t, c, "verify drill")
	if last == nil || last.Result.Drill == nil {
		t.Fatalf("drill record: %+v", last)
	}
	d := last.Result.Drill
	if !d.OK || d.RestoreSeconds <= 0 || len(d.Tables) != 2 || d.Tables[0].Table != "customers" || d.Tables[0].Rows != 3 || !d.Tables[0].OK || d.Tables[0].LoadSeconds <= 0 || d.Tables[0].LoadSeconds > d.RestoreSeconds {
		t.Errorf("drill result: %+v", d)
	}
	if len(last.Snapshots) != 1 || last.Snapshots[0].String() != c.snapshots()[0].ID {
		t.Errorf("drill snapshots: %v", last.Snapshots)
	}
}

// TestCopyLeavesAuditTrails: copy records itself in the destination, with
// the snapshots it wrote there, and copies none of the source's records;
// the source, only read, records nothing.
func TestCopyLeavesAuditTrails(t *testing.T) {
	t.Parallel()
	src := newCLI(t)
	src.ok("init")
	src.stdin = []byte("one\n")
	src.ok("backup", "--stdin", "--stdin-name", "a.txt")
	srcBefore := src.files("audit")
	dst := newCLI(t)
	dst.ok("init")
	dst.vars["STRATA_FROM_REPOSITORY"] = src.repo
	dst.vars["STRATA_FROM_PASSWORD_FILE"] = src.pwFile
	dst.ok("copy")
	recs := dst.auditRecords()
	if got := commandsOf(recs); !slices.Equal(got, []string{"init", "copy"}) {
		t.Fatalf("the destination's trail: %v", got)
	}
	if len(recs[1].Snapshots) != 1 || recs[1].Snapshots[0].String() != dst.snapshots()[0].ID {
		t.Errorf("copy's record names %v", recs[1].Snapshots)
	}
	if after := src.files("audit"); !slices.Equal(after, srcBefore) {
		t.Errorf("the source's trail changed: %v, was %v", after, srcBefore)
	}
}

// TestCheckReportsRemovedNewestAuditRecords: the newest records of the
// trail, which no later record names, removed after backups: check names
// the snapshots that no record names any more. A trail that began after
// some snapshots (written by a strata that kept none) does not count
// those.
func TestCheckReportsRemovedNewestAuditRecords(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	old := c.backupStdin([]byte("zero\n"), "a.txt")
	// The repository of a strata without an audit trail: it begins with
	// the next command.
	if err := os.RemoveAll(filepath.Join(c.repo, "audit")); err != nil {
		t.Fatal(err)
	}
	first := c.backupStdin([]byte("one\n"), "a.txt")
	second := c.backupStdin([]byte("two\n"), "a.txt")
	third := c.backupStdin([]byte("three\n"), "a.txt")
	c.check()
	names := c.files("audit")
	slices.Sort(names)
	if len(names) != 4 { // three backups and the check
		t.Fatalf("audit records %v", names)
	}
	dir := filepath.Join(c.repo, "audit")
	// The check's record and the last backup's: the chain of the rest
	// holds.
	for _, n := range names[2:] {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	out, _ := c.code(exitCheckFailed, "check")
	if want := "snapshot " + third[:8] + " (of "; !strings.Contains(out, want) || !strings.Contains(out, "is named by no audit record") {
		t.Errorf("check does not name snapshot %s as unrecorded:\n%s", third, out)
	}
	for _, id := range []string{old, first, second} {
		if strings.Contains(out, "snapshot "+id[:8]+" (of ") {
			t.Errorf("check names snapshot %s, which a record names or which is older than the trail:\n%s", id, out)
		}
	}
	if !strings.Contains(out, "the newest records of the audit trail were probably removed") {
		t.Errorf("check gives no advice on the unrecorded snapshot:\n%s", out)
	}
}

// TestAuditAnchorReportsRemovedHead: the newest record, of a command that
// left no snapshot (a check), removed: the client that wrote it keeps its
// anchor, and its check and audit name the record, again and again; a
// client that never saw it cannot tell.
func TestAuditAnchorReportsRemovedHead(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	state := t.TempDir()
	c.vars["XDG_STATE_HOME"] = state
	c.ok("init")
	c.backupStdin([]byte("one\n"), "a.txt")
	c.check()
	names := c.files("audit")
	slices.Sort(names)
	head := names[len(names)-1] // the check's
	dir := filepath.Join(state, "strata", "audit-anchors")
	anchors, err := os.ReadDir(dir)
	if err != nil || len(anchors) != 1 {
		t.Fatalf("anchors %v: %v", anchors, err)
	}
	fi, err := os.Stat(filepath.Join(dir, anchors[0].Name()))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("anchor file: %v %v", fi, err)
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("anchor folder: %v %v", di, err)
	}
	if err := os.Remove(filepath.Join(c.repo, "audit", head)); err != nil {
		t.Fatal(err)
	}
	want := "audit record audit/" + head
	for range 2 { // the check's own record does not move the anchor past the lost one
		out, _ := c.code(exitCheckFailed, "check")
		if !strings.Contains(out, want) || !strings.Contains(out, "this client wrote or saw it") {
			t.Errorf("check does not name the lost record %s:\n%s", head, out)
		}
	}
	_, errOut := c.code(exitError, "audit")
	if !strings.Contains(errOut, want) {
		t.Errorf("audit does not name the lost record %s:\n%s", head, errOut)
	}
	// Another client (no anchor) cannot tell: the chain holds.
	c.vars["XDG_STATE_HOME"] = t.TempDir()
	c.check()
}

// TestAuditAnchorSpellings: the anchor is the repository's, however --repo
// spells it: a record written through local:/abs/path and removed is
// named by a check and an audit through /abs/path. Before, the anchor of
// local:/abs/path was kept under the working folder joined to it, and
// the other spelling (or another working folder) found none.
func TestAuditAnchorSpellings(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.vars["XDG_STATE_HOME"] = t.TempDir()
	c.ok("init")
	c.vars["STRATA_REPOSITORY"] = "local:" + c.repo
	c.backupStdin([]byte("one\n"), "a.txt")
	names := c.files("audit")
	slices.Sort(names)
	head := names[len(names)-1] // the backup's
	if err := os.Remove(filepath.Join(c.repo, "audit", head)); err != nil {
		t.Fatal(err)
	}
	c.vars["STRATA_REPOSITORY"] = c.repo
	if _, errOut := c.code(exitError, "audit"); !strings.Contains(errOut, "audit record audit/"+head) || !strings.Contains(errOut, "this client wrote or saw it") {
		t.Errorf("audit through %s does not name the record lost since local:%s wrote it:\n%s", c.repo, c.repo, errOut)
	}
}
