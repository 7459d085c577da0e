package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Table names a database allows but a node name cannot hold, or that an
// encoding could confuse: with "/" (the node name was "a/b", so the
// backup saved a snapshot that ls, dump, restore and check refused as
// damaged), empty, "." and "..", and names that look encoded. Each gets
// an encoded node name (docs/design.md, "Schema") and comes back under
// its own name.
var oddTableNames = []string{"a/b", "/", "ü/表", ".", "..", "%", "a%2Fb", "a%2Eb", "a.b", "line\nbreak", "plain"}

// oddNodeNames are the node names of oddTableNames without a schema.
var oddNodeNames = []string{"a%2Fb", "%2F", "ü%2F表", "%2E", "%2E%2E", "%25", "a%252Fb", "a%252Eb", "a%2Eb", "line\nbreak", "plain"}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// copyText is a one-field row as strata dump writes it.
func copyText(s string) string { return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s) }

// checkOddTables checks a snapshot of oddTableNames (with schema, if
// any), each holding the row (1, its name): ls lists their node names,
// dump finds each by node name and, where no other table has that node
// name, by its own; nodes are the snapshot's other node names.
func checkOddTables(t *testing.T, c *tcli, schema string, nodes ...string) {
	t.Helper()
	prefix := ""
	if schema != "" {
		prefix = schema + "."
	}
	for _, n := range oddNodeNames {
		nodes = append(nodes, prefix+n)
	}
	ls := c.ok("ls", "latest")
	for i, name := range oddTableNames {
		node, qualified := prefix+oddNodeNames[i], prefix+name
		if !strings.Contains(ls, "/"+node+"\n") {
			t.Errorf("ls latest does not list node %q of table %q:\n%s", node, name, ls)
		}
		want := "1\t" + copyText(name) + "\n"
		if out := c.ok("dump", "latest", node); out != want {
			t.Errorf("dump of node %q: %q, want %q", node, out, want)
		}
		if slices.Contains(nodes, qualified) && node != qualified {
			continue // another table's node name, which wins
		}
		if strings.HasPrefix(qualified, "/") {
			continue // a path: dump's PATH with a leading / names a file
		}
		if out := c.ok("dump", "latest", qualified); out != want {
			t.Errorf("dump of table %q: %q, want %q", qualified, out, want)
		}
	}
}

// checkOddChanges adds a row to "a/b" and changes the one of "..",
// backs up again, and checks diff and history of both.
func checkOddChanges(t *testing.T, c *tcli, exec func(...string), backup []string, prefix string) {
	t.Helper()
	exec(`INSERT INTO `+prefix+quoteIdent("a/b")+` VALUES (2, 'two')`, `UPDATE `+prefix+quoteIdent("..")+` SET v = 'up'`)
	c.ok(backup...)
	diff := c.ok("diff", "latest~1", "latest", "--json")
	for _, want := range []string{`"table": "` + prefix + `a/b"`, `"table": "` + prefix + `.."`} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff does not name %s:\n%s", want, diff)
		}
	}
	if strings.Count(diff, `"rows_added": 1`) != 1 || strings.Count(diff, `"rows_modified": 1`) != 1 {
		t.Errorf("diff of one row added to a/b and one changed in ..:\n%s", diff)
	}
	if out := c.ok("diff", "latest~1", "latest", "--tables", prefix+"a/b", "--format", "sql"); !strings.Contains(out, `"a/b"`) || !strings.Contains(out, "'two'") {
		t.Errorf("diff --format sql of a/b:\n%s", out)
	}
	if out := c.ok("history", prefix+"a/b", "--key", "2"); !strings.Contains(out, "inserted") || !strings.Contains(out, `"two"`) {
		t.Errorf("history of a/b id=2:\n%s", out)
	}
	if out := c.ok("history", prefix+"..", "--key", "1"); !strings.Contains(out, "updated") || !strings.Contains(out, `"up"`) {
		t.Errorf("history of .. id=1:\n%s", out)
	}
}

