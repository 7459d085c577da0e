package main

import (
	"strings"
	"testing"
)

// TestRestoreDryRunHeldKeysPostgres: a dry run of a partial restore
// checks the foreign keys that tables it leaves alone hold on the
// restored table against the snapshot's rows, as the real restore does
// once it has loaded them: a track on an album added since the snapshot
// makes both refuse, naming the key, the table and the value. Without
// that track, the dry run and the restore pass.
func TestRestoreDryRunHeldKeysPostgres(t *testing.T) {
	t.Parallel()
	s := pgDB(t)
	s.exec(t, chinookPG...)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", s.dsn)
	s.exec(t,
		`INSERT INTO album (album_id, title, artist_id) VALUES (41, 'album after the snapshot', 1), (42, 'another', 1)`,
		`INSERT INTO track (name, album_id) VALUES ('on the new album', 41), ('again', 41), ('on the other', 42)`)

	plan, errOut := c.code(exitError, "restore", "latest", "--db", s.dsn, "--tables", "album", "--replace", "--dry-run")
	for _, want := range []string{"foreign key track_album_id_fkey of table public.track", "2 values of (album_id)", "(41), (42)", "public.album"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("dry run does not say %q:\n%s%s", want, plan, errOut)
		}
	}
	_, errOut = c.code(exitError, "restore", "latest", "--db", s.dsn, "--tables", "album", "--replace", "--no-safety-snapshot")
	if !strings.Contains(errOut, "track_album_id_fkey") {
		t.Errorf("restore does not name the key:\n%s", errOut)
	}
	if n := s.int(t, `SELECT count(*) FROM album`); n != 42 {
		t.Errorf("refused restore left %d albums, want 42", n)
	}

	s.exec(t, `DELETE FROM track WHERE album_id > 40`)
	plan = c.ok("restore", "latest", "--db", s.dsn, "--tables", "album", "--replace", "--dry-run")
	if !strings.Contains(plan, "replace") {
		t.Errorf("dry run:\n%s", plan)
	}
	c.ok("restore", "latest", "--db", s.dsn, "--tables", "album", "--replace", "--no-safety-snapshot")
	if n := s.int(t, `SELECT count(*) FROM album`); n != 40 {
		t.Errorf("restore left %d albums, want the snapshot's 40", n)
	}
}

// TestRestoreDryRunHeldKeysMariaDB: the same on MariaDB, where album's
// columns changed since the snapshot, so the restore must re-create it
// (DDL MariaDB cannot roll back): the dry run and the restore refuse
// before writing anything, and album keeps its rows and columns. Without
// the tracks on new albums both pass.
func TestRestoreDryRunHeldKeysMariaDB(t *testing.T) {
	t.Parallel()
	s := mariaDB(t)
	s.exec(t, chinookMaria...)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", s.dsn)
	s.exec(t,
		`ALTER TABLE album ADD COLUMN released int`,
		`INSERT INTO album (album_id, title, artist_id) VALUES (41, 'album after the snapshot', 1), (42, 'another', 1)`,
		`INSERT INTO track (name, album_id) VALUES ('on the new album', 41), ('again', 41), ('on the other', 42)`)

	plan, errOut := c.code(exitError, "restore", "latest", "--db", s.dsn, "--tables", "album", "--replace", "--dry-run")
	for _, want := range []string{"foreign key track_album of table track", "2 values of (album_id)", "(41), (42)", "rows of album"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("dry run does not say %q:\n%s%s", want, plan, errOut)
		}
	}
	_, errOut = c.code(exitError, "restore", "latest", "--db", s.dsn, "--tables", "album", "--replace", "--no-safety-snapshot")
	if !strings.Contains(errOut, "track_album") || !strings.Contains(errOut, "nothing was changed") {
		t.Errorf("restore does not name the key:\n%s", errOut)
	}
	if n := s.int(t, `SELECT count(*) FROM album WHERE released IS NULL`); n != 42 {
		t.Errorf("refused restore left %d albums with the new column, want 42", n)
	}

	s.exec(t, `DELETE FROM track WHERE album_id > 40`)
	plan = c.ok("restore", "latest", "--db", s.dsn, "--tables", "album", "--replace", "--dry-run")
	if !strings.Contains(plan, "replace") {
		t.Errorf("dry run:\n%s", plan)
	}
	c.ok("restore", "latest", "--db", s.dsn, "--tables", "album", "--replace", "--no-safety-snapshot")
	if n := s.int(t, `SELECT count(*) FROM album`); n != 40 {
		t.Errorf("restore left %d albums, want the snapshot's 40", n)
	}
}

