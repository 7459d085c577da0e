package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"

	"strata/dbexport"
)

// TestRestoreExistingTable: without replace, a table that exists in the
// target makes the restore fail, and nothing of it stays behind; with
// replace, the table is overwritten.
func TestRestoreExistingTable(t *testing.T) {
	t.Parallel()
	src := newDB(t)
	execSQL(t, src, fixture...)
	s := openSource(t, src, Options{})
	sch := readSchema(t, s)

	dst := newDB(t)
	execSQL(t, dst,
		`CREATE TABLE public.orders (id integer PRIMARY KEY, what text)`,
		`INSERT INTO public.orders VALUES (1, 'keep me')`)
	err := restoreInto(t, dst, sch, tableData(s, sch), false)
	if err == nil || !strings.Contains(err.Error(), "orders") || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("restore over an existing table: %v", err)
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('public', 'Billing')`); n != 2 { // orders and its primary key index
		t.Errorf("failed restore left %d relations behind, want 2", n)
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM public.orders WHERE what = 'keep me'`); n != 1 {
		t.Errorf("failed restore changed the existing table")
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = 'Billing'`); n != 0 {
		t.Errorf("failed restore left schema Billing behind")
	}

	tgt, err := OpenTarget(context.Background(), dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if n, ok, err := tgt.RowCount(context.Background(), sch.Table("public.orders")); err != nil || !ok || n != 1 {
		t.Errorf("RowCount of the existing table: %d %v %v", n, ok, err)
	}
	if _, ok, err := tgt.RowCount(context.Background(), sch.Table("public.kinds")); err != nil || ok {
		t.Errorf("RowCount of a missing table: %v %v", ok, err)
	}

	if err := tgt.Restore(context.Background(), sch, tableData(s, sch), true); err != nil {
		t.Fatal(err)
	}
	if n, ok, err := tgt.RowCount(context.Background(), sch.Table("public.orders")); err != nil || !ok || n != 30 {
		t.Errorf("RowCount after replace: %d %v %v", n, ok, err)
	}
	// A second replace restores over the first one.
	if err := tgt.Restore(context.Background(), sch, tableData(s, sch), true); err != nil {
		t.Fatalf("second replace: %v", err)
	}
	_, got := exportAll(t, dst)
	for _, tab := range sch.Tables {
		if !bytes.Equal(got[tab.QualifiedName()], copyOut(t, s, tab)) {
			t.Errorf("%s differs after replace", tab.QualifiedName())
		}
	}
}

// TestRestoreSubset restores one table: no views (they may read tables
// that are not restored), and no free sequence that no restored column
// draws from.
func TestRestoreSubset(t *testing.T) {
	t.Parallel()
	src := newDB(t)
	execSQL(t, src, fixture...)
	s := openSource(t, src, Options{})
	sch := readSchema(t, s)
	var one []dbexport.TableData
	for _, td := range tableData(s, sch) {
		if td.Table.QualifiedName() == "public.customers" {
			one = append(one, td)
		}
	}
	dst := newDB(t)
	if err := restoreInto(t, dst, sch, one, false); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM public.customers`); n != 45 {
		t.Errorf("%d customers restored", n)
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM pg_catalog.pg_views WHERE schemaname = 'public'`); n != 0 {
		t.Errorf("a subset restore created %d views", n)
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'invoice_no'`); n != 0 {
		t.Errorf("a restore of customers created the free sequence invoice_no")
	}
}

// TestRestoreSubsetReplace replaces one table that another references:
// the table is reloaded in place, the referencing table keeps its foreign
// key, validated, and the views stay.
func TestRestoreSubsetReplace(t *testing.T) {
	t.Parallel()
	src := newDB(t)
	execSQL(t, src, fixture...)
	s := openSource(t, src, Options{})
	sch := readSchema(t, s)
	dst := newDB(t)
	if err := restoreInto(t, dst, sch, tableData(s, sch), false); err != nil {
		t.Fatal(err)
	}
	execSQL(t, dst, `INSERT INTO public.customers (name) VALUES ('after the snapshot')`)
	var one []dbexport.TableData
	for _, td := range tableData(s, sch) {
		if td.Table.QualifiedName() == "public.customers" {
			one = append(one, td)
		}
	}
	if err := restoreInto(t, dst, sch, one, true); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM public.customers`); n != 45 {
		t.Errorf("%d customers after replace, want 45", n)
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM pg_catalog.pg_constraint
		WHERE conname = 'orders_customer_id_fkey' AND convalidated`); n != 1 {
		t.Errorf("the foreign key of orders is not there, validated")
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM public.big_orders`); n == 0 {
		t.Errorf("the view over orders is gone")
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM public.customer_names`); n != 45 {
		t.Errorf("the view over customers has %d rows", n)
	}
}

