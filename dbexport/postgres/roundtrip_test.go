package postgres

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"

	"strata/dbexport"
)

// fixture holds one table per hard case of the canonical encoding, and
// the schema objects a restore must bring back.
var fixture = []string{
	`CREATE TABLE public.kinds (
		id bigint PRIMARY KEY,
		t text, vc varchar(20), ch char(3), b bytea,
		i2 smallint, i4 integer, i8 bigint, n numeric(30,10), r real, d double precision,
		ts timestamp, tstz timestamptz, dt date, tm time, iv interval,
		j json, jb jsonb, bo boolean, u uuid, ia int[], ta text[])`,
	`INSERT INTO public.kinds VALUES
		(1, '', '', '', '\x', 0, 0, 0, 0, 0, 0, '2000-01-01 00:00:00', '2000-01-01 00:00:00+00', '2000-01-01',
		 '00:00:00', '0', '{}', '{}', false, '00000000-0000-0000-0000-000000000000', '{}', '{}'),
		(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		 NULL, NULL, NULL, NULL),
		(3, E'tab\there\nnewline\\back\\slash\rcr \\N', 'ünïcødé', 'a', '\x00ff105c0a09',
		 -32768, -2147483648, -9223372036854775808, '-12345678901234567890.0123456789', 'NaN', 'NaN',
		 '1999-12-31 23:59:59.999999', '2024-06-17 14:00:00.123456+02', '0001-01-01 BC', '23:59:59.999999',
		 '1 year 2 mons 3 days 04:05:06.7', '{"a": [1, 2.50, "x\ty"], "b": null}', '{"z": 1, "a": "\\u00e9\n"}',
		 true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,NULL,-3}', '{"a b","c,d","","NULL",NULL,"q\"uote","back\\slash"}'),
		(4, '日本語 🎉 "quoted" ''single''', repeat('x', 20), 'abc', '\xdeadbeef',
		 32767, 2147483647, 9223372036854775807, '99999999999999999999.9999999999', 'Infinity', '-Infinity',
		 'infinity', '-infinity', 'infinity', '12:34:56', '-1 days +02:00:00', '[1e300, -0.0]', '[1e300, -0.0]',
		 false, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12', '{{1,2},{3,4}}', '{}'),
		(5, ' leading and trailing ', 'x', 'x  ', '\x5c4e', 1, 1, 1, '0.0000000001', '-Infinity', 'Infinity',
		 '2038-01-19 03:14:08', '1970-01-01 00:00:00+00', '2024-02-29', '00:00:00.000001', '-0.000001 seconds',
		 '"just a string"', 'null', true, NULL, NULL, '{"ü","\\N"}'),
		(6, 'floats', NULL, NULL, NULL, NULL, NULL, NULL, '1e-10', 1.17549435e-38, 2.2250738585072014e-308,
		 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
		(7, 'floats 2', NULL, NULL, NULL, NULL, NULL, NULL, '-0', 0.1, 0.1, NULL, NULL, NULL, NULL, NULL,
		 NULL, NULL, NULL, NULL, NULL, NULL)`,
	`CREATE TABLE public.composite (region text, num integer, note text, PRIMARY KEY (region, num))`,
	`INSERT INTO public.composite VALUES ('eu', 2, 'b'), ('eu', 1, 'a'), ('us', 1, NULL), ('', 0, '')`,
	`CREATE TABLE public.nopk (x integer, j json, p point, label text)`,
	`INSERT INTO public.nopk VALUES (2, '{"b":1}', '(1,2)', 'dup'), (2, '{"b":1}', '(1,2)', 'dup'),
		(1, '{"a":1}', '(0,0)', NULL), (NULL, NULL, NULL, NULL), (1, '{"a":0}', '(3,4)', 'z')`,
	`CREATE TABLE public.customers (
		id serial PRIMARY KEY,
		name text NOT NULL UNIQUE,
		email text CHECK (email LIKE '%@%'),
		created timestamptz NOT NULL DEFAULT now())`,
	`CREATE UNIQUE INDEX customers_email_lower ON public.customers (lower(email))`,
	`INSERT INTO public.customers (name, email, created) SELECT 'customer ' || g, 'c' || g || '@example.com',
		'2024-01-01 00:00:00+00'::timestamptz + g * interval '1 hour' FROM generate_series(1, 50) g`,
	`DELETE FROM public.customers WHERE id > 45`, // the sequence is ahead of max(id)
	`CREATE TABLE public.orders (
		id bigint GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 5) PRIMARY KEY,
		customer_id integer NOT NULL REFERENCES public.customers (id) ON DELETE CASCADE,
		amount numeric(12,2) NOT NULL CONSTRAINT amount_positive CHECK (amount >= 0),
		doubled numeric GENERATED ALWAYS AS (amount * 2) STORED,
		status text DEFAULT 'new')`,
	`CREATE INDEX orders_customer ON public.orders (customer_id, status)`,
	`INSERT INTO public.orders (customer_id, amount) SELECT 1 + g % 45, g * 1.25 FROM generate_series(1, 30) g`,
	`CREATE VIEW public.big_orders AS SELECT id, customer_id, amount FROM public.orders WHERE amount > 10`,
	`CREATE VIEW public.big_order_count AS SELECT count(*) AS n FROM public.big_orders`,
	`CREATE VIEW public.customer_names AS SELECT name FROM public.customers`,
	`CREATE SEQUENCE public.invoice_no START 1000`,
	`SELECT nextval('public.invoice_no') FROM generate_series(1, 3)`,
	`CREATE SCHEMA "Billing"`,
	`CREATE TABLE "Billing"."Invoice Items" ("Line" integer PRIMARY KEY, "Note ""x""" text)`,
	`INSERT INTO "Billing"."Invoice Items" VALUES (1, 'one'), (2, E'two\ttabs')`,
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := newDB(t)
	execSQL(t, src, fixture...)

	s := openSource(t, src, Options{Jobs: 3})
	sch := readSchema(t, s)
	want := exportConcurrently(t, s, sch)

	t.Run("schema", func(t *testing.T) { checkFixtureSchema(t, sch) })

	dst := newDB(t)
	if err := restoreInto(t, dst, sch, tableData(s, sch), false); err != nil {
		t.Fatal(err)
	}
	sch2, got := exportAll(t, dst)

	t.Run("rows byte for byte", func(t *testing.T) {
		for name, w := range want {
			if !bytes.Equal(got[name], w) {
				t.Errorf("%s differs after restore:\nwant %q\ngot  %q", name, w, got[name])
			}
		}
		if len(got) != len(want) {
			t.Errorf("restored %d tables, want %d", len(got), len(want))
		}
	})
	t.Run("schema after restore", func(t *testing.T) {
		for _, tab := range sch.Tables {
			tab2 := sch2.Table(tab.QualifiedName())
			if tab2 == nil {
				t.Errorf("%s missing after restore", tab.QualifiedName())
				continue
			}
			if tab.DDL != tab2.DDL {
				t.Errorf("%s DDL differs:\nwant %s\ngot  %s", tab.QualifiedName(), tab.DDL, tab2.DDL)
			}
			if strings.Join(tab.PostDDL, "\n") != strings.Join(tab2.PostDDL, "\n") {
				t.Errorf("%s PostDDL differs:\nwant %q\ngot  %q", tab.QualifiedName(), tab.PostDDL, tab2.PostDDL)
			}
			if tab.Rows != tab2.Rows {
				t.Errorf("%s: %d rows, want %d", tab.QualifiedName(), tab2.Rows, tab.Rows)
			}
		}
		if len(sch2.Views) != len(sch.Views) || len(sch2.Sequences) != len(sch.Sequences) {
			t.Errorf("views %v sequences %v, want %v %v", sch2.Views, sch2.Sequences, sch.Views, sch.Sequences)
		}
		for i := range sch.Sequences {
			if i < len(sch2.Sequences) && sch.Sequences[i] != sch2.Sequences[i] {
				t.Errorf("sequence %+v, want %+v", sch2.Sequences[i], sch.Sequences[i])
			}
		}
	})
	t.Run("sequences continue", func(t *testing.T) {
		for _, d := range []dbexport.DSN{src, dst} {
			if id := queryInt(t, d, `INSERT INTO public.customers (name) VALUES ('next') RETURNING id`); id != 51 {
				t.Errorf("%s: next customer id %d, want 51", d.Database, id)
			}
			if id := queryInt(t, d, `INSERT INTO public.orders (customer_id, amount) VALUES (1, 1) RETURNING id`); id != 100+30*5 {
				t.Errorf("%s: next order id %d, want %d", d.Database, id, 100+30*5)
			}
			if n := queryInt(t, d, `SELECT nextval('public.invoice_no')`); n != 1003 {
				t.Errorf("%s: next invoice number %d, want 1003", d.Database, n)
			}
		}
	})
	t.Run("constraints enforced", func(t *testing.T) {
		conn := dial(t, dst)
		defer conn.Close(ctx)
		for _, bad := range []string{
			`INSERT INTO public.orders (customer_id, amount) VALUES (999, 1)`,           // foreign key
			`INSERT INTO public.orders (customer_id, amount) VALUES (1, -1)`,            // check
			`INSERT INTO public.customers (name, email) VALUES ('x', 'C1@EXAMPLE.COM')`, // unique index
			`INSERT INTO public.customers (name, email) VALUES ('customer 1', 'new@x')`, // unique constraint
			`INSERT INTO public.orders (id, customer_id, amount) VALUES (1, 1, 1)`,      // identity ALWAYS
		} {
			if _, err := conn.Exec(ctx, bad); err == nil {
				t.Errorf("%s succeeded after restore", bad)
			}
		}
	})
	t.Run("views", func(t *testing.T) {
		n1 := queryInt(t, src, `SELECT n FROM public.big_order_count`)
		n2 := queryInt(t, dst, `SELECT n FROM public.big_order_count`)
		if n1 != n2 || n1 == 0 {
			t.Errorf("view counts %d in the source and %d after restore", n1, n2)
		}
	})
}

