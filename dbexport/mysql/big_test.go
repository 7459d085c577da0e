package mysql

import (
	"bytes"
	"context"
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

// TestMillionRows round-trips a table of a million rows.
func TestMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("a million rows: not in -short mode")
	}
	const rows = 1000000
	d := newDatabase(t)
	db := testDB(t, d)
	execAll(t, db, `CREATE TABLE big (id int PRIMARY KEY, name varchar(40) NOT NULL, amount decimal(12,2),
		created datetime NOT NULL, score double, flags int) ENGINE=InnoDB`)
	gen := `SELECT seq, CONCAT('customer ', seq, IF(seq % 97 = 0, '\ttab', '')), seq * 1.25,
		'2024-01-01' + INTERVAL seq SECOND, seq / 7, IF(seq % 10 = 0, NULL, seq % 1000) FROM seq_1_to_1000000`
	var version string
	if err := db.QueryRow("SELECT VERSION()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(version, "MariaDB") { // MySQL has no sequence engine
		execAll(t, db, "SET SESSION cte_max_recursion_depth = 1000000")
		gen = `WITH RECURSIVE s(seq) AS (SELECT 1 UNION ALL SELECT seq + 1 FROM s WHERE seq < 1000000) ` + gen[:len(gen)-len("seq_1_to_1000000")] + "s"
	}
	start := time.Now()
	execAll(t, db, "INSERT INTO big "+gen)
	t.Logf("generate: %v", time.Since(start))

	start = time.Now()
	sc, data := exportAll(t, d)
	t.Logf("export: %v, %d MB", time.Since(start), len(data["big"])>>20)
	if n := bytes.Count(data["big"], []byte{'\n'}); n != rows {
		t.Fatalf("exported %d rows, want %d", n, rows)
	}

	dst := newDatabase(t)
	start = time.Now()
	if err := restoreInto(t, dst, sc, data, false); err != nil {
		t.Fatal(err)
	}
	t.Logf("restore: %v", time.Since(start))

	ctx := context.Background()
	src, err := Open(ctx, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	h := sha256.New()
	n, err := src.CopyOut(ctx, sc.Table("big"), h)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data["big"])
	if n != rows || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("after restore: %d rows, bytes equal %v", n, bytes.Equal(h.Sum(nil), want[:]))
	}
}
