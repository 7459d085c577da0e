package sqlite_test

import (
	"strings"
	"testing"

	"strata/dbexport/sqlite"
)

// TestSchemaNamesWhatItLeavesOut: a virtual table whose module is missing,
// the index of a contentless FTS table and a rowid hidden by columns are
// warned about and named in not_captured; the readable tables are saved,
// shadow tables not.
func TestSchemaNamesWhatItLeavesOut(t *testing.T) {
	path, db := newDB(t,
		`CREATE TABLE ok (a INT)`,
		`CREATE TABLE hidden (rowid INT, _rowid_ INT, oid INT)`,
		`CREATE VIRTUAL TABLE bare USING fts5(body, content='')`,
		`INSERT INTO bare (bare, rank) VALUES ('rank', 'bm25(10.0)')`,
		`PRAGMA writable_schema = ON`,
		`INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES ('table', 'ghost', 'ghost', 0, 'CREATE VIRTUAL TABLE ghost USING nosuchmodule(a)')`,
		`PRAGMA writable_schema = OFF`,
	)
	db.Close()
	src, err := sqlite.Open(ctx, dsn(path), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	s, err := src.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tab := range s.Tables {
		names = append(names, tab.Name)
	}
	if got := strings.Join(names, ","); got != "bare,hidden,ok" {
		t.Errorf("tables %s, want bare,hidden,ok", got)
	}
	lost := strings.Join(s.NotCaptured, "\n")
	for _, want := range []string{"virtual table ghost is not saved", "virtual table bare keeps no content", "the settings of full-text table bare (rank) are not saved", "table hidden: its rowid is not saved"} {
		if !strings.Contains(lost, want) {
			t.Errorf("not_captured lacks %q:\n%s", want, lost)
		}
		if !strings.Contains(strings.Join(s.Warnings, "\n"), want) {
			t.Errorf("warnings lack %q", want)
		}
	}
	if ok := s.Table("ok"); ok == nil || len(ok.Columns) != 2 || !ok.Columns[0].RowID || ok.Columns[0].Name != "rowid" || strings.Join(ok.PrimaryKey, ",") != "rowid" {
		t.Errorf("table ok: %+v", ok)
	}
}