func exportConcurrently(t *testing.T, s *Source, sch *dbexport.Schema) map[string][]byte {
	var g errgroup.Group
	out := make([][]byte, len(sch.Tables))
	for i, tab := range sch.Tables {
		g.Go(func() error {
			var buf bytes.Buffer
			_, err := s.CopyOut(context.Background(), tab, &buf)
			out[i] = buf.Bytes()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for i, tab := range sch.Tables {
		m[tab.QualifiedName()] = out[i]
	}
	return m
}

func checkFixtureSchema(t *testing.T, sch *dbexport.Schema) {
	if sch.Engine != dbexport.EnginePostgres || !strings.HasPrefix(sch.ServerVersion, "1") || sch.Encoding != "UTF8" {
		t.Errorf("engine %q version %q encoding %q", sch.Engine, sch.ServerVersion, sch.Encoding)
	}
	var names []string
	for _, tab := range sch.Tables {
		names = append(names, tab.QualifiedName())
	}
	if got := strings.Join(names, " "); got != "Billing.Invoice Items public.composite public.customers public.kinds public.nopk public.orders" {
		t.Errorf("tables %s", got)
	}
	kinds := sch.Table("public.kinds")
	wantKinds := "int text text text bytes int int int numeric float float timestamp timestamptz date time other json json bool uuid array array"
	var got []string
	for _, c := range kinds.Columns {
		got = append(got, c.Kind)
	}
	if strings.Join(got, " ") != wantKinds {
		t.Errorf("kinds %s\nwant  %s", strings.Join(got, " "), wantKinds)
	}
	if kinds.Rows != 7 {
		t.Errorf("kinds has %d rows, want 7", kinds.Rows)
	}
	if pk := sch.Table("public.composite").PrimaryKey; strings.Join(pk, ",") != "region,num" {
		t.Errorf("composite primary key %v", pk)
	}
	orders := sch.Table("public.orders")
	if len(orders.ForeignKeys) != 1 || orders.ForeignKeys[0].RefTable != "customers" ||
		strings.Join(orders.ForeignKeys[0].Columns, ",") != "customer_id" || orders.ForeignKeys[0].RefColumns[0] != "id" {
		t.Errorf("orders foreign keys %+v", orders.ForeignKeys)
	}
	if len(orders.Checks) != 1 || orders.Checks[0] != "(amount >= (0)::numeric)" {
		t.Errorf("orders checks %q", orders.Checks)
	}
	warned := false
	for _, w := range sch.Warnings {
		warned = warned || strings.Contains(w, "public.nopk has no primary key")
	}
	if !warned {
		t.Errorf("no warning for the table without primary key: %q", sch.Warnings)
	}
	if len(sch.Views) != 3 || sch.Views[0].Name != "big_orders" || sch.Views[1].Name != "big_order_count" {
		t.Errorf("views %+v", sch.Views)
	}
	if len(sch.Sequences) != 1 || sch.Sequences[0].Name != "invoice_no" || sch.Sequences[0].Value != 1002 || !sch.Sequences[0].Called {
		t.Errorf("free sequences %+v", sch.Sequences)
	}
}

// TestCanonicalText pins the COPY text of values whose spelling depends
// on session settings, and checks that a database whose defaults differ
// exports the same bytes.
func TestCanonicalText(t *testing.T) {
	t.Parallel()
	plain := newDB(t)
	odd := newDB(t)
	execSQL(t, odd,
		`ALTER DATABASE `+ident(odd.Database)+` SET DateStyle = 'SQL, DMY'`,
		`ALTER DATABASE `+ident(odd.Database)+` SET TimeZone = 'America/New_York'`,
		`ALTER DATABASE `+ident(odd.Database)+` SET IntervalStyle = 'sql_standard'`,
		`ALTER DATABASE `+ident(odd.Database)+` SET bytea_output = 'escape'`,
		`ALTER DATABASE `+ident(odd.Database)+` SET extra_float_digits = -2`)
	execSQL(t, plain, fixture[:2]...)
	execSQL(t, odd, fixture[:2]...)
	_, a := exportAll(t, plain)
	_, b := exportAll(t, odd)
	if !bytes.Equal(a["public.kinds"], b["public.kinds"]) {
		t.Errorf("database defaults leak into the export:\n%s\n%s", a["public.kinds"], b["public.kinds"])
	}
	text := string(a["public.kinds"])
	for _, want := range []string{
		"2\t\\N\t\\N\t", // NULL
		"1\t\t\t   \t\\\\x\t",
		`tab\there\nnewline\\back\\slash\rcr \\N`,
		`\\x00ff105c0a09`,
		"-9223372036854775808\t-12345678901234567890.0123456789\tNaN\tNaN\t",
		"Infinity\t-Infinity\tinfinity\t-infinity\tinfinity\t",
		"2024-06-17 12:00:00.123456+00", "0001-01-01 BC", "1 year 2 mons 3 days 04:05:06.7",
		"1.1754944e-38\t2.2250738585072014e-308", "\t0.1\t0.1\t",
		`{"a b","c,d","","NULL",NULL,"q\\"uote","back\\\\slash"}`, `{{1,2},{3,4}}`,
		"\tt\ta0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\t",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("export lacks %q:\n%s", want, text)
		}
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	execSQL(t, d, fixture...)
	// Rows written in scattered order and updated, so that the heap order
	// is not the key order.
	execSQL(t, d, `UPDATE public.composite SET note = note || '!' WHERE num = 1`,
		`UPDATE public.nopk SET label = 'moved' WHERE x = 1`)
	s1 := openSource(t, d, Options{})
	s2 := openSource(t, d, Options{Jobs: 2})
	sch := readSchema(t, s1)
	for _, tab := range sch.Tables {
		a, b, c := copyOut(t, s1, tab), copyOut(t, s1, tab), copyOut(t, s2, tab)
		if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
			t.Errorf("%s: two exports differ", tab.QualifiedName())
		}
	}
	want := "\t0\t\n" + "eu\t1\ta!\n" + "eu\t2\tb\n" + "us\t1\t\\N\n"
	if got := string(copyOut(t, s1, sch.Table("public.composite"))); got != want {
		t.Errorf("composite rows not in key order:\n%q\nwant\n%q", got, want)
	}
}
