package customerdb

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
)

func build(t *testing.T, customers int) *sql.DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := Build(context.Background(), db, Options{Customers: customers}); err != nil {
		t.Fatal(err)
	}
	return db
}

func counts(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, name := range Tables() {
		var n int64
		if err := db.QueryRow(`select count(*) from "` + name + `"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[name] = n
	}
	return out
}

// consistent fails the test when a foreign key dangles or the file is damaged.
func consistent(t *testing.T, db *sql.DB) {
	t.Helper()
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Fatal("foreign_key_check reports orphans")
	}
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q, %v", ok, err)
	}
}

func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("a long test: make test-long runs it")
	}
	db := build(t, 2000)
	consistent(t, db)
	got := counts(t, db)
	if got["customers"] != 2000 || got["customer_services"] != 6000 || got["family_accounts"] != 200 {
		t.Fatalf("counts: %v", got)
	}
	if got["family_members"] < 400 || got["family_members"] > 800 {
		t.Fatalf("family_members: %d", got["family_members"])
	}
}

func TestChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("a long test: make test-long runs it")
	}
	a, b := build(t, 5000), build(t, 5000)
	for h := 1; h <= 3; h++ {
		ca, err := Churn(context.Background(), a, h, 0.002)
		if err != nil {
			t.Fatal(err)
		}
		cb, err := Churn(context.Background(), b, h, 0.002)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ca, cb) {
			t.Fatalf("hour %d: the same churn on the same database changed different rows", h)
		}
		ops := map[string]map[Op]int{}
		for _, c := range ca {
			if ops[c.Table] == nil {
				ops[c.Table] = map[Op]int{}
			}
			ops[c.Table][c.Op]++
		}
		// 5000 customers at 0.2%: 10 touched (8 updated, 2 new); 15000
		// services: 30 touched (22 updated, 6 new, 1 deleted).
		want := map[string]map[Op]int{
			"customers":         {Update: 8, Insert: 2},
			"customer_services": {Update: 22, Insert: 6, Delete: 1},
		}
		for table, w := range want {
			for op, n := range w {
				if ops[table][op] != n {
					t.Errorf("hour %d: %s %s: got %d, want %d", h, table, op, ops[table][op], n)
				}
			}
		}
		consistent(t, a)
	}
	got := counts(t, a)
	if got["customers"] != 5006 || got["customer_services"] != 15000+18-3 {
		t.Fatalf("after three hours: %v", got)
	}
}
