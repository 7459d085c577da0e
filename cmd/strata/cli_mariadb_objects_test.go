package main

import (
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"strata/dbexport"
	"strata/internal/dbtest"
)

// objectsSchema creates, in s, tables with columns of several character
// sets and collations, triggers (one with an existing DEFINER, one whose
// DEFINER account does not exist), functions and procedures created under
// other sql_modes, collations and database collations, an event and a
// view that calls a function. definer is an account that exists.
func objectsSchema(t *testing.T, s serverDB, definer string) {
	t.Helper()
	db := s.str(t, "SELECT DATABASE()")
	s.exec(t,
		"CREATE TABLE people (id int PRIMARY KEY AUTO_INCREMENT, "+
			"name varchar(50) CHARACTER SET latin1 COLLATE latin1_german2_ci, "+
			"nick varchar(20) COLLATE utf8mb4_bin, code char(3) CHARACTER SET ascii, "+
			"bio text CHARACTER SET utf8mb3 COLLATE utf8mb3_unicode_ci, email varchar(100), "+
			"KEY by_name (name), UNIQUE KEY by_email (email)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
		"CREATE TABLE legacy_latin (id int PRIMARY KEY, t varchar(10), u varchar(10) CHARACTER SET utf8mb4) DEFAULT CHARSET=latin1",
		"CREATE TABLE audit (id int PRIMARY KEY AUTO_INCREMENT, person_id int, action varchar(10), at datetime, "+
			"CONSTRAINT audit_person FOREIGN KEY (person_id) REFERENCES people (id))",
		"CREATE DEFINER="+definer+" TRIGGER people_ai AFTER INSERT ON people FOR EACH ROW INSERT INTO audit (person_id, action) VALUES (NEW.id, 'insert')",
		"CREATE TRIGGER people_bi BEFORE INSERT ON people FOR EACH ROW SET NEW.nick = COALESCE(NEW.nick, LOWER(NEW.name))",
		"CREATE TRIGGER people_bi2 BEFORE INSERT ON people FOR EACH ROW FOLLOWS people_bi SET NEW.code = COALESCE(NEW.code, 'XYZ')",
		"CREATE DEFINER=`strata_ghost`@`%` TRIGGER audit_bu BEFORE UPDATE ON audit FOR EACH ROW SET NEW.at = NOW()",
		"INSERT INTO people (name, email, bio) VALUES ('Jürgen', 'j@example.com', 'Grüße ☃'), ('Ängel', 'a@example.com', NULL), ('Zoë', NULL, 'x')",
		"INSERT INTO legacy_latin VALUES (1, 'café', '☃'), (2, NULL, 'plain')",
		// Created under another sql_mode: || concatenates only with PIPES_AS_CONCAT.
		"SET SESSION sql_mode = 'PIPES_AS_CONCAT,STRICT_ALL_TABLES'",
		"CREATE FUNCTION greeting(n varchar(50)) RETURNS varchar(100) CHARSET latin1 DETERMINISTIC RETURN 'Grüß ' || n",
		"SET SESSION sql_mode = DEFAULT",
		"SET SESSION collation_connection = 'utf8mb4_unicode_ci'",
		"CREATE DEFINER="+definer+" PROCEDURE add_person(IN n varchar(50), OUT new_id int) MODIFIES SQL DATA SQL SECURITY INVOKER COMMENT 'adds one' "+
			"BEGIN INSERT INTO people (name) VALUES (n); SET new_id = LAST_INSERT_ID(); END",
		"SET SESSION collation_connection = 'utf8mb4_general_ci'",
		// Created while the database had another default collation.
		"ALTER DATABASE `"+db+"` COLLATE utf8mb4_unicode_ci",
		"CREATE FUNCTION same_name(a varchar(20), b varchar(20)) RETURNS int DETERMINISTIC RETURN a = b",
		"ALTER DATABASE `"+db+"` COLLATE utf8mb4_general_ci",
		"CREATE EVENT purge_audit ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' ON COMPLETION PRESERVE DISABLE COMMENT 'keeps 30 days' "+
			"DO DELETE FROM audit WHERE at < NOW() - INTERVAL 30 DAY",
		"CREATE DEFINER="+definer+" SQL SECURITY INVOKER VIEW v_people AS SELECT id, greeting(name) AS hello FROM people",
	)
}

