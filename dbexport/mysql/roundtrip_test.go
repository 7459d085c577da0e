package mysql

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"strata/dbexport"
)

// allBytes is the hex of the bytes 0..255.
func allBytes() string {
	var b strings.Builder
	for i := range 256 {
		fmt.Fprintf(&b, "%02x", i)
	}
	return b.String()
}

// setupRoundTrip creates a table for each thing a restore must keep.
func setupRoundTrip(t *testing.T, d dbexport.DSN) {
	db := testDB(t, d)
	all := allBytes()
	execAll(t, db,
		`CREATE TABLE kitchen (
			id bigint PRIMARY KEY,
			t text NULL, vc varchar(100), b varbinary(300), bl blob,
			bi bigint, ub bigint unsigned, num decimal(30,10),
			f float, d double, dt datetime(6), ts timestamp(6) NULL DEFAULT NULL,
			da date, tm time(3), j json, flag tinyint(1), ti tinyint,
			bt bit(10), e enum('a','b'), y year, g point NULL,
			gen int AS (ti * 2) VIRTUAL
		) ENGINE=InnoDB`,
		`INSERT INTO kitchen (id) VALUES (1)`,
		`INSERT INTO kitchen (id, t, vc, b, bl, j) VALUES (2, '', '', '', '', '""')`,
		`INSERT INTO kitchen (id, t, vc, b, bl, bi, ub, num, f, d, dt, ts, da, tm, j, flag, ti, bt, e, y, g) VALUES
			(3, 'tab\there\nnewline\\backslash\r cr \\N not null 😀 ünïcödé', '😀🇪🇺', x'`+all+`', REPEAT(x'`+all+`', 40),
			 -9223372036854775808, 18446744073709551615, 12345678901234567890.0123456789,
			 1.2345678, 0.1, '2024-02-29 23:59:59.123456', '2038-01-19 03:14:07.999999',
			 '1000-01-01', '-838:59:59.000', '{"a": [1, 2.5, "x\\ty"], "b": null}', 1, -128,
			 b'1111111111', 'b', 2155, POINT(1.5, -2)),
			(4, 'x', 'y', x'00', x'ff', 9223372036854775807, 0, -0.0000000001,
			 -3.4028234e38, 1.7976931348623157e308, '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01',
			 '9999-12-31', '838:59:59.999', '[]', 0, 127, b'0', 'a', 1901, NULL),
			(5, NULL, NULL, NULL, NULL, 0, 1, 0, 0.1, 123456789, '0000-00-00 00:00:00', NULL,
			 '0000-00-00', '00:00:00', 'null', 0, 0, b'1', NULL, NULL, NULL),
			(6, NULL, NULL, NULL, NULL, 1, 1, 1, 1e-30, 5e-324, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
			(7, NULL, NULL, NULL, NULL, 1, 1, 1, 16777217, 1e300, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
		`CREATE TABLE pairs (a int NOT NULL, b varchar(10) NOT NULL, v text, PRIMARY KEY (b, a))`,
		`INSERT INTO pairs VALUES (2, 'x', 'x2'), (1, 'y', 'y1'), (1, 'x', 'x1'), (10, 'x', 'x10')`,
		`CREATE TABLE nopk (a int, b varchar(10)) COLLATE utf8mb4_general_ci`,
		`INSERT INTO nopk VALUES (1, 'a'), (1, 'A'), (NULL, 'b'), (1, 'a'), (0, NULL)`,
		"CREATE TABLE `odd``name` (`col umn` int PRIMARY KEY, `sel,ect` varchar(5) DEFAULT 'a,b' COMMENT 'AUTO_INCREMENT=9 (x')",
		"INSERT INTO `odd``name` VALUES (1, 'q')",
		`CREATE TABLE counter (id int AUTO_INCREMENT PRIMARY KEY, note varchar(20) NOT NULL)`,
		`INSERT INTO counter (id, note) VALUES (0, 'zero')`,
		`INSERT INTO counter (note) VALUES ('one'), ('two'), ('three')`,
		`DELETE FROM counter WHERE id = 3`,
		// The trigger must not fire during the restore: the rows already
		// carry its effect.
		`CREATE TRIGGER counter_bang BEFORE INSERT ON counter FOR EACH ROW SET NEW.note = CONCAT(NEW.note, '!')`,
		`INSERT INTO counter (note) VALUES ('four')`,
		// a_child sorts before parent: load order must not matter.
		`CREATE TABLE parent (id int PRIMARY KEY, name varchar(20) NOT NULL)`,
		`CREATE TABLE a_child (id int PRIMARY KEY, parent_id int NOT NULL,
			CONSTRAINT fk_child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE)`,
		`INSERT INTO parent VALUES (1, 'p1'), (2, 'p2')`,
		`INSERT INTO a_child VALUES (10, 1), (11, 1), (12, 2)`,
		`CREATE TABLE checked (id int PRIMARY KEY, qty int NOT NULL, CONSTRAINT qty_positive CHECK (qty >= 0))`,
		`INSERT INTO checked VALUES (1, 0), (2, 5)`,
		`CREATE TABLE users (id int PRIMARY KEY, email varchar(100) NOT NULL, UNIQUE KEY users_email (email))`,
		`INSERT INTO users VALUES (1, 'a@example.com'), (2, 'b@example.com')`,
		`CREATE TABLE legacy (id int PRIMARY KEY, v varchar(10)) ENGINE=MyISAM`,
		`INSERT INTO legacy VALUES (1, 'old')`,
		`CREATE VIEW v_children AS SELECT c.id, p.name FROM a_child c JOIN parent p ON p.id = c.parent_id`,
		`CREATE VIEW v_count AS SELECT COUNT(*) AS n FROM v_children`,
	)
}

func TestRoundTrip(t *testing.T) {
	src, dst := newDatabase(t), newDatabase(t)
	setupRoundTrip(t, src)
	sc, data := exportAll(t, src)

	t.Run("values", func(t *testing.T) {
		want := map[string]string{
			"pairs":    "1\tx\tx1\n2\tx\tx2\n10\tx\tx10\n1\ty\ty1\n",
			"nopk":     "\\N\tb\n0\t\\N\n1\tA\n1\ta\n1\ta\n",
			"odd`name": "1\tq\n",
			"counter":  "0\tzero\n1\tone\n2\ttwo\n4\tfour!\n",
		}
		for name, w := range want {
			if got := string(data[name]); got != w {
				t.Errorf("table %s:\n got %q\nwant %q", name, got, w)
			}
		}
		lines := strings.Split(string(data["kitchen"]), "\n")
		wantKitchen := []string{
			`1` + strings.Repeat("\t\\N", 21),
			"2\t\t\t\\\\x\t\\\\x" + strings.Repeat("\t\\N", 9) + "\t\"\"" + strings.Repeat("\t\\N", 7),
			"3\ttab\\there\\nnewline\\\\backslash\\r cr \\\\N not null 😀 ünïcödé\t😀🇪🇺\t\\\\x" + allBytes() + "\t\\\\x" + strings.Repeat(allBytes(), 40) +
				"\t-9223372036854775808\t18446744073709551615\t12345678901234567890.0123456789" +
				"\t1.2345678\t0.1\t2024-02-29 23:59:59.123456\t2038-01-19 03:14:07.999999" +
				"\t1000-01-01\t-838:59:59.000\t{\"a\": [1, 2.5, \"x\\\\ty\"], \"b\": null}\t1\t-128\t1023\tb\t2155" +
				"\t\\\\x000000000101000000000000000000f83f00000000000000c0\t-256",
			"4\tx\ty\t\\\\x00\t\\\\xff\t9223372036854775807\t0\t-0.0000000001\t-3.4028235e+38\t1.7976931348623157e+308" +
				"\t9999-12-31 23:59:59.999999\t1970-01-01 00:00:01.000000\t9999-12-31\t838:59:59.999\t[]\t0\t127\t0\ta\t1901\t\\N\t254",
			"5\t\\N\t\\N\t\\N\t\\N\t0\t1\t0.0000000000\t0.1\t123456789\t0000-00-00 00:00:00.000000\t\\N" +
				"\t0000-00-00\t00:00:00.000\tnull\t0\t0\t1\t\\N\t\\N\t\\N\t0",
			"6\t\\N\t\\N\t\\N\t\\N\t1\t1\t1.0000000000\t1e-30\t5e-324" + strings.Repeat("\t\\N", 12),
			"7\t\\N\t\\N\t\\N\t\\N\t1\t1\t1.0000000000\t1.6777216e+07\t1e+300" + strings.Repeat("\t\\N", 12),
			"",
		}
		if len(lines) != len(wantKitchen) {
			t.Fatalf("kitchen: %d lines, want %d:\n%s", len(lines), len(wantKitchen), data["kitchen"])
		}
		for i := range lines {
			if lines[i] != wantKitchen[i] {
				t.Errorf("kitchen row %d:\n got %q\nwant %q", i+1, lines[i], wantKitchen[i])
			}
		}
	})

	t.Run("schema", func(t *testing.T) {
		if sc.Engine != dbexport.EngineMySQL || sc.ServerVersion == "" || sc.Database != src.Database {
			t.Errorf("schema header: %q %q %q", sc.Engine, sc.ServerVersion, sc.Database)
		}
		kitchen := sc.Table("kitchen")
		var kinds []string
		for _, c := range kitchen.Columns {
			kinds = append(kinds, c.Name+":"+c.Kind)
		}
		wantKinds := "id:int t:text vc:text b:bytes bl:bytes bi:int ub:int num:numeric f:float d:float dt:timestamp ts:timestamptz " +
			"da:date tm:time j:json flag:bool ti:int bt:int e:text y:int g:other gen:int"
		if got := strings.Join(kinds, " "); got != wantKinds {
			t.Errorf("kitchen columns:\n got %s\nwant %s", got, wantKinds)
		}
		if !strings.Contains(kitchen.DDL, "GENERATED ALWAYS AS") {
			t.Errorf("kitchen DDL lost its generated column:\n%s", kitchen.DDL)
		}
		if got := sc.Table("pairs").PrimaryKey; !reflect.DeepEqual(got, []string{"b", "a"}) {
			t.Errorf("pairs primary key %v", got)
		}
		child := sc.Table("a_child")
		if strings.Contains(child.DDL, "FOREIGN KEY") {
			t.Errorf("a_child DDL keeps its foreign key:\n%s", child.DDL)
		}
		wantFK := []dbexport.ForeignKey{{Name: "fk_child_parent", Columns: []string{"parent_id"}, RefTable: "parent", RefColumns: []string{"id"},
			OnDelete: dbexport.FKActionCascade, OnUpdate: dbexport.FKActionRestrict}} // MariaDB: RESTRICT when not declared
		if !reflect.DeepEqual(child.ForeignKeys, wantFK) {
			t.Errorf("a_child foreign keys %+v", child.ForeignKeys)
		}
		if len(child.PostDDL) != 1 || !strings.HasPrefix(child.PostDDL[0], "ALTER TABLE `a_child` ADD CONSTRAINT `fk_child_parent` FOREIGN KEY") {
			t.Errorf("a_child PostDDL %q", child.PostDDL)
		}
		counter := sc.Table("counter")
		if strings.Contains(counter.DDL, "AUTO_INCREMENT=") {
			t.Errorf("counter DDL keeps AUTO_INCREMENT=N:\n%s", counter.DDL)
		}
		if len(counter.PostDDL) != 1 || counter.PostDDL[0] != "ALTER TABLE `counter` AUTO_INCREMENT = 5" {
			t.Errorf("counter PostDDL %q", counter.PostDDL)
		}
		if len(sc.Objects) != 1 || sc.Objects[0].Kind != dbexport.ObjectTrigger || sc.Objects[0].Table != "counter" ||
			!strings.Contains(sc.Objects[0].DDL, "TRIGGER counter_bang BEFORE INSERT") {
			t.Errorf("objects %+v", sc.Objects)
		}
		if odd := sc.Table("odd`name"); !strings.Contains(odd.DDL, "COMMENT 'AUTO_INCREMENT=9 (x'") {
			t.Errorf("odd`name DDL lost its comment:\n%s", odd.DDL)
		}
		if got := sc.Table("checked").Checks; len(got) != 1 || !strings.Contains(got[0], "qty") {
			t.Errorf("checked checks %q", got)
		}
		legacy := sc.Table("legacy")
		wantWarning := "table legacy uses MyISAM: it is read at a slightly different moment than the InnoDB tables"
		if legacy.Consistent || legacy.Warning != wantWarning || !contains(sc.Warnings, wantWarning) {
			t.Errorf("legacy: consistent %v, warning %q, schema warnings %q", legacy.Consistent, legacy.Warning, sc.Warnings)
		}
		if !sc.Table("kitchen").Consistent {
			t.Error("kitchen (InnoDB) is not consistent")
		}
		if nopk := sc.Table("nopk"); !strings.Contains(nopk.Warning, "no primary key") {
			t.Errorf("nopk warning %q", nopk.Warning)
		}
		if len(sc.Views) != 2 || !strings.Contains(sc.Views[0].DDL, "DEFINER=") || strings.Contains(sc.Views[0].DDL, src.Database) {
			t.Errorf("views %+v", sc.Views)
		}
		for _, tab := range sc.Tables {
			if n := int64(bytes.Count(data[tab.Name], []byte{'\n'})); n != tab.Rows {
				t.Errorf("table %s: Rows %d, exported %d", tab.Name, tab.Rows, n)
			}
		}
	})

	if err := restoreInto(t, dst, sc, data, false); err != nil {
		t.Fatal(err)
	}
	sc2, data2 := exportAll(t, dst)

	t.Run("same bytes", func(t *testing.T) {
		for _, tab := range sc.Tables {
			if !bytes.Equal(data[tab.Name], data2[tab.Name]) {
				t.Errorf("table %s differs after restore:\n got %q\nwant %q", tab.Name, data2[tab.Name], data[tab.Name])
			}
		}
		if len(sc.Tables) != len(sc2.Tables) {
			t.Fatalf("%d tables after restore, want %d", len(sc2.Tables), len(sc.Tables))
		}
		for i, a := range sc.Tables {
			b := sc2.Tables[i]
			if !reflect.DeepEqual(a, b) {
				t.Errorf("table %s differs after restore:\n got %+v\nwant %+v", a.Name, b, a)
			}
		}
		if !reflect.DeepEqual(sc.Views, sc2.Views) {
			t.Errorf("views differ after restore:\n got %+v\nwant %+v", sc2.Views, sc.Views)
		}
	})

	t.Run("constraints work", func(t *testing.T) {
		db := testDB(t, dst)
		var id int64
		execAll(t, db, `INSERT INTO counter (note) VALUES ('five')`)
		if err := db.QueryRow(`SELECT id FROM counter WHERE note = 'five!'`).Scan(&id); err != nil || id != 5 {
			t.Errorf("next auto-increment id %d (%v), want 5, with the trigger applied", id, err)
		}
		for _, bad := range []string{
			`INSERT INTO a_child VALUES (99, 42)`,                  // foreign key
			`INSERT INTO checked VALUES (3, -1)`,                   // check
			`INSERT INTO users VALUES (3, 'a@example.com')`,        // unique
			`INSERT INTO kitchen (id, j) VALUES (100, 'not json')`, // json_valid
		} {
			if _, err := db.Exec(bad); err == nil {
				t.Errorf("%s: accepted after restore", bad)
			}
		}
		var n int
		if err := db.QueryRow(`SELECT n FROM v_count`).Scan(&n); err != nil || n != 3 {
			t.Errorf("view v_count: %d (%v), want 3", n, err)
		}
		// The handle drills use reads the restored tables.
		in, err := OpenInspector(dst, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		q := "SELECT count(*) FROM " + in.QuotedTableName(sc.Table("odd`name")) + " WHERE " + in.Quote("col umn") + " = 1"
		if err := in.DB().QueryRow(q).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s: %d (%v), want 1", q, n, err)
		}
		execAll(t, db, `DELETE FROM parent WHERE id = 1`)
		if err := db.QueryRow(`SELECT COUNT(*) FROM a_child`).Scan(&n); err != nil || n != 1 {
			t.Errorf("ON DELETE CASCADE: %d children left (%v), want 1", n, err)
		}
	})

	t.Run("refuses non-empty tables", func(t *testing.T) {
		err := restoreInto(t, dst, sc, data, false)
		if !errors.Is(err, ErrTableNotEmpty) || !strings.Contains(err.Error(), "kitchen (7 rows)") {
			t.Fatalf("restore over non-empty tables: %v", err)
		}
	})

	t.Run("replace", func(t *testing.T) {
		if err := restoreInto(t, dst, sc, data, true); err != nil {
			t.Fatal(err)
		}
		_, again := exportAll(t, dst)
		for name := range data {
			if !bytes.Equal(data[name], again[name]) {
				t.Errorf("table %s differs after replace", name)
			}
		}
	})

	t.Run("some tables", func(t *testing.T) {
		ctx := context.Background()
		tg, err := OpenTarget(ctx, dst, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer tg.Close()
		var some []dbexport.TableData
		for _, td := range tableData(sc, data) {
			if td.Table.Name == "parent" {
				some = append(some, td)
			}
		}
		if err := tg.Restore(ctx, sc, some, true); err != nil {
			t.Fatal(err)
		}
		if n, ok, err := tg.RowCount(ctx, sc.Table("parent")); n != 2 || !ok || err != nil {
			t.Errorf("RowCount(parent) = %d, %v, %v", n, ok, err)
		}
		// The views were left alone, and read the restored table.
		var n int
		if err := testDB(t, dst).QueryRow(`SELECT n FROM v_count`).Scan(&n); err != nil || n != 3 {
			t.Errorf("view v_count after restoring parent: %d (%v), want 3", n, err)
		}
		if _, ok, err := tg.RowCount(ctx, &dbexport.Table{Name: "no_such_table"}); ok || err != nil {
			t.Errorf("RowCount(no_such_table): exists %v, %v", ok, err)
		}
	})

	t.Run("cross engine", func(t *testing.T) {
		other := *sc
		other.Engine = dbexport.EngineSQLite
		if err := restoreInto(t, dst, &other, data, true); !errors.Is(err, ErrCrossEngine) {
			t.Fatalf("restore of a sqlite snapshot: %v", err)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestDeterministic exports the same tables twice in one snapshot and
// once more in another, and wants the same bytes each time.
func TestDeterministic(t *testing.T) {
	d := newDatabase(t)
	setupRoundTrip(t, d)
	ctx := context.Background()
	_, first := exportAll(t, d)
	src, err := Open(ctx, d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sc, err := src.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// CopyOut calls from several goroutines take turns on the one
	// connection.
	var wg sync.WaitGroup
	for _, tab := range sc.Tables {
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var buf bytes.Buffer
				if _, err := src.CopyOut(ctx, tab, &buf); err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(buf.Bytes(), first[tab.Name]) {
					t.Errorf("table %s, export %d: bytes differ", tab.Name, i+2)
				}
			}()
		}
	}
	wg.Wait()
}
