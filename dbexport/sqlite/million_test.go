package sqlite_test

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"strata/repo/repotest"
)

// TestMillionRows backs up and restores a table of one million rows and
// compares the exports by hash.
func TestMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("one million rows: skipped with -short")
	}
	src, db := newDB(t, `CREATE TABLE big (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, amount REAL, note TEXT)`)
	exec(t, db, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
		INSERT INTO big SELECT i, 'customer ' || (i * 7919 % 100000), (i % 10000) / 100.0, CASE WHEN i % 7 = 0 THEN NULL ELSE 'note ' || i END FROM n`)
	r, _ := repotest.New(t, repotest.LargePacks)
	sn, dst := backupAndRestore(t, r, src)
	before, after := export(t, src)["big"], export(t, dst)["big"]
	if sha256.Sum256([]byte(before)) != sha256.Sum256([]byte(after)) {
		t.Fatal("the restored table differs")
	}
	if n := sn.Summary.BytesRead; n < 30<<20 {
		t.Errorf("exported %d bytes for a million rows", n)
	}
	t.Logf("1,000,000 rows, %s exported", fmt.Sprint(len(before)))
}
