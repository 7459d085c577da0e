package sqlite_test

import (
	"path/filepath"
	"testing"

	"strata/dbexport/sqlite"
	"strata/internal/customerdb"
)

// BenchmarkCopyOutCustomers measures the typed export of every table of
// the customer database of `make bench-db` (internal/customerdb) at a
// twentieth of its size: 10,000 customers, 30,000 services, about 6.7 MB
// of typed COPY text, values of every class (integers, REAL prices, dates
// and timestamps as text, NULLs). Bytes are those of the export. The
// database is built once, outside the sub-benchmark, so that instruction
// counts of two runs with different -benchtime differ by exports alone
// (docs/benchmarks.md, "The typed SQLite export").
func BenchmarkCopyOutCustomers(b *testing.B) {
	path := filepath.Join(b.TempDir(), "app.db")
	db, err := customerdb.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := customerdb.Build(ctx, db, customerdb.Options{Customers: 10_000}); err != nil {
		b.Fatal(err)
	}
	db.Close()
	s, err := sqlite.Open(ctx, dsn(path), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	sc, err := s.Schema(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("customers=10000", func(b *testing.B) {
		b.ReportAllocs()
		var n int64
		for i := 0; i < b.N; i++ {
			cw := &countWriter{}
			for _, t := range sc.Tables {
				if _, err := s.CopyOut(ctx, t, cw); err != nil {
					b.Fatal(err)
				}
			}
			n = cw.n
		}
		b.SetBytes(n)
	})
}
