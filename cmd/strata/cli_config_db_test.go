package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigJobDatabase: backup --job and guard --job take the job's
// database, its tables and its password source from strata.yaml.
func TestConfigJobDatabase(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, _ := sqliteApp(t)
	pg := pgDB(t)
	if _, err := pg.db.Exec(`CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'one')`); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "strata.yaml")
	writeNew(t, cfg, []byte(`version: 1
repository: {url: `+c.repo+`}
sources:
  - {name: app, type: sqlite, dsn: "sqlite://`+path+`", tables: [customers]}
  - {name: pg, type: postgres, dsn: "`+pg.dsn+`", password_env: PG_PW}
jobs:
  - {name: app-daily, source: app, tier: daily}
  - {name: pg-hourly, source: pg, tier: hourly}
`))
	c.vars["STRATA_CONFIG"] = cfg
	c.ok("backup", "--job", "app-daily")
	sns := c.snapshots("--job", "app-daily")
	if len(sns) != 1 || sns[0].Tier != "daily" {
		t.Fatalf("snapshots of app-daily: %+v", sns)
	}
	if ls := c.ok("ls", sns[0].ID); !strings.Contains(ls, "customers") || strings.Contains(ls, "orders") {
		t.Errorf("the job's tables: [customers] not applied:\n%s", ls)
	}
	// --tables on the command line wins over the source's.
	c.ok("backup", "--job", "app-daily", "--tables", "orders")
	if ls := c.ok("ls", "latest"); !strings.Contains(ls, "orders") || strings.Contains(ls, "customers") {
		t.Errorf("--tables did not win:\n%s", ls)
	}

	// password_env names a variable that must be set; the DSN it
	// completes reaches the server.
	_, errOut := c.code(1, "backup", "--job", "pg-hourly")
	if !strings.Contains(errOut, cfg+": source pg: password_env: environment variable PG_PW is empty or not set") {
		t.Errorf("unset password_env: %s", errOut)
	}
	c.vars["PG_PW"] = "not-logged"
	out, errOut := c.code(0, "backup", "--job", "pg-hourly")
	if strings.Contains(out+errOut, "not-logged") {
		t.Errorf("the database password was printed:\n%s%s", out, errOut)
	}
	if sns := c.snapshots("--job", "pg-hourly"); len(sns) != 1 || sns[0].Tier != "hourly" {
		t.Errorf("snapshots of pg-hourly: %+v", sns)
	}

	// guard --job: the job's database is the one protected.
	c.ok("guard", "--job", "app-daily", "--", "true")
	if sns := c.snapshots("--tag", "pre-op"); len(sns) != 1 || !strings.Contains(sns[0].Source, path) {
		t.Errorf("guard --job snapshots: %+v", sns)
	}
	if _, errOut := c.code(1, "guard", "--", "true"); !strings.Contains(errOut, "missing required flag --db") {
		t.Errorf("guard without --db or --job: %s", errOut)
	}
	c.check()
}
