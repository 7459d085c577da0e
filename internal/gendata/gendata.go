// Package gendata generates deterministic CSV-like table exports for the
// demo and the benchmarks: rows of a customer table ordered by id, with
// names, e-mail addresses, amounts and timestamps that compress the way
// real exports do.
package gendata

import (
	"bufio"
	"fmt"
	"io"
	"math/rand"
	"time"
)

var (
	firstNames = []string{"Anna", "Ben", "Chloe", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Luca", "Mia", "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sven", "Tara"}
	lastNames  = []string{"Meyer", "Schmidt", "Novak", "Rossi", "Garcia", "Smith", "Kowalski", "Jensen", "Dubois", "Silva", "Yilmaz", "Horvat", "Berg", "Costa", "Weber"}
	cities     = []string{"Berlin", "Vienna", "Zurich", "Prague", "Lisbon", "Madrid", "Oslo", "Warsaw", "Lyon", "Milan"}
	statuses   = []string{"active", "active", "active", "paused", "cancelled", "trial"}
)

// Row writes the row with the given id and version; a higher version is
// the same customer after an update.
func Row(w io.Writer, id int64, version int) {
	rng := new(splitmix)
	*rng = splitmix(uint64(id)*7919 + uint64(version)<<40)
	first := firstNames[rng.Intn(len(firstNames))]
	last := lastNames[rng.Intn(len(lastNames))]
	created := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(id) * 97 * time.Second)
	fmt.Fprintf(w, "%d\t%s\t%s\t%s.%s%d@example.com\t+49 30 %07d\t%d %s Street\t%s\t%s\t%d.%02d\t%s\t%s\n",
		id, first, last, first, last, rng.Intn(1000), rng.Intn(10000000),
		1+rng.Intn(200), lastNames[rng.Intn(len(lastNames))], cities[rng.Intn(len(cities))],
		statuses[rng.Intn(len(statuses))], rng.Intn(5000), rng.Intn(100),
		created.Format("2006-01-02 15:04:05"), created.Add(time.Duration(version)*time.Hour).Format("2006-01-02 15:04:05"))
}

// Write writes rows until at least size bytes are written and returns the
// number of rows.
func Write(w io.Writer, size int64) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &countingWriter{w: bw}
	var id int64
	for cw.n < size {
		id++
		Row(cw, id, 0)
	}
	return id, bw.Flush()
}

// Changes describe one simulated hour of business on a table of rows rows:
// which rows are updated (their version bumped) and how many are appended.
type Changes struct {
	Versions map[int64]int // id -> version
	Rows     int64         // rows in the table after the change
}

// Churn applies one hour of changes at rate (0.002 for 0.2% of rows):
// 70% of updates hit the newest 10% of rows, 30% hit any row, and new rows
// are appended (a third as many as the updates).
func Churn(c *Changes, rate float64, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	n := int64(float64(c.Rows) * rate)
	for i := int64(0); i < n; i++ {
		var id int64
		if rng.Float64() < 0.7 {
			id = c.Rows - rng.Int63n(c.Rows/10+1)
		} else {
			id = 1 + rng.Int63n(c.Rows)
		}
		c.Versions[id]++
	}
	c.Rows += n / 3
}

// WriteVersion writes the table as it is after the changes.
func WriteVersion(w io.Writer, c *Changes) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	for id := int64(1); id <= c.Rows; id++ {
		Row(bw, id, c.Versions[id])
	}
	return bw.Flush()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// splitmix is a tiny deterministic generator: seeding math/rand for every
// row would cost more than writing the row.
type splitmix uint64

func (s *splitmix) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Intn returns a number in [0, n).
func (s *splitmix) Intn(n int) int { return int(s.next() % uint64(n)) }
