package main

import (
	"strings"
	"testing"
)

// uncheckedKeyRollsBack lowers --held-key-limit below the distinct
// album_id values of track, so the key of track on album is not checked
// before a restore of album alone: the dry run and the restore say so,
// naming key and table, and the restore, whose rows break the key, fails
// naming it and rolls back (state and albums as before).
func uncheckedKeyRollsBack(t *testing.T, c *tcli, dsn, key, table string, state func() map[string]string, albums func() string) {
	t.Helper()
	args := []string{"restore", "latest", "--db", dsn, "--tables", "album", "--replace", "--no-safety-snapshot", "--held-key-limit", "3"}
	before, albumsBefore := state(), albums()
	unchecked := "foreign key " + key + " of table " + table + ": its rows use more than 3 distinct values"
	_, errOut := c.code(exitOK, append(args, "--dry-run")...)
	for _, want := range []string{unchecked, "not checked before the restore", "the restore checks it once the rows are loaded"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("dry run does not say %q:\n%s", want, errOut)
		}
	}
	_, errOut = c.code(exitError, args...)
	if !strings.Contains(errOut, unchecked) {
		t.Errorf("restore does not say the key was not checked beforehand:\n%s", errOut)
	}
	_, msg, _ := strings.Cut(errOut, "strata: ")
	if !strings.Contains(msg, key) {
		t.Errorf("the failed restore does not name the key %s:\n%s", key, errOut)
	}
	sameState(t, "failed restore", before, state())
	if got := albums(); got != albumsBefore {
		t.Errorf("the failed restore changed album: %s, was %s", got, albumsBefore)
	}
	// Checked beforehand (the default bound), the same restore is refused
	// before anything is written.
	_, errOut = c.code(exitError, args[:len(args)-2]...)
	if !strings.Contains(errOut, key) || !strings.Contains(errOut, "nothing was changed") || strings.Contains(errOut, "not checked before") {
		t.Errorf("restore with the key checked beforehand:\n%s", errOut)
	}
}

func TestHeldKeyOverLimitPostgres(t *testing.T) {
	t.Parallel()
	s := pgDB(t)
	s.exec(t, chinookPG...)
	s.exec(t, `CREATE TABLE review (album_id integer, stars integer)`)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", s.dsn)
	s.exec(t,
		`INSERT INTO album (title, artist_id) VALUES ('album after the snapshot', 1)`,
		`INSERT INTO track (name, album_id) VALUES ('on the new album', 41)`)
	uncheckedKeyRollsBack(t, c, s.dsn, "track_album_id_fkey", "public.track",
		func() map[string]string { return pgState(t, s) }, func() string { return albumRows(t, s) })
}

func TestHeldKeyOverLimitMariaDB(t *testing.T) {
	t.Parallel()
	s := mariaDB(t)
	s.exec(t, chinookMaria...)
	s.exec(t, `CREATE TABLE review (album_id int, stars int)`)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", s.dsn)
	s.exec(t,
		`INSERT INTO album (title, artist_id) VALUES ('album after the snapshot', 1)`,
		`INSERT INTO track (name, album_id) VALUES ('on the new album', 41)`)
	uncheckedKeyRollsBack(t, c, s.dsn, "track_album", "track",
		func() map[string]string { return mariaState(t, s) }, func() string { return mariaAlbums(t, s) })
}

// TestHeldKeyOverLimitMariaDBRecreate: album's columns changed since the
// snapshot, so MariaDB must re-create it, which it cannot roll back: a key
// over the limit is then a reason to refuse, before anything is written.
func TestHeldKeyOverLimitMariaDBRecreate(t *testing.T) {
	t.Parallel()
	s := mariaDB(t)
	s.exec(t, chinookMaria...)
	s.exec(t, `CREATE TABLE review (album_id int, stars int)`)
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", s.dsn)
	s.exec(t, `ALTER TABLE album ADD COLUMN year int`)
	before, albumsBefore := mariaState(t, s), mariaAlbums(t, s)
	args := []string{"restore", "latest", "--db", s.dsn, "--tables", "album", "--replace", "--no-safety-snapshot", "--held-key-limit", "3"}
	for _, dry := range []bool{true, false} {
		a := args
		if dry {
			a = append(a, "--dry-run")
		}
		_, errOut := c.code(exitError, a...)
		for _, want := range []string{"foreign key track_album of table track: its rows use more than 3 distinct values",
			"could not roll back", "raise --held-key-limit", "nothing was changed"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("dry run %v: stderr does not say %q:\n%s", dry, want, errOut)
			}
		}
	}
	sameState(t, "refused restore", before, mariaState(t, s))
	if got := mariaAlbums(t, s); got != albumsBefore {
		t.Errorf("the refused restore changed album: %s, was %s", got, albumsBefore)
	}
	// Under the default bound the key is checked beforehand, holds, and the
	// restore re-creates album.
	c.ok(args[:len(args)-2]...)
	if n := s.int(t, `SELECT count(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'album' AND COLUMN_NAME = 'year'`); n != 0 {
		t.Errorf("album was not re-created from the snapshot")
	}
}

func TestHeldKeyOverLimitSQLite(t *testing.T) {
	t.Parallel()
	path, db := sqliteApp(t)
	dsn := "sqlite://" + path
	c := newCLI(t)
	c.ok("init")
	c.ok("backup", "--db", dsn)
	for _, q := range []string{
		`INSERT INTO customers (email, balance) VALUES ('new@x.com', 1)`,
		`INSERT INTO orders VALUES (4, 4, 7)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	count := func(q string) string {
		var n string
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	state := func() map[string]string {
		return map[string]string{"orders": count(`SELECT count(*) || ' ' || group_concat(id || ':' || customer_id) FROM orders`)}
	}
	customers := func() string { return count(`SELECT count(*) || ' ' || group_concat(email) FROM customers`) }
	args := []string{"restore", "latest", "--db", dsn, "--tables", "customers", "--replace", "--no-safety-snapshot", "--held-key-limit", "1"}
	before, customersBefore := state(), customers()
	unchecked := "foreign key (customer_id) REFERENCES customers of table orders: its rows use more than 1 distinct values"
	if _, errOut := c.code(exitOK, append(args, "--dry-run")...); !strings.Contains(errOut, unchecked) || !strings.Contains(errOut, "not checked before the restore") {
		t.Errorf("dry run:\n%s", errOut)
	}
	_, errOut := c.code(exitError, args...)
	if !strings.Contains(errOut, unchecked) || !strings.Contains(errOut, "rolled back") || !strings.Contains(errOut, "orders") {
		t.Errorf("restore:\n%s", errOut)
	}
	sameState(t, "failed restore", before, state())
	if got := customers(); got != customersBefore {
		t.Errorf("the failed restore changed customers: %s, was %s", got, customersBefore)
	}
}
