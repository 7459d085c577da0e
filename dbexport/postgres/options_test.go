package postgres

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"strata/dbexport"
)

// TestPasswordNeverShown: errors name the DSN without its password,
// wherever the password came from.
func TestPasswordNeverShown(t *testing.T) {
	server := testServer(t)
	const secret = "s3cret-Pa55word"
	ctx := context.Background()

	d := server
	d.Database = "strata_no_such_database"
	d.Password = secret
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noPw := d
	noPw.Password = ""

	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"Open", func() error { _, err := Open(ctx, d, Options{}); return err }},
		{"Open with password file", func() error { _, err := Open(ctx, noPw, Options{PasswordFile: pwFile}); return err }},
		{"OpenTarget", func() error { _, err := OpenTarget(ctx, d, Options{}); return err }},
		{"CreateDatabase", func() error { return CreateDatabase(ctx, d, "x") }},
		{"Open with PGPASSWORD", func() error {
			t.Setenv("PGPASSWORD", secret)
			_, err := Open(ctx, noPw, Options{})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error shows the password: %v", err)
			}
			if !strings.Contains(err.Error(), "strata_no_such_database") {
				t.Errorf("error does not name the database: %v", err)
			}
		})
	}
	if _, _, err := connConfig(noPw, Options{PasswordFile: pwFile}); err != nil {
		t.Fatal(err)
	} else if cfg, _, _ := connConfig(noPw, Options{PasswordFile: pwFile}); cfg.Password != secret {
		t.Errorf("password file gave %q", cfg.Password)
	}
	if cfg, _, _ := connConfig(d, Options{PasswordFile: pwFile}); cfg.Password != secret || strings.Contains(cfg.ConnString(), secret) {
		t.Errorf("DSN password not used, or in the connection string")
	}
}

func TestSchemasOption(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	execSQL(t, d, fixture...)
	s := openSource(t, d, Options{Schemas: []string{"Billing"}})
	sch := readSchema(t, s)
	if len(sch.Tables) != 1 || sch.Tables[0].QualifiedName() != "Billing.Invoice Items" || len(sch.Views) != 0 || len(sch.Sequences) != 0 {
		t.Errorf("--schema Billing gave %d tables, views %v, sequences %v", len(sch.Tables), sch.Views, sch.Sequences)
	}
	_, err := Open(context.Background(), d, Options{Schemas: []string{"Billing", "nope"}})
	if err == nil || !strings.Contains(err.Error(), "no schema named nope") {
		t.Errorf("unknown schema: %v", err)
	}
}

