package main

import (
	"strings"
	"testing"
)

// A restore whose view cannot be created, its definer's account missing
// from the target server, fails saying what it left behind (MySQL cannot
// roll back DDL) and that --no-definer restores it.
func TestMariaDBMissingDefiner(t *testing.T) {
	t.Parallel()
	src := mariaDB(t)
	definer := testAccount(t, src)
	src.exec(t, "CREATE TABLE t (id int PRIMARY KEY)",
		"INSERT INTO t VALUES (1), (2)",
		"CREATE DEFINER="+definer+" FUNCTION twice(x int) RETURNS int DETERMINISTIC RETURN x * 2",
		"CREATE DEFINER="+definer+" VIEW v AS SELECT id, twice(id) AS d FROM t")
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", src.dsn)
	src.exec(t, "DROP USER "+strings.ReplaceAll(definer, "`", "'"))

	dst := mariaDB(t)
	_, errOut := c.code(exitError, "restore", "latest", "--source", src.dsn, "--db", dst.dsn)
	for _, want := range []string{"view v", "--no-definer", "the tables and their rows are restored"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("restore whose view's definer is missing: no %q:\n%s", want, errOut)
		}
	}
	other := mariaDB(t)
	_, errOut, code := c.run("restore", "latest", "--source", src.dsn, "--db", other.dsn, "--no-definer")
	if code != 0 {
		t.Fatalf("restore --no-definer: exit %d:\n%s", code, errOut)
	}
	// The DROP ... IF EXISTS before each routine is not news.
	if strings.Contains(errOut, "does not exist") {
		t.Errorf("restore --no-definer into an empty database says something does not exist:\n%s", errOut)
	}
	if got := columnValues(t, other, "SELECT d FROM v ORDER BY id"); strings.Join(got, ",") != "2,4" {
		t.Errorf("view v after restore --no-definer: %v", got)
	}
}
