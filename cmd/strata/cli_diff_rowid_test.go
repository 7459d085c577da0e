package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// A SQLite table that declares no primary key is compared by its
// values, not by the hidden rowid strata keeps for restores: VACUUM,
// which renumbers rowids, changes nothing, and a changed row is a delete
// and an insert of the values. history refuses such a table, whose rowid
// does not name a row over time.
func TestDiffSQLiteWithoutPrimaryKeyByValue(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "log.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	execAll(t, db, `CREATE TABLE log (at INTEGER, msg TEXT)`,
		`INSERT INTO log VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e')`,
		`DELETE FROM log WHERE at = 1`)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", "sqlite://"+path, "--time", historyHour(0))
	execAll(t, db, `VACUUM`)
	c.ok("backup", "--db", "sqlite://"+path, "--time", historyHour(1))
	execAll(t, db, `UPDATE log SET msg = 'C' WHERE at = 3`, `VACUUM`)
	c.ok("backup", "--db", "sqlite://"+path, "--time", historyHour(2))
	sns := c.snapshots()
	a, b, cc := sns[0].ShortID, sns[1].ShortID, sns[2].ShortID

	st := c.diffStat(a, b)
	if len(st.Tables) != 1 || st.Tables[0].Status != "same" || st.Tables[0].Added+st.Tables[0].Deleted+st.Tables[0].Modified != 0 {
		t.Errorf("diff across VACUUM: %+v, want the table unchanged", st.Tables)
	}
	st = c.diffStat(a, cc)
	if tb := st.Tables[0]; tb.Added != 1 || tb.Deleted != 1 || tb.Modified != 0 {
		t.Errorf("diff of one changed row across VACUUM: %+v, want 1 added and 1 deleted", tb)
	}
	out := c.ok("diff", a, cc, "--format", "text")
	if want := "table log\n- at=3 msg=\"c\"\n+ at=3 msg=\"C\"\n"; !strings.Contains(out, want) && !strings.Contains(out, "table log\n+ at=3 msg=\"C\"\n- at=3 msg=\"c\"\n") {
		t.Errorf("diff --format text:\n%s\nwant the delete and insert of row at=3 alone", out)
	}
	if strings.Contains(out, "rowid") {
		t.Errorf("diff --format text shows the rowid:\n%s", out)
	}
	// The script deletes one row of the old values and inserts the new
	// ones, leaving the rowid to SQLite (B's may be taken in A).
	script := c.ok("diff", a, cc, "--format", "sql")
	if !strings.Contains(script, `INSERT INTO "log" ("at", "msg")`) {
		t.Errorf("diff --format sql:\n%s\nwant an insert of the values without the rowid", script)
	}
	_, errOut := c.code(1, "history", "log", "--key", "2")
	if !strings.Contains(errOut, "table log declares no primary key") {
		t.Errorf("history of a table without a declared key: %s", errOut)
	}
}