// TestRestoreRowsFail: an error from the rows' reader aborts the restore,
// and it is the error reported.
func TestRestoreRowsFail(t *testing.T) {
	t.Parallel()
	src := newDB(t)
	execSQL(t, src, fixture[2:4]...)
	s := openSource(t, src, Options{})
	sch := readSchema(t, s)
	boom := errors.New("blob 1234 is damaged")
	tds := []dbexport.TableData{{Table: sch.Tables[0], Rows: func(ctx context.Context, w io.Writer) error {
		io.WriteString(w, "eu\t1\ta\n")
		return boom
	}}}
	dst := newDB(t)
	err := restoreInto(t, dst, sch, tds, false)
	if !errors.Is(err, boom) {
		t.Fatalf("restore with failing rows: %v", err)
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'`); n != 0 {
		t.Errorf("failed restore left %d tables", n)
	}
	// Rows that are not COPY text fail too.
	tds[0].Rows = func(ctx context.Context, w io.Writer) error {
		_, err := io.WriteString(w, "only one field\n")
		return err
	}
	if err := restoreInto(t, dst, sch, tds, false); err == nil {
		t.Fatal("restore of malformed rows succeeded")
	}
}

func TestRestoreOtherEngine(t *testing.T) {
	t.Parallel()
	dst := newDB(t)
	sch := &dbexport.Schema{Engine: dbexport.EngineSQLite, Tables: []*dbexport.Table{{Name: "t", DDL: "CREATE TABLE t (a)"}}}
	err := restoreInto(t, dst, sch, nil, false)
	if err == nil || !strings.Contains(err.Error(), "restoring a sqlite snapshot into PostgreSQL is not supported yet") {
		t.Fatalf("cross-engine restore: %v", err)
	}
}

// TestMillionRows streams a table of a million rows from one database
// into another and compares both exports.
func TestMillionRows(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short")
	}
	src := newDB(t)
	execSQL(t, src,
		`CREATE TABLE public.events (id bigint NOT NULL, name text NOT NULL, amount numeric(12,2),
			at timestamptz, payload jsonb)`,
		// The key comes after the rows, which is faster to build.
		`INSERT INTO public.events SELECT g, 'event ' || g || E'\t' || (g::bigint * 7919 % 1000003),
			(g % 100000) / 100.0, '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second',
			CASE WHEN g % 7 = 0 THEN NULL ELSE ('{"n": ' || g || '}')::jsonb END
		 FROM generate_series(1, 1000000) g`,
		`ALTER TABLE public.events ADD PRIMARY KEY (id)`)
	s := openSource(t, src, Options{})
	sch := readSchema(t, s)
	if sch.Tables[0].Rows != 1000000 {
		t.Fatalf("%d rows", sch.Tables[0].Rows)
	}
	dst := newDB(t)
	// The source's export is hashed on its way into the restore.
	h := sha256.New()
	var na int64
	tds := []dbexport.TableData{{Table: sch.Tables[0], Rows: func(ctx context.Context, w io.Writer) error {
		var err error
		na, err = s.CopyOut(ctx, sch.Tables[0], io.MultiWriter(w, h))
		return err
	}}}
	if err := restoreInto(t, dst, sch, tds, false); err != nil {
		t.Fatal(err)
	}
	var a [32]byte
	copy(a[:], h.Sum(nil))
	s2 := openSource(t, dst, Options{})
	b, nb := digest(t, s2, sch.Tables[0])
	if a != b || na != 1000000 || nb != 1000000 {
		t.Errorf("exports differ: %d rows %x, %d rows %x", na, a, nb, b)
	}
}

func digest(t *testing.T, s *Source, tab *dbexport.Table) ([32]byte, int64) {
	h := sha256.New()
	n, err := s.CopyOut(context.Background(), tab, h)
	if err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, n
}
