package main

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"strata/service/state"
)

// TestScheduleDrillTargetPasswordEnv: strata.yaml's
// drill.target_password_env gives the drill's scratch server its password
// (a MariaDB user that needs one): with the right password the drill
// restores and passes, with a wrong one the server refuses it; the
// password is in neither the run's record nor the command's output.
func TestScheduleDrillTargetPasswordEnv(t *testing.T) {
	t.Parallel()
	root := mariaDB(t)
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	user, password := "strata_drill_"+hex.EncodeToString(b[:4]), "pw-"+hex.EncodeToString(b[4:])
	// The source is a database of root, which needs no password; the
	// drill's scratch server is the same server, reached as a user that
	// does.
	root.exec(t, "CREATE USER '"+user+"'@'127.0.0.1' IDENTIFIED BY '"+password+"'",
		"GRANT ALL PRIVILEGES ON *.* TO '"+user+"'@'127.0.0.1'")
	t.Cleanup(func() { _, _ = root.db.Exec("DROP USER IF EXISTS '" + user + "'@'127.0.0.1'") })

	root.exec(t, "CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL)",
		"INSERT INTO customers VALUES (1, 'a@x.com'), (2, 'b@x.com')",
		"CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, FOREIGN KEY (customer_id) REFERENCES customers(id))",
		"INSERT INTO orders VALUES (1, 1), (2, 2)")
	e := newDaemonEnv(t, "")
	e.writeConfig(`sources:
  - name: app
    type: mysql
    dsn: ` + root.dsn + `
jobs:
  - name: app
    source: app
    tier: daily
drill:
  schedule: "@daily"
  source: app
  target: mysql://` + user + `@127.0.0.1:3306/mysql
  target_password_env: DRILL_TARGET_PW
`)
	c := e.c
	c.ok("--config", e.config, "schedule", "run", "app")

	c.vars["DRILL_TARGET_PW"] = "not-" + password
	_, errOut := c.code(1, "--config", e.config, "schedule", "run", "drill")
	failed := e.ended("drill", state.Failed)
	if len(failed) != 1 || !strings.Contains(failed[0].Error, "Access denied") {
		t.Fatalf("drill with a wrong password: runs %+v\n%s", failed, errOut)
	}

	c.vars["DRILL_TARGET_PW"] = password
	out, errOut := c.code(0, "--config", e.config, "schedule", "run", "drill")
	ok := e.ended("drill", state.Succeeded)
	if len(ok) != 1 || !strings.Contains(ok[0].Summary, "2 tables restored") {
		t.Fatalf("drill with the password: runs %+v\n%s%s", e.runs("drill"), out, errOut)
	}
	for _, r := range e.runs("drill") {
		if strings.Contains(r.Log+r.Error+r.Summary, password) {
			t.Fatalf("the run's record holds the password: %+v", r)
		}
	}
	if strings.Contains(out+errOut, password) {
		t.Fatalf("the output holds the password:\n%s%s", out, errOut)
	}
}
