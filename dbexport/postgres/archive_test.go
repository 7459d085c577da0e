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