func TestSQLiteOddTableNames(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, exec := sqliteFile(t, "odd.db")
	names := append(oddTableNames, "")
	for _, name := range names {
		exec(`CREATE TABLE `+quoteIdent(name)+` (id integer PRIMARY KEY, v text)`,
			`INSERT INTO `+quoteIdent(name)+` VALUES (1, '`+strings.ReplaceAll(name, "'", "''")+`')`)
	}
	c.ok("backup", "--db", "sqlite://"+path)
	checkOddTables(t, c, "", "%")
	if out := c.ok("dump", "latest", "%"); out != "1\t\n" {
		t.Errorf("dump of node %% (the table named \"\"): %q", out)
	}
	if out := c.ok("dump", "latest", ""); out != "1\t\n" {
		t.Errorf("dump of the table named \"\": %q", out)
	}

	// Restored into an empty database, every table has its exact name
	// and its row.
	dst := filepath.Join(t.TempDir(), "restored.db")
	c.ok("restore", "latest", "--db", "sqlite://"+dst)
	db, err := sql.Open("sqlite", "file:"+dst)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got []string
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	rows.Close()
	want := slices.Sorted(slices.Values(names))
	if !slices.Equal(got, want) {
		t.Errorf("restored tables %q, want %q", got, want)
	}
	for _, name := range names {
		var v string
		if err := db.QueryRow(`SELECT group_concat(id || ':' || v) FROM ` + quoteIdent(name)).Scan(&v); err != nil || v != "1:"+name {
			t.Errorf("restored %q holds %q (%v), want 1:%s", name, v, err, name)
		}
	}

	checkOddChanges(t, c, exec, []string{"backup", "--db", "sqlite://" + path}, "")
	c.check()
}

func TestPostgresOddTableNames(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	src := pgDB(t)
	src.exec(t, `CREATE SCHEMA "s/x"`, `CREATE TABLE "s/x"."t/u" (id int PRIMARY KEY, v text)`, `INSERT INTO "s/x"."t/u" VALUES (1, 'st')`)
	for _, name := range oddTableNames {
		src.exec(t, `CREATE TABLE public.`+quoteIdent(name)+` (id int PRIMARY KEY, v text)`,
			`INSERT INTO public.`+quoteIdent(name)+` VALUES (1, $$`+name+`$$)`)
	}
	c.ok("backup", "--db", src.dsn)
	checkOddTables(t, c, "public")
	if out := c.ok("dump", "latest", "s%2Fx.t%2Fu"); out != "1\tst\n" {
		t.Errorf("dump of node s%%2Fx.t%%2Fu: %q", out)
	}
	if out := c.ok("dump", "latest", "s/x.t/u"); out != "1\tst\n" {
		t.Errorf("dump of table s/x.t/u: %q", out)
	}
	if out := c.ok("dump", "latest", "a/b"); out != "1\ta/b\n" {
		t.Errorf("dump of a/b (public.a/b): %q", out)
	}

	// Restored into an empty database, every table has its exact name
	// and its row.
	dst := pgDB(t)
	c.ok("restore", "latest", "--db", dst.dsn, "--source", src.dsn)
	const tables = `SELECT string_agg(format('%I.%I', table_schema, table_name), ',' ORDER BY table_schema, table_name)
		FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`
	if got, want := dst.str(t, tables), src.str(t, tables); got != want {
		t.Errorf("restored tables %q, want %q", got, want)
	}
	for _, name := range oddTableNames {
		if got := dst.str(t, `SELECT string_agg(id || ':' || v, ',') FROM public.`+quoteIdent(name)); got != "1:"+name {
			t.Errorf("restored public.%q holds %q, want 1:%s", name, got, name)
		}
	}
	if got := dst.str(t, `SELECT string_agg(id || ':' || v, ',') FROM "s/x"."t/u"`); got != "1:st" {
		t.Errorf(`restored "s/x"."t/u" holds %q`, got)
	}

	checkOddChanges(t, c, func(stmts ...string) { src.exec(t, stmts...) }, []string{"backup", "--db", src.dsn}, "public.")
	c.check()
}

// TestMountOddTableNames: the mount shows a table by its node name, one
// folder with its files, whatever its name.
func TestMountOddTableNames(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("init")
	path, exec := sqliteFile(t, "odd.db")
	for _, name := range []string{"a/b", ".."} {
		exec(`CREATE TABLE `+quoteIdent(name)+` (id integer PRIMARY KEY, v text)`, `INSERT INTO `+quoteIdent(name)+` VALUES (1, 'x')`)
	}
	c.ok("backup", "--db", "sqlite://"+path)
	id := c.snapshots()[0].ShortID
	m := c.mount()
	entries, err := os.ReadDir(filepath.Join(m.dir, "ids", id))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if want := []string{"%2E%2E", "a%2Fb", "schema.json"}; !slices.Equal(got, want) {
		t.Errorf("ids/%s holds %q, want %q", id, got, want)
	}
	checkTableFolder(t, c, filepath.Join(m.dir, "ids", id, "a%2Fb"), id, "a%2Fb", 1)
	checkTableFolder(t, c, filepath.Join(m.dir, "ids", id, "%2E%2E"), id, "%2E%2E", 1)
}
