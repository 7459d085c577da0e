package postgres

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// BenchmarkSchemaCapture compares the two ways a backup captures a
// schema (docs/design.md, "Schema archive"): the catalog queries of
// Schema, and pg_dump --schema-only on the snapshot (SchemaArchive), on
// the every-object fixture plus 200 tables with an index, a foreign key,
// a trigger and a comment each. Both open their own snapshot.
//
//	go test -run '^$' -bench SchemaCapture -benchtime 5x ./dbexport/postgres
func BenchmarkSchemaCapture(b *testing.B) {
	if _, err := exec.LookPath("pg_dump"); err != nil {
		b.Skip("pg_dump is not installed")
	}
	fixture, err := os.ReadFile("testdata/every_object.sql")
	if err != nil {
		b.Fatal(err)
	}
	d := newDB(b)
	// The fixture's grants go to PUBLIC here: no role to create.
	execSQL(b, d, strings.ReplaceAll(string(fixture), "strata_test_reader", "PUBLIC"))
	for i := 0; i < 200; i++ {
		execSQL(b, d, fmt.Sprintf(`CREATE TABLE shop.t%[1]d (id serial PRIMARY KEY, c integer REFERENCES shop.counter, v text);
			CREATE INDEX ON shop.t%[1]d (v);
			CREATE TRIGGER t%[1]d_touch BEFORE UPDATE ON shop.t%[1]d FOR EACH ROW EXECUTE FUNCTION shop.touch();
			COMMENT ON TABLE shop.t%[1]d IS 'table %[1]d'`, i))
	}
	ctx := context.Background()
	b.Run("catalog", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s, err := Open(ctx, d, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Schema(ctx); err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
	b.Run("pg_dump", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s, err := Open(ctx, d, Options{})
			if err != nil {
				b.Fatal(err)
			}
			desc, _, err := s.SchemaArchive(ctx, io.Discard)
			if err != nil || desc == nil {
				b.Fatal(desc, err)
			}
			s.Close()
		}
	})
}