// testAccount creates an account with a unique name, dropped when the
// test ends, and returns it as a DEFINER clause writes it.
func testAccount(t *testing.T, s serverDB) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "strata_def_" + hex.EncodeToString(b[:])
	s.exec(t, "CREATE USER '"+name+"'@'localhost'",
		// Triggers and views run with their definer's rights.
		"GRANT ALL ON `strata\\_test\\_%`.* TO '"+name+"'@'localhost'")
	t.Cleanup(func() { s.db.Exec("DROP USER '" + name + "'@'localhost'") })
	return "`" + name + "`@`localhost`"
}

// showCreateAll returns SHOW CREATE of every table, view, trigger,
// function, procedure and event of s's database, keyed "kind name", with
// every column SHOW CREATE gives (sql_mode, character sets, collations,
// time zone) but a trigger's creation time.
func showCreateAll(t *testing.T, s serverDB) map[string]string {
	t.Helper()
	lists := []struct{ kind, q string }{
		{"TABLE", "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'"},
		{"VIEW", "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()"},
		{"TRIGGER", "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"},
		{"FUNCTION", "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE = 'FUNCTION'"},
		{"PROCEDURE", "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE = 'PROCEDURE'"},
		{"EVENT", "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"},
		{"SEQUENCE", "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'SEQUENCE'"},
	}
	out := map[string]string{}
	for _, l := range lists {
		for _, name := range columnValues(t, s, l.q) {
			rows, err := s.db.Query("SHOW CREATE " + l.kind + " `" + name + "`")
			if err != nil {
				t.Fatalf("SHOW CREATE %s %s: %v", l.kind, name, err)
			}
			cols, _ := rows.Columns()
			if !rows.Next() {
				t.Fatalf("SHOW CREATE %s %s: no row", l.kind, name)
			}
			vals := make([]sql.NullString, len(cols))
			dest := make([]any, len(vals))
			for i := range vals {
				dest[i] = &vals[i]
			}
			if err := rows.Scan(dest...); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			var parts []string
			for i, c := range cols {
				if c != "Created" {
					parts = append(parts, c+": "+vals[i].String)
				}
			}
			out[l.kind+" "+name] = strings.Join(parts, "\n")
		}
	}
	return out
}

