package postgres

import (
	"strings"
	"testing"

	"strata/dbexport"
)

// only returns the TableData of the table named name.
func only(tds []dbexport.TableData, name string) []dbexport.TableData {
	for _, td := range tds {
		if td.Table.QualifiedName() == name {
			return []dbexport.TableData{td}
		}
	}
	return nil
}

// restoredFixture restores the fixture into a new database and returns
// the source, its schema and the target.
func restoredFixture(t *testing.T) (*Source, *dbexport.Schema, dbexport.DSN) {
	t.Helper()
	src := newDB(t)
	execSQL(t, src, fixture...)
	s := openSource(t, src, Options{})
	sch := readSchema(t, s)
	dst := newDB(t)
	if err := restoreInto(t, dst, sch, tableData(s, sch), false); err != nil {
		t.Fatal(err)
	}
	return s, sch, dst
}

// TestRestoreInPlaceTriggers: a table reloaded in place gets the
// snapshot's rows as they are: its triggers do not fire on them, and are
// enabled again afterwards in their former mode.
func TestRestoreInPlaceTriggers(t *testing.T) {
	t.Parallel()
	s, sch, dst := restoredFixture(t)
	execSQL(t, dst,
		`CREATE TABLE public.audit (what text)`,
		`CREATE FUNCTION public.shout() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN NEW.name := upper(NEW.name); RETURN NEW; END $$`,
		`CREATE FUNCTION public.note() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN INSERT INTO public.audit VALUES (TG_OP); RETURN NULL; END $$`,
		`CREATE TRIGGER shout BEFORE INSERT ON public.customers FOR EACH ROW EXECUTE FUNCTION public.shout()`,
		`CREATE TRIGGER note AFTER INSERT OR DELETE ON public.customers FOR EACH STATEMENT EXECUTE FUNCTION public.note()`,
		`CREATE TRIGGER note_truncate AFTER TRUNCATE ON public.customers FOR EACH STATEMENT EXECUTE FUNCTION public.note()`,
		`CREATE TRIGGER off BEFORE INSERT ON public.customers FOR EACH ROW EXECUTE FUNCTION public.shout()`,
		`ALTER TABLE public.customers DISABLE TRIGGER off`,
		`ALTER TABLE public.customers ENABLE ALWAYS TRIGGER note`)
	if err := restoreInto(t, dst, sch, only(tableData(s, sch), "public.customers"), true); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM public.customers WHERE name <> upper(name)`); n != 45 {
		t.Errorf("%d of 45 restored names kept as the snapshot holds them", n)
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM public.audit`); n != 0 {
		t.Errorf("triggers wrote %d audit rows during the restore", n)
	}
	conn := dial(t, dst)
	defer conn.Close(t.Context())
	var modes string
	if err := conn.QueryRow(t.Context(), `SELECT string_agg(tgname || '=' || tgenabled::text, ',' ORDER BY tgname) FROM pg_catalog.pg_trigger
		WHERE tgrelid = 'public.customers'::regclass AND NOT tgisinternal`).Scan(&modes); err != nil {
		t.Fatal(err)
	}
	if modes != "note=A,note_truncate=O,off=D,shout=O" {
		t.Errorf("trigger modes after the restore: %s", modes)
	}
}

