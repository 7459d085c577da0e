package sqlite_test

import (
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"

	"strata/dbexport"
	"strata/dbexport/sqlite"
	"strata/repo"
	"strata/repo/repotest"
)

// BenchmarkRestoreWithDeltas measures reading back a table after 24 hours
// of churn (0.2% of rows an hour, mostly among the newest rows) stored as
// delta blobs with chains of at most 8 or the default, against the same history
// stored without deltas (max_delta_depth 0), and reports the bytes each
// hour added.
func BenchmarkRestoreWithDeltas(b *testing.B) {
	for _, depth := range []int{0, 8, repo.DefaultMaxDeltaDepth} {
		b.Run(fmt.Sprintf("max_delta_depth=%d", depth), func(b *testing.B) {
			src, db := newDB(&testing.T{}, `CREATE TABLE c (id INTEGER PRIMARY KEY, name TEXT, email TEXT, note TEXT, amount REAL)`)
			const rows = 100_000
			rng := rand.New(rand.NewSource(1))
			tx, _ := db.Begin()
			for i := 1; i <= rows; i++ {
				tx.Exec(`INSERT INTO c VALUES (?, ?, ?, ?, ?)`, i, fmt.Sprintf("customer %d", rng.Intn(1e6)), fmt.Sprintf("c%d@example.com", i), strings.Repeat("n", i%60), float64(rng.Intn(1e5))/100)
			}
			tx.Commit()
			r, be := repotest.New(b, func(c *repo.Config, _ *repo.Options) { c.MaxDeltaDepth = depth; c.PackSize = 16 << 20 })
			var parent *repo.Snapshot
			var stored, first uint64
			for hour := 0; hour <= 24; hour++ {
				if hour > 0 {
					tx, _ := db.Begin()
					// 0.2% of rows an hour, 70% of them among the newest 10%.
					for i := 0; i < rows/500; i++ {
						id := 1 + rng.Intn(rows)
						if rng.Intn(10) < 7 {
							id = rows - rng.Intn(rows/10)
						}
						tx.Exec(`UPDATE c SET note = ? WHERE id = ?`, fmt.Sprintf("hour %d", hour), id)
					}
					tx.Commit()
				}
				s, err := sqlite.Open(ctx, dsn(src), sqlite.Options{})
				if err != nil {
					b.Fatal(err)
				}
				parent, err = dbexport.Backup(ctx, r, s, dbexport.BackupOptions{Parent: parent, Source: "bench"})
				s.Close()
				if err != nil {
					b.Fatal(err)
				}
				stored += parent.Summary.BytesAdded
				if hour == 0 {
					first = stored
				}
			}
			node, _, err := dbexport.TableNode(ctx, r, parent.Tree, "c")
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(node.Size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// A fresh handle each round: no delta base is cached.
				b.StopTimer()
				cold := repotest.Reopen(b, be)
				b.StartTimer()
				if err := dbexport.DumpTable(ctx, cold, parent.Tree, "c", dbexport.FormatTSV, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(stored-first)/24/1e3, "kB-added/hour")
		})
	}
}

// BenchmarkCopyOut measures the export of 200,000 rows of typed COPY
// text, one column of them text that reads as a number (so each of its
// values is checked and tagged \T) and one REAL: the cost of keeping
// every value's storage class.
func BenchmarkCopyOut(b *testing.B) {
	src, db := newDB(&testing.T{}, `CREATE TABLE c (id INTEGER PRIMARY KEY, name TEXT, email TEXT, note TEXT, amount REAL, code TEXT)`)
	tx, _ := db.Begin()
	for i := 1; i <= 200_000; i++ {
		tx.Exec(`INSERT INTO c VALUES (?, ?, ?, ?, ?, ?)`, i, fmt.Sprintf("customer %d", i), fmt.Sprintf("c%d@example.com", i), "some note text here", float64(i)/100, fmt.Sprint(i*7))
	}
	tx.Commit()
	s, err := sqlite.Open(ctx, dsn(src), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	sc, err := s.Schema(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var n int64
	for i := 0; i < b.N; i++ {
		cw := &countWriter{}
		if _, err := s.CopyOut(ctx, sc.Tables[0], cw); err != nil {
			b.Fatal(err)
		}
		n = cw.n
	}
	b.SetBytes(n)
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
