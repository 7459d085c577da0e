package mysql

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestRestoreFailure feeds a bad row to the second of three tables: the
// error names that table, the first stays restored, the second is empty,
// the third untouched.
func TestRestoreFailure(t *testing.T) {
	src, dst := newDatabase(t), newDatabase(t)
	execAll(t, testDB(t, src),
		`CREATE TABLE a (id int PRIMARY KEY)`, `INSERT INTO a VALUES (1), (2)`,
		`CREATE TABLE b (id int PRIMARY KEY, v varchar(3))`, `INSERT INTO b VALUES (1, 'x')`,
		`CREATE TABLE c (id int PRIMARY KEY)`, `INSERT INTO c VALUES (1)`,
	)
	sc, data := exportAll(t, src)
	ctx := context.Background()
	tests := []struct {
		name, rows, want string
	}{
		{"wrong field count", "1\tx\n2\n", "row 2 has 1 fields"},
		{"no final newline", "1\tx\n2\ty", "row 2 does not end in a newline"},
		{"bad escape", "1\tx\\q\n", `row 1, column v: unsupported escape \q`},
		{"value too long", "1\tabcd\n", "Data too long for column 'v'"},
		{"duplicate key", "1\tx\n1\ty\n", "Duplicate entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := OpenTarget(ctx, dst, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer tg.Close()
			bad := map[string][]byte{"a": data["a"], "b": []byte(tt.rows), "c": data["c"]}
			err = tg.Restore(ctx, sc, tableData(sc, bad), true)
			if err == nil || !strings.Contains(err.Error(), "restore table b: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one naming table b and saying %q", err, tt.want)
			}
			for name, want := range map[string]int64{"a": 2, "b": 0} {
				if n, ok, err := tg.RowCount(ctx, sc.Table(name)); n != want || !ok || err != nil {
					t.Errorf("table %s: %d rows (exists %v, %v), want %d", name, n, ok, err, want)
				}
			}
			if _, ok, _ := tg.RowCount(ctx, sc.Table("c")); ok {
				t.Error("table c was created after the failure")
			}
			execAll(t, testDB(t, dst), "DROP TABLE IF EXISTS a, b, c")
		})
	}

	t.Run("the source fails", func(t *testing.T) {
		tg, err := OpenTarget(ctx, dst, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer tg.Close()
		broken := errors.New("repository unreadable")
		tds := tableData(sc, data)
		tds[1].Rows = func(_ context.Context, w io.Writer) error {
			io.WriteString(w, "1\tx\n")
			return broken
		}
		if err := tg.Restore(ctx, sc, tds, true); !errors.Is(err, broken) {
			t.Fatalf("error %v, want %v", err, broken)
		}
	})
}

func TestOpenTargetMissingDatabase(t *testing.T) {
	d := testServer(t)
	d.Database = "strata_no_such_database"
	_, err := OpenTarget(context.Background(), d, Options{})
	if err == nil || !strings.Contains(err.Error(), "create the database first") {
		t.Errorf("OpenTarget on a missing database: %v", err)
	}
}

func TestRestoreEmptyTable(t *testing.T) {
	src, dst := newDatabase(t), newDatabase(t)
	execAll(t, testDB(t, src), `CREATE TABLE e (id int PRIMARY KEY, v text)`)
	// The target holds an empty table of the same name and another shape:
	// without replace it is created again from the snapshot.
	execAll(t, testDB(t, dst), `CREATE TABLE e (other int)`)
	sc, data := exportAll(t, src)
	if len(data["e"]) != 0 {
		t.Fatalf("empty table exported as %q", data["e"])
	}
	if err := restoreInto(t, dst, sc, data, false); err != nil {
		t.Fatal(err)
	}
	sc2, _ := exportAll(t, dst)
	if got, want := sc2.Table("e").DDL, sc.Table("e").DDL; got != want {
		t.Errorf("DDL after restore %q, want %q", got, want)
	}
}