// TestOddTables covers what a restore turns into plain tables, and the
// ordering of tables without a primary key whose columns have no btree
// ordering.
func TestOddTables(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	execSQL(t, d,
		`CREATE TYPE public.pair AS (a integer, b json)`,
		`CREATE TABLE public.odd (x xml, c public.pair, p point, ja json[], i integer, v varchar(5), r int4range)`,
		`INSERT INTO public.odd VALUES ('<a/>', ROW(1, '{}'), '(1,1)', ARRAY['{}'::json], 2, 'b', '[1,3)'),
			('<b/>', ROW(1, '[]'), '(0,1)', NULL, 1, 'a', NULL), ('<a/>', ROW(0, '{}'), '(1,1)', ARRAY['[]'::json], 2, 'b', '[1,2)')`,
		`CREATE TABLE public.measurements (id integer, at date, v real, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)`,
		`CREATE TABLE public.m2024 PARTITION OF public.measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`,
		`CREATE TABLE public.m2025 PARTITION OF public.measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
		`CREATE INDEX ON public.measurements (v)`,
		`INSERT INTO public.measurements VALUES (1, '2024-05-01', 1.5), (1, '2025-05-01', 2.5), (2, '2024-06-01', NULL)`,
		`CREATE TABLE public.parent (id integer PRIMARY KEY, name text)`,
		`CREATE TABLE public.child (extra text) INHERITS (public.parent)`,
		`INSERT INTO public.parent VALUES (1, 'p')`,
		`INSERT INTO public.child VALUES (2, 'c', 'x')`,
		`CREATE UNLOGGED TABLE public.scratch (k text PRIMARY KEY) WITH (fillfactor = 70)`,
		`INSERT INTO public.scratch VALUES ('a')`,
		`CREATE MATERIALIZED VIEW public.mv AS SELECT 1 AS one`,
		`CREATE TABLE public.nocols ()`,
		`INSERT INTO public.nocols DEFAULT VALUES`,
		`INSERT INTO public.nocols DEFAULT VALUES`,
	)
	// Without pg_dump: the catalog path, and warnings of what it leaves out.
	s := openSource(t, d, Options{PgDump: "/nonexistent/pg_dump"})
	sch := readSchema(t, s)
	var names []string
	for _, tab := range sch.Tables {
		names = append(names, tab.QualifiedName())
	}
	if strings.Join(names, " ") != "public.child public.measurements public.nocols public.odd public.parent public.scratch" {
		t.Errorf("tables %v", names)
	}
	if p := sch.Table("public.measurements").Partitions; strings.Join(p, " ") != "public.m2024 public.m2025" {
		t.Errorf("partitions of public.measurements: %v", p)
	}
	warnings := strings.Join(sch.Warnings, "\n")
	for _, w := range []string{"no schema archive", "public.measurements is partitioned", "public.child inherits",
		"materialized view public.mv", "column public.odd.c has type public.pair", "public.odd has no primary key"} {
		if !strings.Contains(warnings, w) {
			t.Errorf("no warning %q in\n%s", w, warnings)
		}
	}
	if _, err := exec.LookPath("pg_dump"); err == nil {
		// With pg_dump the archive holds all that: only the key warns.
		sa := openSource(t, d, Options{})
		if w := readSchema(t, sa).Warnings; len(w) != 3 || !strings.Contains(strings.Join(w, " "), "has no primary key") {
			t.Errorf("warnings with a schema archive: %q", w)
		}
		if m := readSchema(t, sa).MatViews; len(m) != 1 || m[0].Name != "mv" || !m[0].Populated {
			t.Errorf("materialized views: %+v", m)
		}
	}
	if got := string(copyOut(t, s, sch.Table("public.odd"))); got !=
		"<a/>\t(0,{})\t(1,1)\t{[]}\t2\tb\t[1,2)\n"+
			"<a/>\t(1,{})\t(1,1)\t{\"{}\"}\t2\tb\t[1,3)\n"+
			"<b/>\t(1,[])\t(0,1)\t\\N\t1\ta\t\\N\n" {
		t.Errorf("odd rows:\n%s", got)
	}
	if got := string(copyOut(t, s, sch.Table("public.nocols"))); got != "\n\n" {
		t.Errorf("rows without columns: %q", got)
	}
	if got := string(copyOut(t, s, sch.Table("public.parent"))); got != "1\tp\n" {
		t.Errorf("parent exports its children's rows too: %q", got)
	}
	if got := string(copyOut(t, s, sch.Table("public.measurements"))); got != "1\t2024-05-01\t1.5\n1\t2025-05-01\t2.5\n2\t2024-06-01\t\\N\n" {
		t.Errorf("partitioned rows: %q", got)
	}

	// The partitioned and inheriting tables come back as plain tables
	// with the same rows; the composite type must exist first.
	dst := newDB(t)
	execSQL(t, dst, `CREATE TYPE public.pair AS (a integer, b json)`)
	if err := restoreInto(t, dst, sch, tableData(s, sch), false); err != nil {
		t.Fatal(err)
	}
	s2 := openSource(t, dst, Options{})
	for _, tab := range sch.Tables {
		if !bytes.Equal(copyOut(t, s, tab), copyOut(t, s2, tab)) {
			t.Errorf("%s differs after restore", tab.QualifiedName())
		}
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'scratch' AND relpersistence = 'u'
		AND reloptions = '{fillfactor=70}'`); n != 1 {
		t.Errorf("scratch is not unlogged with its options after restore")
	}
}

func TestServerMajor(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]int{"15.20 (Debian 15.20-0+deb12u1)": 15, "9.6.24": 9, "17devel": 17, "": 0} {
		if got := serverMajor(v); got != want {
			t.Errorf("serverMajor(%q) = %d, want %d", v, got, want)
		}
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ typ, cat, want string }{
		{"int8", "N", dbexport.KindInt}, {"float4", "N", dbexport.KindFloat}, {"numeric", "N", dbexport.KindNumeric},
		{"varchar", "S", dbexport.KindText}, {"citext", "S", dbexport.KindText}, {"bpchar", "S", dbexport.KindText},
		{"_int4", "A", dbexport.KindArray}, {"jsonb", "U", dbexport.KindJSON}, {"timestamptz", "D", dbexport.KindTimestampTZ},
		{"interval", "T", dbexport.KindOther}, {"point", "G", dbexport.KindOther}, {"timetz", "D", dbexport.KindOther},
	} {
		if got := kindOf(tc.typ, tc.cat); got != tc.want {
			t.Errorf("kindOf(%s) = %s, want %s", tc.typ, got, tc.want)
		}
	}
}

func TestFieldDropper(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		drop   []bool
		writes []string
		want   string
	}{
		{"middle", []bool{false, true, false}, []string{"1\t2\t3\n4\t5\t6\n"}, "1\t3\n4\t6\n"},
		{"split writes", []bool{true, false}, []string{"a\tb", "\\tc\nd", "\te\n"}, "b\\tc\ne\n"},
		{"last row without newline", []bool{false, true}, []string{"x\ty\n", "z\t\\N"}, "x\nz\n"},
		{"null and empty", []bool{false, false, true}, []string{"\\N\t\t1\n"}, "\\N\t\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			f := &fieldDropper{w: &out, drop: tc.drop}
			for _, w := range tc.writes {
				if n, err := f.Write([]byte(w)); err != nil || n != len(w) {
					t.Fatalf("write: %d %v", n, err)
				}
			}
			if err := f.flush(true); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
}
