package main

import (
	"strings"
	"testing"

	"strata/dbexport"
)

// TestMariaDBGrants: the privileges accounts and roles hold on the
// database, its tables and columns are saved, and a restore into an
// empty database gives them back on it (SHOW GRANTS of each account
// names the target as it named the source), but to an account the target
// lacks, which it names and does not create (MariaDB's GRANT would
// create it, with no password). --no-privileges gives none back. A
// restore of one table gives back that table's grants only. Before,
// no grant was saved. A drill grants nothing on its scratch database:
// MySQL would keep such grants after the drill drops it (before, it did).
func TestMariaDBGrants(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	d, err := dbexport.ParseDSN(src.dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Unique as the database is, without its name, which grants() replaces.
	id := strings.TrimPrefix(d.Database, "strata_test_")
	user, role, gone := "acct_"+id+"_u", "acct_"+id+"_r", "acct_"+id+"_gone"
	src.exec(t, "CREATE USER '"+user+"'@'%'", "CREATE ROLE "+role, "CREATE USER '"+gone+"'@'localhost'")
	t.Cleanup(func() {
		src.db.Exec("DROP USER IF EXISTS '" + user + "'@'%'")
		src.db.Exec("DROP ROLE IF EXISTS " + role)
		src.db.Exec("DROP USER IF EXISTS '" + gone + "'@'localhost'")
	})
	esc := strings.ReplaceAll(d.Database, "_", `\_`)
	src.exec(t,
		"CREATE TABLE item (id int PRIMARY KEY, name text, price int)",
		"CREATE TABLE note (id int PRIMARY KEY)",
		"GRANT SELECT, INSERT ON `"+esc+"`.* TO "+role,
		"GRANT SELECT, UPDATE (name, price), INSERT (name) ON item TO '"+user+"'@'%' WITH GRANT OPTION",
		"GRANT DELETE ON item TO "+role,
		"GRANT SELECT ON note TO '"+gone+"'@'localhost'")
	grants := func(db, account string) string {
		var out []string
		for _, g := range columnValues(t, src, "SHOW GRANTS FOR "+account) {
			g = strings.ReplaceAll(g, strings.ReplaceAll(db, "_", `\_`), "DB")
			if g = strings.ReplaceAll(g, db, "DB"); strings.Contains(g, "`DB`") {
				out = append(out, g)
			}
		}
		return strings.Join(out, "\n")
	}
	accounts := []string{"'" + user + "'@'%'", role}
	want := map[string]string{}
	for _, a := range accounts {
		want[a] = grants(d.Database, a)
		if want[a] == "" {
			t.Fatalf("SHOW GRANTS FOR %s names no grant on the source", a)
		}
	}
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", src.dsn)
	src.exec(t, "DROP USER '"+gone+"'@'localhost'")

	dst := mariaDB(t)
	dstName := dst.str(t, "SELECT DATABASE()")
	_, errOut := c.code(0, "restore", "latest", "--db", dst.dsn)
	if !strings.Contains(errOut, "GRANT SELECT ON `"+dstName+"`.`note` TO '"+gone+"'@'localhost'") {
		t.Errorf("the restore does not name the grant to an account the target lacks:\n%s", errOut)
	}
	if n := src.int(t, "SELECT COUNT(*) FROM mysql.user WHERE User = ?", gone); n != 0 {
		t.Errorf("the restore created account %s", gone)
	}
	for _, a := range accounts {
		if got := grants(dstName, a); got != want[a] {
			t.Errorf("SHOW GRANTS FOR %s on the restored database:\n%s\nwant, as on the source:\n%s", a, got, want[a])
		}
	}

	c.ok("verify", "drill", "--same-engine", "latest")
	if n := src.int(t, "SELECT (SELECT COUNT(*) FROM mysql.db WHERE Db LIKE 'strata\\_drill\\_%') + (SELECT COUNT(*) FROM mysql.tables_priv WHERE Db LIKE 'strata\\_drill\\_%') + (SELECT COUNT(*) FROM mysql.columns_priv WHERE Db LIKE 'strata\\_drill\\_%')"); n != 0 {
		t.Errorf("verify drill --same-engine left %d grants on its dropped scratch database", n)
	}

	none := mariaDB(t)
	noneName := none.str(t, "SELECT DATABASE()")
	c.ok("restore", "latest", "--db", none.dsn, "--no-privileges")
	for _, a := range accounts {
		if got := grants(noneName, a); got != "" {
			t.Errorf("restore --no-privileges: SHOW GRANTS FOR %s:\n%s", a, got)
		}
	}

	part := mariaDB(t)
	partName := part.str(t, "SELECT DATABASE()")
	c.code(0, "restore", "latest", "--db", part.dsn, "--tables", "item")
	wantPart := "GRANT DELETE ON `DB`.`item` TO `" + role + "`"
	if got := grants(partName, role); got != wantPart {
		t.Errorf("restore --tables item: SHOW GRANTS FOR %s:\n%s\nwant\n%s", role, got, wantPart)
	}
	if got := grants(partName, accounts[0]); got != want[accounts[0]] {
		t.Errorf("restore --tables item: SHOW GRANTS FOR %s:\n%s\nwant\n%s", accounts[0], got, want[accounts[0]])
	}
}

// TestMariaDBGrantsBeyondTheDatabase: the privileges an account holds on
// the database through a global grant or a wildcard pattern, and the
// grants on its functions and procedures, are saved and given back on the
// restored database alone. A global privilege comes back as a grant on
// the database to an account that lacks it globally on the target (none
// to one that has it; no global grant is made, and the server's own
// privileges, SHOW DATABASES here, are left out), a pattern's privileges
// as a grant on the database (the pattern is not copied); of the patterns
// that match, the most specific alone counts, as on the server, so an
// account's exact grant hides its pattern's. A restoring account that may
// not make a whole GRANT makes what it may, and one that may not read the
// mysql database gives nothing from *.*: both name what they left out.
// --no-privileges and the drill give back none. Before, none of these was
// saved.
func TestMariaDBGrantsBeyondTheDatabase(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	d, err := dbexport.ParseDSN(src.dsn)
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(d.Database, "strata_test_")
	glob, kept, pat, shadow, exec, role := "acct_"+id+"_glob", "acct_"+id+"_kept", "acct_"+id+"_pat", "acct_"+id+"_shadow", "acct_"+id+"_exec", "acct_"+id+"_r"
	users := []string{glob, kept, pat, shadow, exec}
	for _, u := range users {
		src.exec(t, "CREATE USER '"+u+"'@'%' ACCOUNT LOCK")
	}
	src.exec(t, "CREATE ROLE "+role)
	t.Cleanup(func() {
		for _, u := range users {
			src.db.Exec("DROP USER IF EXISTS '" + u + "'@'%'")
		}
		src.db.Exec("DROP ROLE IF EXISTS " + role)
	})
	esc := strings.ReplaceAll(d.Database, "_", `\_`)
	src.exec(t,
		"CREATE TABLE item (id int PRIMARY KEY)",
		"CREATE PROCEDURE p() SELECT 1",
		"CREATE FUNCTION f() RETURNS int RETURN 1",
		"GRANT SHOW VIEW, SHOW DATABASES ON *.* TO '"+glob+"'@'%'",
		"GRANT SHOW VIEW ON *.* TO '"+kept+"'@'%'",
		"GRANT SELECT, INSERT, CREATE TEMPORARY TABLES ON `"+esc+"%`.* TO '"+pat+"'@'%'",
		"GRANT DELETE ON `strata\\_test\\_"+id[:6]+"%`.* TO '"+pat+"'@'%'",
		"GRANT SELECT ON `"+esc+"`.* TO '"+shadow+"'@'%'",
		"GRANT DELETE ON `"+esc+"%`.* TO '"+shadow+"'@'%'",
		"GRANT EXECUTE ON PROCEDURE p TO '"+exec+"'@'%'",
		"GRANT EXECUTE, ALTER ROUTINE ON FUNCTION f TO "+role+" WITH GRANT OPTION")
	grants := func(db, account string) string {
		var out []string
		for _, g := range columnValues(t, src, "SHOW GRANTS FOR "+account) {
			g = strings.ReplaceAll(g, strings.ReplaceAll(db, "_", `\_`), "DB")
			if g = strings.ReplaceAll(g, db, "DB"); strings.Contains(g, "`DB`") {
				out = append(out, g)
			}
		}
		return strings.Join(out, "\n")
	}
	global := func(account string) string {
		var out []string
		for _, g := range columnValues(t, src, "SHOW GRANTS FOR "+account) {
			if strings.Contains(g, " ON *.* ") {
				out = append(out, g)
			}
		}
		return strings.Join(out, "\n")
	}
	wantRoutines := map[string]string{}
	for _, a := range []string{"'" + exec + "'@'%'", role} {
		if wantRoutines[a] = grants(d.Database, a); !strings.Contains(wantRoutines[a], " ON PROCEDURE ") && !strings.Contains(wantRoutines[a], " ON FUNCTION ") {
			t.Fatalf("SHOW GRANTS FOR %s names no grant on a routine on the source:\n%s", a, wantRoutines[a])
		}
	}
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", src.dsn)
	// The target server, here the same, lacks glob's global SHOW VIEW.
	src.exec(t, "REVOKE SHOW VIEW ON *.* FROM '"+glob+"'@'%'")
	globalBefore := map[string]string{}
	for _, u := range users {
		globalBefore[u] = global("'" + u + "'@'%'")
	}

	dst := mariaDB(t)
	dstName := dst.str(t, "SELECT DATABASE()")
	c.ok("restore", "latest", "--db", dst.dsn)
	want := map[string]string{
		glob:   "GRANT SHOW VIEW ON `DB`.* TO `" + glob + "`@`%`",
		kept:   "",
		pat:    "GRANT SELECT, INSERT, CREATE TEMPORARY TABLES ON `DB`.* TO `" + pat + "`@`%`",
		shadow: "GRANT SELECT ON `DB`.* TO `" + shadow + "`@`%`",
		exec:   wantRoutines["'"+exec+"'@'%'"],
	}
	for _, u := range users {
		a := "'" + u + "'@'%'"
		if got := grants(dstName, a); got != want[u] {
			t.Errorf("SHOW GRANTS FOR %s on the restored database:\n%s\nwant\n%s", a, got, want[u])
		}
		if got := global(a); got != globalBefore[u] {
			t.Errorf("the restore changed the global grants of %s:\n%s\nwant, as before it:\n%s", a, got, globalBefore[u])
		}
	}
	if got := grants(dstName, role); got != wantRoutines[role] {
		t.Errorf("SHOW GRANTS FOR %s on the restored database:\n%s\nwant, as on the source:\n%s", role, got, wantRoutines[role])
	}
	if n := src.int(t, "SELECT COUNT(*) FROM mysql.db WHERE Db LIKE '%\\%%' AND User LIKE ?", "acct\\_"+id+"\\_%"); n != 3 {
		t.Errorf("%d wildcard grants to the test's accounts after the restore, want the source's 3", n)
	}

	c.ok("verify", "drill", "--same-engine", "latest")
	if n := src.int(t, "SELECT (SELECT COUNT(*) FROM mysql.db WHERE Db LIKE 'strata\\_drill\\_%') + (SELECT COUNT(*) FROM mysql.procs_priv WHERE Db LIKE 'strata\\_drill\\_%')"); n != 0 {
		t.Errorf("verify drill --same-engine left %d grants on its dropped scratch database", n)
	}

	// An account that may grant on its database all but CREATE TEMPORARY
	// TABLES, and may not read the mysql database, restores: each GRANT
	// it may not make whole is made one privilege at a time, and what it
	// may not grant is named.
	lim := mariaDB(t)
	limName := lim.str(t, "SELECT DATABASE()")
	restorer := "acct_" + id + "_restorer"
	src.exec(t, "CREATE USER '"+restorer+"'@'%' IDENTIFIED BY 'pw_"+id+"'",
		"GRANT ALL PRIVILEGES ON `"+strings.ReplaceAll(limName, "_", `\_`)+"`.* TO '"+restorer+"'@'%' WITH GRANT OPTION",
		"REVOKE CREATE TEMPORARY TABLES ON `"+strings.ReplaceAll(limName, "_", `\_`)+"`.* FROM '"+restorer+"'@'%'")
	t.Cleanup(func() { src.db.Exec("DROP USER IF EXISTS '" + restorer + "'@'%'") })
	_, errOut := c.code(0, "restore", "latest", "--db", "mysql://"+restorer+":pw_"+id+"@"+d.Host+":"+d.Port+"/"+limName, "--no-definer")
	if got, want := grants(limName, "'"+pat+"'@'%'"), "GRANT SELECT, INSERT ON `DB`.* TO `"+pat+"`@`%`"; got != want {
		t.Errorf("restore by an account that may not grant CREATE TEMPORARY TABLES: SHOW GRANTS FOR %s:\n%s\nwant\n%s", pat, got, want)
	}
	if want := "GRANT CREATE TEMPORARY TABLES ON `" + strings.ReplaceAll(limName, "_", `\_`) + "`.* TO '" + pat + "'@'%'"; !strings.Contains(errOut, want) {
		t.Errorf("the restore does not name the grant it could not make, %s:\n%s", want, errOut)
	}
	if got := grants(limName, role); got != wantRoutines[role] {
		t.Errorf("restore by an account that may not grant CREATE TEMPORARY TABLES: SHOW GRANTS FOR %s:\n%s\nwant\n%s", role, got, wantRoutines[role])
	}
	// It may not see the target's other accounts, so it does not know
	// which hold a privilege globally already: it gives none of those
	// from *.* (root would get a row for each of its), and names them.
	if want := "GRANT SHOW VIEW ON `" + strings.ReplaceAll(limName, "_", `\_`) + "`.* TO '" + glob + "'@'%'"; !strings.Contains(errOut, "may not read the mysql database") || !strings.Contains(errOut, want) {
		t.Errorf("the restore by an account that may not read the mysql database does not name %s:\n%s", want, errOut)
	}
	// (Other tests' accounts may hold a pattern that matches it.)
	if got := strings.Join(columnValues(t, src, "SELECT User FROM mysql.db WHERE Db = ? AND User IN ('root', 'mysql', ?, ?) ORDER BY User", strings.ReplaceAll(limName, "_", `\_`), glob, kept), " "); got != "" {
		t.Errorf("accounts that hold privileges globally granted on the database restored by %s: %s", restorer, got)
	}

	none := mariaDB(t)
	noneName := none.str(t, "SELECT DATABASE()")
	c.ok("restore", "latest", "--db", none.dsn, "--no-privileges")
	for _, a := range []string{"'" + glob + "'@'%'", "'" + pat + "'@'%'", "'" + exec + "'@'%'", role} {
		if got := grants(noneName, a); got != "" {
			t.Errorf("restore --no-privileges: SHOW GRANTS FOR %s:\n%s", a, got)
		}
	}
}
