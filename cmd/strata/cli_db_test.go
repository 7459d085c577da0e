package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// sqliteApp creates a small app database with a foreign key and a check.
func sqliteApp(t *testing.T) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(wal)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, s := range []string{
		`CREATE TABLE customers (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE, balance NUMERIC CHECK (balance >= 0))`,
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), total REAL)`,
		`INSERT INTO customers (email, balance) VALUES ('a@x.com', 10), ('b@x.com', 0), ('c"q@x.com', 3.5)`,
		`INSERT INTO orders VALUES (1, 1, 9.5), (2, 1, 1), (3, 3, 100)`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	return path, db
}

func TestDatabaseBackupRestoreDrill(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, db := sqliteApp(t)
	dsn := "sqlite://" + path
	out := c.ok("backup", "--db", dsn, "--tier", "hourly", "--time", "2025-06-17 13:00:00")
	if !strings.Contains(out, "Tables: 2 new") {
		t.Errorf("backup output:\n%s", out)
	}
	if _, err := db.Exec(`UPDATE customers SET balance = 99 WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	c.ok("backup", "--db", dsn, "--tier", "hourly", "--time", "2025-06-17 14:00:00")

	// Point in time: 13:30 picks the 13:00 snapshot.
	inspect := filepath.Join(t.TempDir(), "inspect.db")
	c.ok("restore", "--at", "2025-06-17 13:30", "--db", "sqlite://"+inspect)
	idb, err := sql.Open("sqlite", "file:"+inspect)
	if err != nil {
		t.Fatal(err)
	}
	defer idb.Close()
	var bal string
	if err := idb.QueryRow(`SELECT balance FROM customers WHERE id = 2`).Scan(&bal); err != nil || bal != "0" {
		t.Errorf("restored balance = %q (%v), want the 13:00 value 0", bal, err)
	}

	// Restoring over rows is refused and changes nothing.
	_, errOut, code := c.run("restore", "latest", "--db", dsn)
	if code != exitError || !strings.Contains(errOut, "customers (3 rows)") {
		t.Errorf("restore over rows: exit %d, %s", code, errOut)
	}
	// A dry run shows the plan and fails as the restore would.
	plan, errOut := c.code(exitError, "restore", "latest", "--db", dsn, "--dry-run")
	if !strings.Contains(plan, "refuse: holds 3 rows") || !strings.Contains(errOut, "customers (3 rows)") {
		t.Errorf("dry run:\n%s%s", plan, errOut)
	}
	// --replace takes a safety snapshot first.
	c.ok("restore", "--at", "2025-06-17 13:00:00", "--db", dsn, "--replace")
	var sns []map[string]any
	if err := json.Unmarshal([]byte(c.ok("snapshots", "--json", "--tag", "pre-restore")), &sns); err != nil || len(sns) != 1 {
		t.Fatalf("pre-restore snapshots: %v %v", sns, err)
	}
	if err := db.QueryRow(`SELECT balance FROM customers WHERE id = 2`).Scan(&bal); err != nil || bal != "0" {
		t.Errorf("after --replace balance = %q, want 0", bal)
	}

	drill := c.ok("verify", "drill", "latest")
	if !strings.Contains(drill, "drill passed") {
		t.Errorf("drill:\n%s", drill)
	}
	csv := c.ok("dump", "latest", "customers", "--format", "csv")
	if !strings.HasPrefix(csv, "id,email,balance\n1,a@x.com,10\n") || !strings.Contains(csv, `"c""q@x.com"`) {
		t.Errorf("csv:\n%s", csv)
	}
	jsonl := c.ok("dump", "latest", "orders", "--format", "jsonl")
	if !strings.HasPrefix(jsonl, `{"id":1,"customer_id":1,"total":9.5}`) {
		t.Errorf("jsonl:\n%s", jsonl)
	}
	c.check()
}

func TestDrillFindsOrphans(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, db := sqliteApp(t)
	// SQLite does not enforce foreign keys unless asked: an orphan slips in.
	if _, err := db.Exec(`INSERT INTO orders VALUES (4, 42, 1)`); err != nil {
		t.Fatal(err)
	}
	c.ok("backup", "--db", "sqlite://"+path)
	out, _, code := c.run("verify", "drill", "latest")
	if code != exitCheckFailed || !strings.Contains(out, "1 row references a missing customers row") {
		t.Errorf("drill: exit %d\n%s", code, out)
	}
}

func TestGuard(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	marker := filepath.Join(t.TempDir(), "ran")
	_, errOut, code := c.run("guard", "--db", "sqlite://"+path, "--", "sh", "-c", "touch "+marker+"; exit 7", "--password=hunter2")
	if code != 7 {
		t.Fatalf("guard exit %d, want the command's 7\n%s", code, errOut)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Error("the command did not run")
	}
	if !strings.Contains(errOut, "to undo: strata restore") {
		t.Errorf("guard did not say how to restore:\n%s", errOut)
	}
	var sns []map[string]any
	_ = json.Unmarshal([]byte(c.ok("snapshots", "--json", "--tag", "pre-op")), &sns)
	if len(sns) != 1 {
		t.Fatalf("%d pre-op snapshots", len(sns))
	}
	meta := c.ok("cat", "snapshot", sns[0]["id"].(string))
	if !strings.Contains(meta, "--password=***") || strings.Contains(meta, "hunter2") {
		t.Errorf("command line not recorded with the secret removed:\n%s", meta)
	}
	// A failing snapshot means the command does not run.
	os.Remove(marker)
	_, _, code = c.run("guard", "--db", "sqlite:///nonexistent/x.db", "--", "touch", marker)
	if code == 0 {
		t.Error("guard succeeded without a snapshot")
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran although the snapshot failed")
	}
}