func columnValues(t *testing.T, s serverDB, q string, args ...any) []string {
	t.Helper()
	rows, err := s.db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// tableHashes returns a SHA-256 of each base table's rows, read as the
// server stores them (every column cast to binary, rows in binary order).
func tableHashes(t *testing.T, s serverDB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range columnValues(t, s, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'") {
		cols := columnValues(t, s, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION", table)
		var sel []string
		for _, c := range cols {
			sel = append(sel, "HEX(CAST(`"+c+"` AS BINARY))")
		}
		lines := columnValues(t, s, "SELECT CONCAT_WS('|', "+strings.Join(sel, ", ")+") FROM `"+table+"`")
		sort.Strings(lines)
		h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
		out[table] = fmt.Sprintf("%d rows %x", len(lines), h[:8])
	}
	return out
}

func diffMaps(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s: %s missing from the restore", what, k)
		} else if g != w {
			t.Errorf("%s: %s differs\nrestored:\n%s\nsource:\n%s", what, k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: %s in the restore, not in the source", what, k)
		}
	}
}

// TestMariaDBSchemaObjects backs up a database with every kind of MySQL
// schema object through the strata binary, restores it into an empty
// database, and compares SHOW CREATE of every object (definers,
// sql_mode, character sets and collations included) and each table's
// rows with the source, and with what mysqldump --single-transaction
// --routines --events --triggers piped into mysql gives back.
func TestMariaDBSchemaObjects(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	definer := testAccount(t, src)
	objectsSchema(t, src, definer)
	want := showCreateAll(t, src)
	if len(want) != 12 {
		t.Fatalf("the source has %d objects, want 12: %v", len(want), want)
	}
	wantRows := tableHashes(t, src)

	c := newCLI(t)
	c.ok("init")
	_, backupErr := c.code(0, "backup", "--db", src.dsn)
	// The snapshot records the binary log position, or that there is none.
	sns := c.snapshots()
	got := sns[len(sns)-1].Meta["binlog"]
	if src.int(t, "SELECT @@log_bin") == 0 {
		if got != "binary logging off" || !strings.Contains(backupErr, "binary logging is off") {
			t.Errorf("meta binlog %q with binary logging off; backup said:\n%s", got, backupErr)
		}
	} else if !regexp.MustCompile(`^\S+:\d+( \(GTID \S+\))?$`).MatchString(got) {
		t.Errorf("meta binlog %q with binary logging on", got)
	}
	dst := mariaDB(t)
	_, errOut := c.code(0, "restore", "latest", "--db", dst.dsn)
	// The server says that the ghost account does not exist; strata passes it on.
	if !strings.Contains(errOut, "trigger audit_bu") || !strings.Contains(errOut, "strata_ghost") {
		t.Errorf("the restore does not pass on the warning about the missing definer:\n%s", errOut)
	}
	diffMaps(t, "SHOW CREATE", showCreateAll(t, dst), want)
	diffMaps(t, "rows", tableHashes(t, dst), wantRows)
	// What mysqldump gives back, strata gives back.
	viaDump := mariaDB(t)
	mysqldumpInto(t, src, viaDump)
	// Every object mysqldump's restore gives back as the source has it,
	// strata's does too (checked above against the source for all). Its
	// restore of same_name differs from the source: a dump names the
	// source database in its ALTER DATABASE around the routine, so a
	// restore into another database gets the routine under that
	// database's collation (and changes the source's, if it is there).
	restored := showCreateAll(t, dst)
	for k, v := range showCreateAll(t, viaDump) {
		switch {
		case restored[k] == "":
			t.Errorf("%s: mysqldump gives it back, strata does not", k)
		case v != want[k]:
			t.Logf("%s: mysqldump's restore differs from the source; strata's does not", k)
		}
	}

	// The restored objects work: the procedure fires the triggers, the
	// view calls the function under its sql_mode.
	dst.exec(t, "CALL add_person('Otto', @id)")
	if got := dst.str(t, "SELECT CONCAT(p.nick, ' ', p.code, ' ', a.action) FROM people p JOIN audit a ON a.person_id = p.id WHERE p.id = @id"); got != "otto XYZ insert" {
		t.Errorf("the restored procedure and triggers give %q", got)
	}
	if got := dst.str(t, "SELECT hello FROM v_people WHERE id = 1"); got != "Grüß Jürgen" {
		t.Errorf("the restored view gives %q", got)
	}
	if got := dst.int(t, "SELECT same_name('a', 'A')"); got != 1 {
		t.Errorf("same_name('a', 'A') = %d, want 1 under its database collation utf8mb4_unicode_ci", got)
	}
	// The drill into a scratch database on the same server finds the
	// same objects.
	if out, stderr, code := c.run("verify", "drill", "--same-engine", "latest"); code != 0 {
		t.Errorf("drill --same-engine: exit %d\n%s%s", code, out, stderr)
	}
}

// TestMariaDBRestoreJobs restores with --jobs 3 tables large enough to get
// their secondary keys after their rows (unique, composite, prefix, on a
// foreign key, with the AUTO_INCREMENT column in a secondary key, and a
// FULLTEXT key, which stays in CREATE TABLE), and finds SHOW CREATE of
// every table and their rows as in the source.
func TestMariaDBRestoreJobs(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	src.exec(t,
		"CREATE TABLE parent (id int PRIMARY KEY, code varchar(20) NOT NULL, note text, "+
			"UNIQUE KEY by_code (code), KEY by_note (note(10)), FULLTEXT KEY ft_note (note)) ENGINE=InnoDB",
		"CREATE TABLE child (a int NOT NULL, b int NOT NULL, seq int NOT NULL AUTO_INCREMENT, parent_id int, label varchar(30) COLLATE utf8mb4_bin, "+
			"PRIMARY KEY (a, b), KEY by_seq (seq), KEY by_label_parent (label, parent_id), "+
			"CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE) ENGINE=InnoDB",
		"CREATE TABLE small (id int PRIMARY KEY, v int, KEY by_v (v))",
		"INSERT INTO parent SELECT seq, CONCAT('code-', seq), CONCAT('note about ', seq % 97) FROM seq_1_to_12000",
		"INSERT INTO child (a, b, parent_id, label) SELECT seq % 100, seq, IF(seq % 7 = 0, NULL, seq % 12000 + 1), CONCAT('L', seq % 333) FROM seq_1_to_15000",
		"INSERT INTO small VALUES (1, 10), (2, 20)",
	)
	want := showCreateAll(t, src)
	wantRows := tableHashes(t, src)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", src.dsn)
	dst := mariaDB(t)
	c.ok("restore", "latest", "--db", dst.dsn, "--jobs", "3")
	diffMaps(t, "SHOW CREATE", showCreateAll(t, dst), want)
	diffMaps(t, "rows", tableHashes(t, dst), wantRows)
	// The keys work: the unique key refuses a duplicate, the foreign key
	// cascades.
	if _, err := dst.db.Exec("INSERT INTO parent VALUES (99999, 'code-5', NULL)"); err == nil {
		t.Error("the restored unique key by_code took a duplicate")
	}
	dst.exec(t, "DELETE FROM parent WHERE id = 2")
	if n := dst.int(t, "SELECT COUNT(*) FROM child WHERE parent_id = 2"); n != 0 {
		t.Errorf("the restored foreign key did not cascade: %d rows left", n)
	}
}

// mysqldumpInto copies src into dst with mysqldump --single-transaction
// --routines --events --triggers and mysql, as a DBA would.
func mysqldumpInto(t *testing.T, src, dst serverDB) {
	t.Helper()
	for _, tool := range []string{"mysqldump", "mysql"} {
		if _, err := exec.LookPath(tool); err != nil {
			dbtest.Unreachable(t, tool+" is not installed (apt-get install mariadb-client)")
		}
	}
	d, err := dbexport.ParseDSN(dst.dsn)
	if err != nil {
		t.Fatal(err)
	}
	srcDSN, err := dbexport.ParseDSN(src.dsn)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-h", d.Host, "-P", d.Port, "-u", d.User}
	cmd := exec.Command("sh", append([]string{"-c", `mysqldump "$@" --single-transaction --routines --events --triggers "$SRC" | mysql "$@" "$DST"`, "dump"}, args...)...)
	cmd.Env = append(os.Environ(), "SRC="+srcDSN.Database, "DST="+d.Database)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mysqldump | mysql: %v\n%s", err, out)
	}
}

