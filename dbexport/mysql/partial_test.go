package mysql

import (
	"context"
	"strings"
	"testing"

	"strata/dbexport"
)

// TestRestorePartialTriggers: a table with a trigger is not reloaded in
// place (the trigger would change the rows): it is re-created, gets the
// snapshot's rows unchanged and its trigger back; the key another table
// holds on it stays, and a restore whose rows break it says so.
func TestRestorePartialTriggers(t *testing.T) {
	src := newDatabase(t)
	sdb := testDB(t, src)
	execAll(t, sdb,
		`CREATE TABLE parent (id int PRIMARY KEY, name varchar(20))`,
		`CREATE TABLE child (id int PRIMARY KEY, parent_id int, CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id))`,
		`CREATE TRIGGER shout BEFORE INSERT ON parent FOR EACH ROW SET NEW.name = concat(NEW.name, '!')`,
		`INSERT INTO parent VALUES (1, 'ann'), (2, 'bob')`,
		`INSERT INTO child VALUES (1, 1), (2, 2)`)
	sc, data := exportAll(t, src)
	dst := newDatabase(t)
	if err := restoreInto(t, dst, sc, data, false); err != nil {
		t.Fatal(err)
	}
	ddb := testDB(t, dst)
	execAll(t, ddb, `UPDATE parent SET name = 'changed'`)
	ctx := context.Background()
	tg, err := OpenTarget(ctx, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	var parent []dbexport.TableData
	for _, td := range tableData(sc, data) {
		if td.Table.Name == "parent" {
			parent = append(parent, td)
		}
	}
	if err := tg.Restore(ctx, sc, parent, true); err != nil {
		t.Fatal(err)
	}
	var names string
	if err := ddb.QueryRow(`SELECT group_concat(name ORDER BY id) FROM parent`).Scan(&names); err != nil || names != "ann!,bob!" {
		t.Errorf("parent names %q (%v), want the snapshot's ann!,bob!", names, err)
	}
	var n int
	if err := ddb.QueryRow(`SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME = 'shout'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("trigger shout: %d (%v)", n, err)
	}
	if err := ddb.QueryRow(`SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'child_parent'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("foreign key child_parent: %d (%v)", n, err)
	}

	execAll(t, ddb, `INSERT INTO parent VALUES (3, 'cy')`, `INSERT INTO child VALUES (3, 3)`)
	err = tg.Restore(ctx, sc, parent, true)
	if err == nil || !strings.Contains(err.Error(), "foreign key child_parent of table child: 1 row refers to (`parent_id`) values missing from table parent") {
		t.Fatalf("restore that breaks child_parent: %v", err)
	}
}

// TestRestoreWholeChecksOtherKeys: a restore of every table of the
// snapshot reports rows of a table outside it that now refer to missing
// rows.
func TestRestoreWholeChecksOtherKeys(t *testing.T) {
	src := newDatabase(t)
	execAll(t, testDB(t, src), `CREATE TABLE parent (id int PRIMARY KEY)`, `INSERT INTO parent VALUES (1), (2)`)
	sc, data := exportAll(t, src)
	dst := newDatabase(t)
	if err := restoreInto(t, dst, sc, data, false); err != nil {
		t.Fatal(err)
	}
	execAll(t, testDB(t, dst),
		`CREATE TABLE outside (parent_id int, CONSTRAINT outside_parent FOREIGN KEY (parent_id) REFERENCES parent (id))`,
		`INSERT INTO parent VALUES (3)`, `INSERT INTO outside VALUES (1), (3)`)
	err := restoreInto(t, dst, sc, data, true)
	if err == nil || !strings.Contains(err.Error(), "foreign key outside_parent of table outside: 1 row refers to") {
		t.Fatalf("whole restore that orphans a row of outside: %v", err)
	}
}
