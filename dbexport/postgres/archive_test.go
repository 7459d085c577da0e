package postgres

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"strata/dbexport"
)

// archiveOf backs up the schema of d into a file, as a backup's
// SchemaArchive does, and returns the file.
func archiveOf(t *testing.T, d dbexport.DSN) string {
	t.Helper()
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skip("pg_dump is not installed")
	}
	s := openSource(t, d, Options{})
	var buf bytes.Buffer
	desc, warnings, err := s.SchemaArchive(context.Background(), &buf)
	if err != nil || desc == nil || len(warnings) > 0 {
		t.Fatalf("SchemaArchive: %+v %v %v", desc, warnings, err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("PGDMP")) || !strings.HasPrefix(desc.Tool, "pg_dump (PostgreSQL) ") {
		t.Fatalf("archive %q... by %q", buf.Bytes()[:min(buf.Len(), 16)], desc.Tool)
	}
	path := filepath.Join(t.TempDir(), "schema.pgdump")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A function body that holds what looks like an entry header is one
// entry, not two: its text never runs as a statement of its own.
func TestRenderBodyLikeHeader(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	execSQL(t, d, `CREATE TABLE a (id int PRIMARY KEY)`,
		`CREATE FUNCTION tricky() RETURNS text LANGUAGE sql AS $$ SELECT '
--
-- TOC entry 1 (class 0 OID 0)
-- Name: x; Type: TABLE; Schema: public; Owner: postgres
--

DROP TABLE public.a;
'::text $$`,
		`CREATE TABLE b (id int PRIMARY KEY)`)
	path := archiveOf(t, d)
	tool, err := findTool(context.Background(), "pg_restore", "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := render(context.Background(), tool, path, Options{}, map[string]bool{})
	if err != nil {
		t.Fatal(err)
	}
	var tricky *tocEntry
	for i, e := range r.pre {
		if e.id == 1 || strings.HasPrefix(strings.TrimSpace(e.sql), "DROP") {
			t.Errorf("entry %d runs %q", e.id, e.sql)
		}
		if e.kind == "FUNCTION" {
			tricky = &r.pre[i]
		}
	}
	if tricky == nil || !strings.Contains(tricky.sql, "DROP TABLE public.a;\n'::text $$;") {
		t.Fatalf("the function's entry: %+v", tricky)
	}
	// Every owner role is missing: the --no-owner rendering is there too.
	if sql := r.noOwner[tricky.id]; sql == "" || strings.Contains(sql, "OWNER TO") || !strings.Contains(sql, "DROP TABLE public.a;") {
		t.Errorf("--no-owner rendering of the function: %q", sql)
	}
}

// With --schema the archive holds those schemas alone (with their
// extensions); a column type from another schema is named, as the
// target must have it.
func TestSchemaArchiveSelectedSchemas(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skip("pg_dump is not installed")
	}
	d := newDB(t)
	execSQL(t, d, `CREATE EXTENSION citext WITH SCHEMA public`, `CREATE SCHEMA s`, `CREATE SCHEMA other`,
		`CREATE EXTENSION pgcrypto WITH SCHEMA s`,
		`CREATE TABLE s.t (id int PRIMARY KEY, c public.citext)`, `CREATE TABLE other.u (id int PRIMARY KEY)`)
	src := openSource(t, d, Options{Schemas: []string{"s"}})
	sch := readSchema(t, src)
	if !strings.Contains(strings.Join(sch.Warnings, "\n"), "column s.t.c has type public.citext from schema public") ||
		strings.Join(sch.NotCaptured, ",") != "type public.citext" {
		t.Errorf("warnings %q, not captured %q", sch.Warnings, sch.NotCaptured)
	}
	var buf bytes.Buffer
	if _, _, err := src.SchemaArchive(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a.pgdump")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	list, err := exec.Command("pg_restore", "--list", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"EXTENSION - pgcrypto", "TABLE s t"} {
		if !strings.Contains(string(list), want) {
			t.Errorf("archive lacks %s:\n%s", want, list)
		}
	}
	for _, unwanted := range []string{"citext", "TABLE other u"} {
		if strings.Contains(string(list), unwanted) {
			t.Errorf("archive holds %s:\n%s", unwanted, list)
		}
	}
}