// TestMariaDBNoDefiner: restore --no-definer creates every view,
// trigger, routine and event as the restoring account's own.
func TestMariaDBNoDefiner(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	objectsSchema(t, src, testAccount(t, src))
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", src.dsn)
	dst := mariaDB(t)
	_, errOut := c.code(0, "restore", "latest", "--db", dst.dsn, "--no-definer")
	if strings.Contains(errOut, "strata_ghost") {
		t.Errorf("a definer came back with --no-definer:\n%s", errOut)
	}
	me := dst.str(t, "SELECT CURRENT_USER()")
	for _, q := range []string{
		"SELECT DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
		"SELECT DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()",
		"SELECT DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()",
		"SELECT DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()",
	} {
		got := columnValues(t, dst, q)
		if len(got) == 0 {
			t.Errorf("%s: nothing restored", q)
		}
		for _, d := range got {
			if d != me {
				t.Errorf("%s: definer %s, want the restoring account %s", q, d, me)
			}
		}
	}
}

// TestMariaDBPartialRestoreObjects: a restore of some tables recreates
// their triggers, and neither the routines nor the events, which it
// names; the target's own routine stays.
func TestMariaDBPartialRestoreObjects(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	objectsSchema(t, src, testAccount(t, src))
	want := showCreateAll(t, src)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", src.dsn)
	dst := mariaDB(t)
	dst.exec(t, "CREATE FUNCTION greeting(n varchar(50)) RETURNS varchar(100) DETERMINISTIC RETURN CONCAT('target ', n)")
	_, errOut := c.code(0, "restore", "latest", "--db", dst.dsn, "--tables", "people", "--tables", "audit")
	for _, name := range []string{"function greeting", "procedure add_person", "event purge_audit", "view v_people"} {
		if !strings.Contains(errOut, name) {
			t.Errorf("the partial restore does not say it left out %s:\n%s", name, errOut)
		}
	}
	got := showCreateAll(t, dst)
	for _, k := range []string{"TABLE people", "TABLE audit", "TRIGGER people_ai", "TRIGGER people_bi", "TRIGGER people_bi2", "TRIGGER audit_bu"} {
		if got[k] != want[k] {
			t.Errorf("%s: restored\n%s\nsource\n%s", k, got[k], want[k])
		}
	}
	for _, k := range []string{"PROCEDURE add_person", "EVENT purge_audit", "VIEW v_people", "TABLE legacy_latin", "FUNCTION same_name"} {
		if _, ok := got[k]; ok {
			t.Errorf("the partial restore created %s", k)
		}
	}
	if got := dst.str(t, "SELECT greeting('x')"); got != "target x" {
		t.Errorf("the target's own function greeting was replaced: %q", got)
	}

	// A table that lost its triggers in the target is not reloaded in
	// place (which keeps the target's definition): it gets the
	// snapshot's triggers back.
	dst.exec(t, "DROP TRIGGER people_bi", "DROP TRIGGER people_bi2", "DROP TRIGGER people_ai")
	c.ok("restore", "latest", "--db", dst.dsn, "--tables", "people", "--replace", "--no-safety-snapshot")
	got = showCreateAll(t, dst)
	for _, k := range []string{"TABLE people", "TRIGGER people_ai", "TRIGGER people_bi", "TRIGGER people_bi2"} {
		if got[k] != want[k] {
			t.Errorf("after --replace: %s: restored\n%s\nsource\n%s", k, got[k], want[k])
		}
	}
}