// TestRestoreDryRunHeldKeysSQLite: the same on a SQLite file, whose
// restore rolls back but whose dry run answered replace: an order of a
// customer added since the snapshot makes both refuse, naming orders'
// key and the value.
func TestRestoreDryRunHeldKeysSQLite(t *testing.T) {
	t.Parallel()
	path, db := sqliteApp(t)
	dsn := "sqlite://" + path
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", dsn)
	for _, q := range []string{
		`INSERT INTO customers (id, email, balance) VALUES (4, 'new@x.com', 1)`,
		`INSERT INTO orders VALUES (4, 4, 7)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	plan, errOut := c.code(exitError, "restore", "latest", "--db", dsn, "--tables", "customers", "--replace", "--dry-run")
	if !strings.Contains(errOut, "foreign key (customer_id) REFERENCES customers of table orders: 1 value of (customer_id) that its rows use is missing from the snapshot's rows of customers: (4)") {
		t.Errorf("dry run:\n%s%s", plan, errOut)
	}
	if _, err := db.Exec(`DELETE FROM orders WHERE id = 4`); err != nil {
		t.Fatal(err)
	}
	c.ok("restore", "latest", "--db", dsn, "--tables", "customers", "--replace", "--dry-run")
	c.ok("restore", "latest", "--db", dsn, "--tables", "customers", "--replace", "--no-safety-snapshot")
}

// TestRestoreDryRunHeldKeysCompositePostgres: a key of two text columns
// whose values hold a tab and a backslash (escaped in the snapshot's COPY
// text) matches the snapshot's rows, a row with a NULL in the key is no
// reference, and one value missing from the snapshot is named whole.
func TestRestoreDryRunHeldKeysCompositePostgres(t *testing.T) {
	t.Parallel()
	s := pgDB(t)
	s.exec(t,
		`CREATE TABLE region (country text, code text, PRIMARY KEY (country, code))`,
		`CREATE TABLE office (id integer PRIMARY KEY, country text, code text, FOREIGN KEY (country, code) REFERENCES region)`,
		`INSERT INTO region VALUES (E'tab\there', E'back\\slash'), ('plain', 'one')`,
		`INSERT INTO office VALUES (1, E'tab\there', E'back\\slash'), (2, 'plain', 'one')`)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", s.dsn)
	s.exec(t,
		`INSERT INTO region VALUES ('new', 'two')`,
		`INSERT INTO office VALUES (3, 'new', 'two'), (4, 'new', NULL)`)

	plan, errOut := c.code(exitError, "restore", "latest", "--db", s.dsn, "--tables", "region", "--replace", "--dry-run")
	if !strings.Contains(errOut, "foreign key office_country_code_fkey of table public.office: 1 value of (country, code) that its rows use is missing from the snapshot's rows of public.region: (new, two)") {
		t.Errorf("dry run:\n%s%s", plan, errOut)
	}
	s.exec(t, `DELETE FROM office WHERE id = 3`)
	c.ok("restore", "latest", "--db", s.dsn, "--tables", "region", "--replace", "--dry-run")
	c.ok("restore", "latest", "--db", s.dsn, "--tables", "region", "--replace", "--no-safety-snapshot")
	if n := s.int(t, `SELECT count(*) FROM office JOIN region USING (country, code)`); n != 2 {
		t.Errorf("%d offices find their region after the restore, want 2", n)
	}
}

// TestRestoreDryRunHeldKeyOnNewColumnPostgres: a key added since the
// snapshot on a column the snapshot's table lacks cannot be added back
// after the restore re-creates the table: the dry run says so, naming the
// key and the column, and so does the restore, which changes nothing.
func TestRestoreDryRunHeldKeyOnNewColumnPostgres(t *testing.T) {
	t.Parallel()
	s := pgDB(t)
	s.exec(t,
		`CREATE TABLE album (album_id integer PRIMARY KEY, title text)`,
		`CREATE TABLE track (track_id integer PRIMARY KEY, album_code text)`,
		`INSERT INTO album VALUES (1, 'one')`)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", s.dsn)
	s.exec(t,
		`ALTER TABLE album ADD COLUMN code text UNIQUE`,
		`UPDATE album SET code = 'A1'`,
		`ALTER TABLE track ADD CONSTRAINT track_album_code FOREIGN KEY (album_code) REFERENCES album (code)`,
		`INSERT INTO track VALUES (1, 'A1')`)

	want := "foreign key track_album_code of table public.track references column code of public.album, which the snapshot's table does not have"
	_, errOut := c.code(exitError, "restore", "latest", "--db", s.dsn, "--tables", "album", "--replace", "--dry-run")
	if !strings.Contains(errOut, want) {
		t.Errorf("dry run:\n%s", errOut)
	}
	_, errOut = c.code(exitError, "restore", "latest", "--db", s.dsn, "--tables", "album", "--replace", "--no-safety-snapshot")
	if !strings.Contains(errOut, want) {
		t.Errorf("restore:\n%s", errOut)
	}
	if n := s.int(t, `SELECT count(*) FROM album WHERE code = 'A1'`); n != 1 {
		t.Errorf("the refused restore changed album: %d rows with the new column's value, want 1", n)
	}
}
