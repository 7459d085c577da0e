package chunk

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

// testPol is a fixed irreducible polynomial of degree 53, so that test
// results do not depend on a random choice.
const testPol Pol = 0x3DA3358B4DC173

var (
	firstNames = []string{"Anna", "Ben", "Chloe", "David", "Emma", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kaito", "Lena", "Mateo", "Nora", "Oskar", "Priya"}
	lastNames  = []string{"Schmidt", "Garcia", "Nguyen", "Okafor", "Rossi", "Kowalski", "Dubois", "Jensen", "Silva", "Tanaka", "Novak", "Murphy"}
	cities     = []string{"Berlin", "Lyon", "Porto", "Gdansk", "Leeds", "Turin", "Aarhus", "Graz", "Ghent", "Brno"}
	statuses   = []string{"active", "inactive", "suspended", "pending"}
)

// csvRow appends one customer row with key id; rng varies the values.
func csvRow(b []byte, id int, rng *rand.Rand) []byte {
	first := firstNames[rng.IntN(len(firstNames))]
	last := lastNames[rng.IntN(len(lastNames))]
	b = strconv.AppendInt(b, int64(id), 10)
	b = fmt.Appendf(b, ",%s,%s,%s.%s%d@example.com,+49 30 %07d,%d %s Street,%s,%05d,%s,%d.%02d,2024-%02d-%02dT%02d:%02d:%02dZ\n",
		first, last, first, last, id, rng.IntN(1e7), rng.IntN(300)+1, last, cities[rng.IntN(len(cities))],
		rng.IntN(1e5), statuses[rng.IntN(len(statuses))], rng.IntN(1e5), rng.IntN(100),
		rng.IntN(12)+1, rng.IntN(28)+1, rng.IntN(24), rng.IntN(60), rng.IntN(60))
	return b
}

// genCSV returns a deterministic CSV export of at least size bytes: a
// header line and rows in key order.
func genCSV(seed uint64, size int) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, 0, size+256)
	b = append(b, "id,first_name,last_name,email,phone,street,city,postal_code,status,balance,updated_at\n"...)
	for id := 1; len(b) < size; id++ {
		b = csvRow(b, id, rng)
	}
	return b
}

// genRandom returns size pseudo-random bytes.
func genRandom(seed uint64, size int) []byte {
	rng := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}
