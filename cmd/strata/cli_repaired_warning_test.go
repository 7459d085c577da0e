package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repairedSnapshot runs repair index and repair snapshots --forget after
// the caller lost a pack, and returns the ID of the snapshot tagged
// repaired and its meta "lost".
func (c *tcli) repairedSnapshot() (id, lost string) {
	c.t.Helper()
	c.ok("repair", "index")
	c.ok("repair", "snapshots", "--forget")
	for _, sn := range c.snapshots() {
		if strings.Join(sn.Tags, ",") == "repaired" {
			id = sn.ID
		}
	}
	if id == "" {
		c.t.Fatal("no snapshot is tagged repaired")
	}
	var sn struct{ Meta map[string]string }
	c.catJSON(&sn, "snapshot", id)
	if sn.Meta["lost"] == "" {
		c.t.Fatalf("repaired snapshot %s has no meta lost: %v", id, sn.Meta)
	}
	return id, sn.Meta["lost"]
}

// TestRepairedSnapshotWarns: ls, dump and restore of a snapshot that
// repair snapshots --forget made after data was lost exit 0 but say, on
// stderr even with --quiet (as a JSON line with --json), that the
// snapshot lost data and what its meta "lost" names; of an intact
// snapshot they say nothing of the kind.
func TestRepairedSnapshotWarns(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init", "--pack-size", "1")
	snap := c.backupStdin(sampleData(t), "export.tsv")
	other := c.backupStdin([]byte("a second, intact snapshot\n"), "notes.txt")
	if err := os.Remove(c.dataBlob(snap, "export.tsv").Path); err != nil {
		t.Fatal(err)
	}
	repaired, lost := c.repairedSnapshot()
	if !strings.Contains(lost, "/export.tsv") {
		t.Fatalf("meta lost %q does not name /export.tsv", lost)
	}
	warning := "warning: snapshot " + repaired[:8] + " was made by repair snapshots after data was lost"

	for _, args := range [][]string{
		{"dump", repaired[:8], "/export.tsv"},
		{"-q", "dump", repaired[:8], "/export.tsv"},
		{"ls", repaired[:8]},
		{"-q", "ls", "--long", repaired[:8]},
		{"restore", repaired[:8], "--target", t.TempDir()},
		{"-q", "restore", repaired[:8], "--target", t.TempDir()},
	} {
		_, errOut := c.code(exitOK, args...)
		if !strings.Contains(errOut, warning) || !strings.Contains(errOut, lost) {
			t.Errorf("%s: no warning naming the snapshot and what it lost (%s):\n%s", strings.Join(args, " "), lost, errOut)
		}
	}

	for _, args := range [][]string{
		{"ls", "--json", repaired[:8]},
		{"restore", "--json", repaired[:8], "--target", t.TempDir()},
	} {
		_, errOut := c.code(exitOK, args...)
		var w struct {
			MessageType string `json:"message_type"`
			SnapshotID  string `json:"snapshot_id"`
			Lost        string
		}
		line := strings.TrimSpace(errOut)
		if err := json.Unmarshal([]byte(line), &w); err != nil || w.MessageType != "warning" || w.SnapshotID != repaired || w.Lost != lost {
			t.Errorf("%s: stderr is not one JSON warning naming %s and %q: %v\n%s", strings.Join(args, " "), repaired, lost, err, errOut)
		}
	}

	for _, args := range [][]string{
		{"dump", other[:8], "/notes.txt"},
		{"ls", other[:8]},
		{"restore", other[:8], "--target", t.TempDir()},
	} {
		if _, errOut := c.code(exitOK, args...); strings.Contains(errOut, "warning") {
			t.Errorf("%s of an intact snapshot warns:\n%s", strings.Join(args, " "), errOut)
		}
	}
}

// TestRepairedTableWarns: dump and restore of a table that lost rows to
// repair snapshots --forget warn, naming the table.
func TestRepairedTableWarns(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	loseRowsOfTable(t, c)
	repaired, lost := c.repairedSnapshot()
	warning := "warning: snapshot " + repaired[:8] + " was made by repair snapshots after data was lost"
	for _, args := range [][]string{
		{"-q", "dump", repaired[:8], "t", "--format", "csv"},
		{"-q", "restore", repaired[:8], "--db", "sqlite://" + filepath.Join(t.TempDir(), "restored.db")},
	} {
		_, errOut := c.code(exitOK, args...)
		if !strings.Contains(errOut, warning) || !strings.Contains(errOut, lost) || !strings.Contains(lost, "/t (") {
			t.Errorf("%s: no warning naming the snapshot and what it lost (%s):\n%s", strings.Join(args, " "), lost, errOut)
		}
	}
}
