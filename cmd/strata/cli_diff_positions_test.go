package main

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A sequence or auto-increment position moves with every insert: diff
// --stat reports it apart ("sequence positions moved"), not as a schema
// change, on each engine.
func TestDiffStatSequencePositions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		engine string
		src    func(t *testing.T) serverDB
		schema []string
		change []string // one row added to events, and a sequence drawn from (PostgreSQL)
		moved  []string // what diff --stat names as moved
		table  string
	}{
		{"sqlite", func(t *testing.T) serverDB {
			path := filepath.Join(t.TempDir(), "app.db")
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return serverDB{dsn: "sqlite://" + path, db: db}
		}, []string{
			`CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT)`,
			`INSERT INTO events (what) VALUES ('a'), ('b')`,
		}, []string{`INSERT INTO events (what) VALUES ('c')`}, []string{"events"}, "events"},
		{"postgres", pgDB, []string{
			`CREATE TABLE events (id serial PRIMARY KEY, what text)`,
			`CREATE SEQUENCE tickets`,
			`INSERT INTO events (what) VALUES ('a'), ('b')`,
		}, []string{`INSERT INTO events (what) VALUES ('c')`, `SELECT nextval('tickets')`},
			[]string{"public.events", "public.tickets"}, "public.events"},
		{"mariadb", mariaDB, []string{
			`CREATE TABLE events (id int AUTO_INCREMENT PRIMARY KEY, what text) ENGINE=InnoDB`,
			`INSERT INTO events (what) VALUES ('a'), ('b')`,
		}, []string{`INSERT INTO events (what) VALUES ('c')`}, []string{"events"}, "events"},
	} {
		t.Run(tc.engine, func(t *testing.T) {
			src := tc.src(t)
			src.exec(t, tc.schema...)
			c := newCLI(t)
			c.ok("init")
			c.ok("backup", "--db", src.dsn, "--time", "2025-06-17 13:00:00")
			src.exec(t, tc.change...)
			c.ok("backup", "--db", src.dsn, "--time", "2025-06-17 14:00:00")
			sns := c.snapshots()
			a, b := sns[0].ID, sns[1].ID

			out := c.ok("diff", a, b)
			if strings.Contains(out, "schema changes") {
				t.Errorf("a moved sequence position shown as a schema change:\n%s", out)
			}
			if want := "sequence positions moved: " + strings.Join(tc.moved, ", "); !strings.Contains(out, want) {
				t.Errorf("diff --stat lacks %q:\n%s", want, out)
			}
			var st struct {
				Tables []struct {
					Table     string   `json:"table"`
					Added     uint64   `json:"rows_added"`
					Schema    []string `json:"schema_changes"`
					Positions bool     `json:"sequence_positions_moved"`
				} `json:"tables"`
				Schema    []string `json:"schema_changes"`
				Positions []string `json:"sequence_positions_moved"`
			}
			js := c.ok("diff", "--json", a, b)
			if err := json.Unmarshal([]byte(js), &st); err != nil {
				t.Fatalf("%v\n%s", err, js)
			}
			if len(st.Schema) != 0 || !slices.Equal(st.Positions, tc.moved) {
				t.Errorf("diff --json: schema changes %q, positions moved %q, want none and %q", st.Schema, st.Positions, tc.moved)
			}
			for _, tb := range st.Tables {
				if tb.Table == tc.table && (len(tb.Schema) != 0 || !tb.Positions || tb.Added != 1) {
					t.Errorf("diff --json, table %s: %+v", tb.Table, tb)
				}
			}

			// A real schema change is still one.
			src.exec(t, `ALTER TABLE events ADD COLUMN extra int`)
			c.ok("backup", "--db", src.dsn, "--time", "2025-06-17 15:00:00")
			if out := c.ok("diff", b, c.snapshots()[2].ID); !strings.Contains(out, "schema changes") || strings.Contains(out, "sequence positions") {
				t.Errorf("an added column, no new rows:\n%s", out)
			}
		})
	}
}