// TestRestoreRecreateBlockedByView: a table whose columns differ from the
// snapshot's must be re-created; a view over it that the restore does
// not hold stops it, named, instead of being dropped.
func TestRestoreRecreateBlockedByView(t *testing.T) {
	t.Parallel()
	s, sch, dst := restoredFixture(t)
	execSQL(t, dst, `ALTER TABLE public.customers ADD COLUMN phone text`,
		`CREATE VIEW public.phones AS SELECT name, phone FROM public.customers`)
	// The check a dry run runs sees it coming.
	tgt, err := OpenTarget(t.Context(), dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	err = tgt.Check(t.Context(), sch, []*dbexport.Table{sch.Table("public.customers")}, true)
	if err == nil || !strings.Contains(err.Error(), "table public.customers must be re-created (its columns differ from the snapshot's), but public.customer_names, public.phones") {
		t.Errorf("Check: %v", err)
	}
	err = restoreInto(t, dst, sch, only(tableData(s, sch), "public.customers"), true)
	if err == nil || !strings.Contains(err.Error(), "view public.phones depends on table public.customers") || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("restore over a table with a view the snapshot lacks: %v", err)
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM public.phones`); n != 45 {
		t.Errorf("the view reads %d rows", n)
	}
	// Without the views over it, the table is re-created with the
	// snapshot's columns, and the key orders holds on it comes back.
	execSQL(t, dst, `DROP VIEW public.phones`, `DROP VIEW public.customer_names`)
	if err := tgt.Check(t.Context(), sch, []*dbexport.Table{sch.Table("public.customers")}, true); err != nil {
		t.Errorf("Check without the views: %v", err)
	}
	if err := restoreInto(t, dst, sch, only(tableData(s, sch), "public.customers"), true); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM pg_catalog.pg_attribute WHERE attrelid = 'public.customers'::regclass AND attname = 'phone'`); n != 0 {
		t.Errorf("customers kept the column phone")
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM pg_catalog.pg_constraint WHERE conname = 'orders_customer_id_fkey' AND convalidated`); n != 1 {
		t.Errorf("the foreign key of orders is gone")
	}
}

// TestRestoreWholeKeepsOtherKeys: a restore of every table of the snapshot
// keeps the foreign keys that tables outside it hold on its tables.
func TestRestoreWholeKeepsOtherKeys(t *testing.T) {
	t.Parallel()
	s, sch, dst := restoredFixture(t)
	execSQL(t, dst, `CREATE TABLE public.notes (customer_id integer REFERENCES public.customers, note text)`,
		`INSERT INTO public.notes VALUES (1, 'hello')`)
	if err := restoreInto(t, dst, sch, tableData(s, sch), true); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM pg_catalog.pg_constraint WHERE conname = 'notes_customer_id_fkey' AND convalidated`); n != 1 {
		t.Errorf("the foreign key of notes is gone")
	}
	// And one the restored rows break stops it.
	execSQL(t, dst, `INSERT INTO public.customers (name) VALUES ('new') `,
		`INSERT INTO public.notes SELECT max(id), 'new' FROM public.customers`)
	err := restoreInto(t, dst, sch, tableData(s, sch), true)
	if err == nil || !strings.Contains(err.Error(), "foreign key notes_customer_id_fkey of table public.notes") {
		t.Fatalf("restore that breaks a key of notes: %v", err)
	}
}

// TestRestoreWholeBlockedByView: a restore of every table re-creates
// them; a view the snapshot does not hold stops it (before: dropped by
// CASCADE), and Check says so first.
func TestRestoreWholeBlockedByView(t *testing.T) {
	t.Parallel()
	s, sch, dst := restoredFixture(t)
	execSQL(t, dst, `CREATE VIEW public.rich AS SELECT name FROM public.customers WHERE id < 10`)
	tgt, err := OpenTarget(t.Context(), dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	err = tgt.Check(t.Context(), sch, sch.Tables, true)
	if err == nil || !strings.Contains(err.Error(), "a restore of every table re-creates them), but public.rich") || strings.Contains(err.Error(), "customer_names") {
		t.Errorf("Check: %v", err)
	}
	err = restoreInto(t, dst, sch, tableData(s, sch), true)
	if err == nil || !strings.Contains(err.Error(), "view public.rich depends on table public.customers") {
		t.Fatalf("whole restore under a view the snapshot lacks: %v", err)
	}
	if n := queryInt(t, dst, `SELECT count(*) FROM public.rich`); n != 9 {
		t.Errorf("the view reads %d rows, want 9", n)
	}
}