// TestMariaDBNotCaptured: what a snapshot cannot hold (a MariaDB
// system-versioned table) is named by the backup, recorded in the
// snapshot, and named again by the restore.
func TestMariaDBNotCaptured(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	src.exec(t, "CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t VALUES (1)", "CREATE TABLE prices (id int PRIMARY KEY) WITH SYSTEM VERSIONING")
	c := newCLI(t)
	c.ok("init")
	_, backupErr := c.code(0, "backup", "--db", src.dsn)
	if !strings.Contains(backupErr, "system-versioned table prices is not in the snapshot") {
		t.Errorf("the backup does not name the table it leaves out:\n%s", backupErr)
	}
	dst := mariaDB(t)
	_, restoreErr := c.code(0, "restore", "latest", "--db", dst.dsn)
	if !strings.Contains(restoreErr, "not recreated: system-versioned table prices") {
		t.Errorf("the restore does not name the table it does not recreate:\n%s", restoreErr)
	}
	if n := dst.int(t, "SELECT COUNT(*) FROM t"); n != 1 {
		t.Errorf("table t: %d rows", n)
	}
}

// TestMariaDBBackupAccountPrivileges: an account without the TRIGGER and
// EVENT privileges, which cannot read mysql.proc, does not see the
// database's triggers, events and routines, nor, without SELECT on
// mysql.procs_priv, the grants on the routines; the backup says so and
// the restore repeats it, instead of losing them silently. Once granted
// them, the backup sees every object and says nothing of it.
func TestMariaDBBackupAccountPrivileges(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	objectsSchema(t, src, testAccount(t, src))
	// It calls a function the restricted account cannot see, which a
	// restore of its snapshot could then not create.
	src.exec(t, "DROP VIEW v_people")
	d, err := dbexport.ParseDSN(src.dsn)
	if err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	account := "strata_ro_" + hex.EncodeToString(b[:])
	src.exec(t, "CREATE USER '"+account+"'@'%' IDENTIFIED BY 'pw'",
		"GRANT SELECT, SHOW VIEW ON `"+d.Database+"`.* TO '"+account+"'@'%'")
	t.Cleanup(func() { src.db.Exec("DROP USER '" + account + "'@'%'") })
	dsn := "mysql://" + account + ":pw@" + d.Host + ":" + d.Port + "/" + d.Database

	c := newCLI(t)
	c.ok("init")
	_, backupErr := c.code(0, "backup", "--db", dsn)
	for _, want := range []string{"no TRIGGER privilege", "no EVENT privilege", "can read neither mysql.proc"} {
		if !strings.Contains(backupErr, want) {
			t.Errorf("the backup by %s does not warn %q:\n%s", account, want, backupErr)
		}
	}
	dst := mariaDB(t)
	_, restoreErr := c.code(0, "restore", "latest", "--db", dst.dsn, "--other-source")
	if !strings.Contains(restoreErr, "not recreated: any trigger the backup account could not see") {
		t.Errorf("the restore does not say the triggers may be missing:\n%s", restoreErr)
	}

	src.exec(t, "GRANT TRIGGER, EVENT ON `"+d.Database+"`.* TO '"+account+"'@'%'",
		"GRANT SELECT ON mysql.proc TO '"+account+"'@'%'")
	// It sees the routines now, but not the grants on them.
	_, backupErr = c.code(0, "backup", "--db", dsn)
	if !strings.Contains(backupErr, "may not read mysql.procs_priv") {
		t.Errorf("the backup by %s, which may not read mysql.procs_priv, does not say it lacks the grants on routines:\n%s", account, backupErr)
	}
	src.exec(t, "GRANT SELECT ON mysql.procs_priv TO '"+account+"'@'%'")
	_, backupErr = c.code(0, "backup", "--db", dsn)
	if strings.Contains(backupErr, "privilege") || strings.Contains(backupErr, "mysql.proc") {
		t.Errorf("the backup with every privilege still warns:\n%s", backupErr)
	}
	sns := c.snapshots()
	root := sns[len(sns)-1].ShortID
	dst2 := mariaDB(t)
	c.ok("restore", root, "--db", dst2.dsn)
	if n := dst2.int(t, "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"); n != 3 {
		t.Errorf("%d routines restored from the privileged account's backup, want 3", n)
	}
	if n := dst2.int(t, "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"); n != 4 {
		t.Errorf("%d triggers restored, want 4", n)
	}
}

// TestMariaDBObjectsIntoSQLite: a restore of a MariaDB snapshot into a
// SQLite file names the views, triggers, routines and events it does
// not recreate there.
func TestMariaDBObjectsIntoSQLite(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	objectsSchema(t, src, testAccount(t, src))
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", src.dsn)
	_, errOut := c.code(0, "restore", "latest", "--db", "sqlite://"+filepath.Join(t.TempDir(), "inspect.db"))
	for _, name := range []string{"view v_people", "trigger people_ai", "function greeting", "procedure add_person", "event purge_audit"} {
		if !strings.Contains(errOut, name) {
			t.Errorf("the restore into SQLite does not name %s:\n%s", name, errOut)
		}
	}
}
