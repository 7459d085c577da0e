package main

import (
	"strings"
	"testing"
)

// TestMariaDBSequences: a MariaDB sequence is saved with its position, as
// mysqldump saves it (CREATE SEQUENCE, then SETVAL), and a restore into
// an empty database gives back SHOW CREATE SEQUENCE and the position of
// each (its next value, and the count of cycles of one that cycled), and
// the table whose DEFAULT calls nextval() of one, drawing from the
// restored database's sequence (MariaDB names the source's database in
// it). A drill on the server finds nothing. A restore of that table
// alone into another empty database creates the sequence it needs and
// says it does not recreate the other. Before, the backup left the
// sequences out ("sequence invoice_no is not in the snapshot") and the
// restore of the table failed (Table 'dst.invoice_no' doesn't exist).
func TestMariaDBSequences(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	src.exec(t,
		"CREATE SEQUENCE invoice_no START WITH 1000 INCREMENT BY 10 NOCACHE",
		"CREATE TABLE invoice (id bigint PRIMARY KEY DEFAULT NEXTVAL(invoice_no), total decimal(10,2))",
		"INSERT INTO invoice (total) VALUES (1.50), (2.25), (3.00)",
		"CREATE TABLE note (id int PRIMARY KEY)",
		// Cycled once: 5, 6, 7, then 1, 2; the cache of 2 hands out
		// values past the next uncached one.
		"CREATE SEQUENCE ticket START WITH 5 MINVALUE 1 MAXVALUE 7 CACHE 2 CYCLE",
		"SELECT NEXTVAL(ticket), NEXTVAL(ticket), NEXTVAL(ticket), NEXTVAL(ticket)")
	c := newCLI(t)
	c.ok("init")
	_, backupErr := c.code(0, "backup", "--db", src.dsn)
	if strings.Contains(backupErr, "sequence") {
		t.Errorf("the backup warns of a sequence:\n%s", backupErr)
	}
	srcDB := src.str(t, "SELECT DATABASE()")
	position := func(s serverDB, seq string) string {
		return s.str(t, "SELECT CONCAT_WS(',', next_not_cached_value, cycle_count) FROM "+seq)
	}
	wantInvoice, wantTicket := position(src, "invoice_no"), position(src, "ticket")
	if wantTicket != "3,1" {
		t.Fatalf("sequence ticket of the source is at %s, want 3,1 (the next value not cached, one cycle)", wantTicket)
	}
	want := showCreateAll(t, src)

	dst := mariaDB(t)
	_, restoreErr := c.code(0, "restore", "latest", "--db", dst.dsn)
	if strings.Contains(restoreErr, "sequence") {
		t.Errorf("the restore names a sequence:\n%s", restoreErr)
	}
	dstDB := dst.str(t, "SELECT DATABASE()")
	got := showCreateAll(t, dst)
	for _, k := range []string{"SEQUENCE invoice_no", "SEQUENCE ticket", "TABLE invoice"} {
		w := strings.ReplaceAll(want[k], "`"+srcDB+"`.", "`"+dstDB+"`.")
		if got[k] != w || w == "" {
			t.Errorf("%s: restored\n%s\nsource (its database's name replaced)\n%s", k, got[k], w)
		}
	}
	if got := position(dst, "invoice_no"); got != wantInvoice {
		t.Errorf("sequence invoice_no restored at %s, want the source's %s", got, wantInvoice)
	}
	if got := position(dst, "ticket"); got != wantTicket {
		t.Errorf("sequence ticket restored at %s, want the source's %s", got, wantTicket)
	}
	src.exec(t, "INSERT INTO invoice (total) VALUES (4.00)")
	dst.exec(t, "INSERT INTO invoice (total) VALUES (4.00)")
	q := "SELECT GROUP_CONCAT(id, ':', total ORDER BY id) FROM invoice"
	if g, w := dst.str(t, q), src.str(t, q); g != w {
		t.Errorf("restored invoice after an insert: %s, want the source's %s", g, w)
	}
	if g := dst.str(t, "SELECT NEXTVAL(ticket)"); g != "3" {
		t.Errorf("next value of the restored ticket: %s, want 3", g)
	}
	// A restore of every table over them re-creates the sequences at the
	// snapshot's positions, as mysqldump's DROP SEQUENCE does.
	c.ok("restore", "latest", "--db", dst.dsn, "--replace", "--no-safety-snapshot")
	if got := position(dst, "invoice_no") + " " + position(dst, "ticket"); got != wantInvoice+" "+wantTicket {
		t.Errorf("after restore --replace, the sequences are at %s, want the snapshot's %s %s", got, wantInvoice, wantTicket)
	}
	if out, stderr, code := c.run("verify", "drill", "--same-engine", "latest"); code != 0 {
		t.Errorf("drill --same-engine: exit %d\n%s%s", code, out, stderr)
	}

	part := mariaDB(t)
	_, restoreErr = c.code(0, "restore", "latest", "--db", part.dsn, "--tables", "invoice")
	if !strings.Contains(restoreErr, "sequence ticket") || strings.Contains(restoreErr, "sequence invoice_no") {
		t.Errorf("a restore of table invoice does not name sequence ticket alone as not recreated:\n%s", restoreErr)
	}
	if got := position(part, "invoice_no"); got != wantInvoice {
		t.Errorf("restore of table invoice: sequence invoice_no at %s, want the source's %s", got, wantInvoice)
	}
}
