package engine_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"strata/dbexport"
	"strata/dbexport/engine"
)

func TestRegistry(t *testing.T) {
	reg := engine.Default()
	if got := strings.Join(reg.Names(), ","); got != "mysql,postgres,sqlite" {
		t.Fatalf("Names() = %s, want mysql,postgres,sqlite", got)
	}
	for dsn, want := range map[string]string{
		"postgres://u@h/db": "postgres", "postgresql://u@h/db": "postgres",
		"mysql://u@h/db": "mysql", "mariadb://u@h/db": "mysql",
		"sqlite:rel.db": "sqlite", "sqlite:///abs.db": "sqlite",
	} {
		d, err := dbexport.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		e, err := reg.Lookup(d)
		if err != nil || e.Name != want {
			t.Errorf("Lookup(%s) = %q, %v; want %s", dsn, e.Name, err, want)
		}
	}
	if _, err := reg.Lookup(dbexport.DSN{Engine: "oracle"}); err == nil || !strings.Contains(err.Error(), "oracle databases are not supported") {
		t.Errorf("Lookup of an unknown engine: %v", err)
	}
	if _, err := engine.New(engine.SQLite(), engine.SQLite()); err == nil {
		t.Error("New with one engine twice succeeded")
	}
	if _, err := engine.New(engine.Engine{Name: "x"}); err == nil {
		t.Error("New with an engine without functions succeeded")
	}
}

// TestSQLiteSource opens a real SQLite file through the registry, and a
// plan target that must not create a missing file.
func TestSQLiteSource(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "none.db")
	d := dbexport.DSN{Engine: dbexport.EngineSQLite, Path: path}
	if _, err := engine.Default().OpenSource(ctx, d, engine.Options{}); err == nil {
		t.Fatal("OpenSource of a missing SQLite file succeeded")
	}
	tgt, err := engine.Default().OpenTarget(ctx, d, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if tgt.Engine() != dbexport.EngineSQLite {
		t.Errorf("target engine %q", tgt.Engine())
	}
	src, err := engine.Default().OpenSource(ctx, d, engine.Options{Jobs: 2})
	if err != nil {
		t.Fatalf("OpenSource of the file the target made: %v", err)
	}
	defer src.Close()
	if n := engine.SQLite().ExportJobs(src, engine.Options{}); n < 1 || n > 2 {
		t.Errorf("ExportJobs = %d, want 1 or 2", n)
	}
}
