package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// table is the synthetic customers table: its COPY text, ordered by id,
// and what changes hour by hour. Every row's text follows from its id and
// the hour of its last update, so any hour's export can be told from its
// SHA-256 alone.
type table struct {
	buf     []byte          // the COPY text of the current hour
	ids     []int64         // live ids, ascending
	offs    []int           // offs[i] is where row i starts in buf; offs[len(ids)] == len(buf)
	updated map[int64]int32 // hour of a row's last update; absent: never updated
	nextID  int64
	// The previous hour's slices, reused by the next rebuild.
	spareBuf  []byte
	spareIDs  []int64
	spareOffs []int
}

// churnSeed makes every run churn the same rows.
const churnSeed = 0x5eed_0f_9b

// start is the time of hour 0 (hour h is start plus h hours): with 720
// hours the last snapshot is Monday 16 November 2026 09:00 UTC, the
// series repo/retention's TestDefaultPolicy720Hours decides about.
var start = time.Date(2026, 10, 17, 10, 0, 0, 0, time.UTC)

func hourTime(h int) time.Time { return start.Add(time.Duration(h) * time.Hour) }

// newTable generates rows until the text holds at least size bytes.
func newTable(size int64) *table {
	t := &table{buf: make([]byte, 0, size+size/4), updated: map[int64]int32{}}
	for int64(len(t.buf)) < size {
		t.nextID++
		t.ids = append(t.ids, t.nextID)
		t.offs = append(t.offs, len(t.buf))
		t.buf = appendRow(t.buf, t.nextID, 0)
	}
	t.offs = append(t.offs, len(t.buf))
	return t
}

// change is what one hour does to one row position.
type change uint8

const (
	update change = iota + 1
	remove
)

// churn applies hour h at rate (0.002: 0.2% of rows) the way bench-db's
// customer churn does (internal/customerdb): four fifths of the changes
// are updates, 70% of them among the newest tenth of the rows and 30%
// anywhere; one fifth are appended rows; a twentieth as many rows as
// changes are deleted anywhere. It returns the rows updated, appended and
// deleted.
func (t *table) churn(h int, rate float64) (updates, appends, deletes int) {
	rng := rand.New(rand.NewPCG(churnSeed, uint64(h)))
	rows := len(t.ids)
	n := int(math.Round(rate * float64(rows)))
	wantUpdates, wantAppends, wantDeletes := n*4/5, n-n*4/5, max(n/20, min(n, 1))
	at := map[int]change{}
	newest := rows - rows/10
	for tries := 0; updates < wantUpdates && tries < 20*wantUpdates; tries++ {
		pos := rng.IntN(rows)
		if rng.IntN(10) < 7 {
			pos = newest + rng.IntN(rows-newest)
		}
		if at[pos] == 0 {
			at[pos] = update
			updates++
		}
	}
	for tries := 0; deletes < wantDeletes && tries < 20*wantDeletes; tries++ {
		if pos := rng.IntN(rows); at[pos] == 0 {
			at[pos] = remove
			deletes++
		}
	}
	positions := make([]int, 0, len(at))
	for pos := range at {
		positions = append(positions, pos)
	}
	slices.Sort(positions)
	t.rebuild(h, positions, at, wantAppends)
	return updates, wantAppends, deletes
}

// rebuild writes the new text: runs of unchanged rows are copied whole,
// changed rows are written again, deleted ones left out, new ones
// appended.
func (t *table) rebuild(h int, positions []int, at map[int]change, appends int) {
	buf, ids, offs := t.spareBuf[:0], t.spareIDs[:0], t.spareOffs[:0]
	from := 0 // first row not yet carried over
	carry := func(to int) {
		shift := len(buf) - t.offs[from]
		buf = append(buf, t.buf[t.offs[from]:t.offs[to]]...)
		ids = append(ids, t.ids[from:to]...)
		for _, o := range t.offs[from:to] {
			offs = append(offs, o+shift)
		}
	}
	for _, pos := range positions {
		carry(pos)
		from = pos + 1
		id := t.ids[pos]
		if at[pos] == remove {
			delete(t.updated, id)
			continue
		}
		t.updated[id] = int32(h)
		ids = append(ids, id)
		offs = append(offs, len(buf))
		buf = appendRow(buf, id, int32(h))
	}
	carry(len(t.ids))
	for range appends {
		t.nextID++
		ids = append(ids, t.nextID)
		offs = append(offs, len(buf))
		buf = appendRow(buf, t.nextID, 0)
	}
	t.spareBuf, t.spareIDs, t.spareOffs = t.buf, t.ids, t.offs
	t.buf, t.ids, t.offs = buf, ids, append(offs, len(buf))
}

var (
	firstNames = []string{"Anna", "Ben", "Chloe", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Luca", "Mia", "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sven", "Tara"}
	lastNames  = []string{"Meyer", "Schmidt", "Novak", "Rossi", "Garcia", "Smith", "Kowalski", "Jensen", "Dubois", "Silva", "Yilmaz", "Horvat", "Berg", "Costa", "Weber"}
	cities     = []string{"Berlin", "Vienna", "Zurich", "Prague", "Lisbon", "Madrid", "Oslo", "Warsaw", "Lyon", "Milan"}
	statuses   = []string{"active", "active", "active", "paused", "cancelled", "trial"}
	plans      = []string{"basic", "standard", "standard", "premium", "family"}
)

// appendRow appends the row of id as last updated at hour (0: never). An
// update changes what an application's update would: status, plan,
// balance and updated_at; the rest follows from the id alone.
func appendRow(dst []byte, id int64, hour int32) []byte {
	r := rand.New(rand.NewPCG(uint64(id), 0))
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	created := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(id) * 97 * time.Second)
	updated := created
	u := r
	if hour > 0 {
		u = rand.New(rand.NewPCG(uint64(id), uint64(hour)))
		updated = hourTime(int(hour)).Add(time.Duration(u.IntN(3600)) * time.Second)
	}
	return fmt.Appendf(dst, "%d\t%s\t%s\t%s.%s%d@example.com\t+49 30 %07d\t%d %s Street\t%s\t%s\t%s\t%d.%02d\t%s\t%s\n",
		id, first, last, first, last, r.IntN(1000), r.IntN(10000000),
		1+r.IntN(200), lastNames[r.IntN(len(lastNames))], cities[r.IntN(len(cities))],
		statuses[u.IntN(len(statuses))], plans[u.IntN(len(plans))], u.IntN(5000), u.IntN(100),
		created.Format(time.DateTime), updated.Format(time.DateTime))
}
