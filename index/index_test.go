package index

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"strata/pack"
)

// model is what an Index should answer: every location of every blob.
type model map[pack.ID]map[pack.ID]Location // blob ID, pack ID

func (m model) addPack(packID pack.ID, blobs []pack.Blob) {
	// Of a blob listed twice, AddPack keeps the one at the smallest offset;
	// of a blob already in the pack, the one it has.
	fresh := map[pack.ID]pack.Blob{}
	for _, b := range blobs {
		if old, ok := fresh[b.ID]; !ok || b.Offset < old.Offset {
			fresh[b.ID] = b
		}
	}
	for id, b := range fresh {
		if m[id] == nil {
			m[id] = make(map[pack.ID]Location)
		}
		if _, ok := m[id][packID]; !ok {
			m[id][packID] = Location{Pack: packID, Type: b.Type, Compression: b.Compression,
				Offset: b.Offset, Length: b.Length, Base: b.Base}
		}
	}
}

// locations returns the blob's locations ordered by pack ID.
func (m model) locations(id pack.ID) []Location {
	var locs []Location
	for _, loc := range m[id] {
		locs = append(locs, loc)
	}
	slices.SortFunc(locs, func(a, b Location) int { return bytes.Compare(a.Pack[:], b.Pack[:]) })
	return locs
}

// check compares every answer of x with m.
func (m model) check(t *testing.T, x *Index, rng *rand.Rand) {
	t.Helper()
	n := 0
	packs := map[pack.ID]bool{}
	for id := range m {
		want := m.locations(id)
		n += len(want)
		for _, loc := range want {
			packs[loc.Pack] = true
		}
		if got := x.LookupAll(id); !slices.Equal(got, want) {
			t.Fatalf("LookupAll(%s) = %+v, want %+v", id.Short(), got, want)
		}
		if got, ok := x.Lookup(id); !ok || got != want[0] {
			t.Fatalf("Lookup(%s) = %+v, %v, want %+v", id.Short(), got, ok, want[0])
		}
		if !x.Has(id) {
			t.Fatalf("Has(%s) = false", id.Short())
		}
	}
	for range 100 {
		id := randID(rng)
		if _, ok := x.Lookup(id); ok || x.Has(id) || x.LookupAll(id) != nil {
			t.Fatalf("the index has %s, which was never added", id.Short())
		}
	}
	if got := x.Len(); got != n {
		t.Fatalf("Len() = %d, want %d", got, n)
	}

	wantPacks := make([]pack.ID, 0, len(packs))
	for p := range packs {
		wantPacks = append(wantPacks, p)
	}
	slices.SortFunc(wantPacks, func(a, b pack.ID) int { return bytes.Compare(a[:], b[:]) })
	if got := x.Packs(); !slices.Equal(got, wantPacks) {
		t.Fatalf("Packs() = %d packs, want %d", len(got), len(wantPacks))
	}

	var prev Location
	var prevID pack.ID
	seen := 0
	x.Each(func(id pack.ID, loc Location) bool {
		if seen > 0 {
			if c := bytes.Compare(prevID[:], id[:]); c > 0 || c == 0 && bytes.Compare(prev.Pack[:], loc.Pack[:]) >= 0 {
				t.Fatalf("Each: %s in %s after %s in %s", id.Short(), loc.Pack.Short(), prevID.Short(), prev.Pack.Short())
			}
		}
		if want, ok := m[id][loc.Pack]; !ok || want != loc {
			t.Fatalf("Each: %s at %+v, want %+v", id.Short(), loc, want)
		}
		prev, prevID = loc, id
		seen++
		return true
	})
	if seen != n {
		t.Fatalf("Each visited %d entries, want %d", seen, n)
	}
}

// packMaker makes packs of random blobs, some of which repeat blobs of
// earlier packs, and half of which are delta blobs whose bases are earlier
// blobs, later blobs (not added yet) or blobs that are never added.
type packMaker struct {
	rng    *rand.Rand
	blobs  []pack.Blob // every blob made so far
	future []pack.ID   // IDs promised as bases, to be made later
}

func (g *packMaker) pack(n int) (pack.ID, []pack.Blob) {
	blobs := make([]pack.Blob, 0, n)
	inPack := make(map[pack.ID]bool, n)
	var offset uint32
	for range n {
		var b pack.Blob
		switch r := g.rng.IntN(10); {
		case r == 0 && len(g.blobs) > 0: // a blob that is in another pack too
			b = g.blobs[g.rng.IntN(len(g.blobs))]
		case r == 1 && len(g.future) > 0: // a blob that earlier deltas use as base
			b = pack.Blob{ID: g.future[0], Compression: pack.Zstd}
			g.future = g.future[1:]
		default:
			b = pack.Blob{ID: randID(g.rng), Type: pack.BlobType(g.rng.IntN(2)), Compression: pack.Compression(g.rng.IntN(2))}
			if g.rng.IntN(2) == 0 {
				b.Compression = pack.Delta
				switch r := g.rng.IntN(10); {
				case r < 7 && len(g.blobs) > 0:
					b.Base = g.blobs[g.rng.IntN(len(g.blobs))].ID
				case r < 9:
					b.Base = randID(g.rng)
					g.future = append(g.future, b.Base)
				default:
					b.Base = randID(g.rng) // never added
				}
			}
		}
		b.Offset, b.Length, b.RawLength = offset, 1+g.rng.Uint32N(1000), g.rng.Uint32N(1000)
		offset += b.Length
		if !inPack[b.ID] {
			inPack[b.ID] = true
			blobs = append(blobs, b)
			g.blobs = append(g.blobs, b)
		}
	}
	return randID(g.rng), blobs
}

func TestIndexModel(t *testing.T) {
	if testing.Short() {
		t.Skip("a long test: make test-long runs it")
	}
	tests := []struct {
		packs, blobsPerPack int
		compactAt           int  // fewest pending entries that AddPack merges
		compactEnd          bool // call Compact after the last pack
	}{
		{packs: 1, blobsPerPack: 1, compactAt: 1 << 16},
		{packs: 1, blobsPerPack: 1, compactAt: 1 << 16, compactEnd: true},
		{packs: 50, blobsPerPack: 30, compactAt: 1 << 16},
		{packs: 50, blobsPerPack: 30, compactAt: 1},
		{packs: 200, blobsPerPack: 10, compactAt: 100},
		{packs: 200, blobsPerPack: 10, compactAt: 100, compactEnd: true},
		{packs: 20, blobsPerPack: 5000, compactAt: 1000},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d-compactAt%d-compactEnd%v", tt.packs, tt.blobsPerPack, tt.compactAt, tt.compactEnd), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			g := &packMaker{rng: rng}
			x := New()
			x.compactAt = tt.compactAt
			m := model{}
			for p := range tt.packs {
				packID, blobs := g.pack(1 + rng.IntN(tt.blobsPerPack))
				x.AddPack(packID, blobs)
				m.addPack(packID, blobs)
				if p%(1+tt.packs/5) == 0 {
					m.check(t, x, rng)
				}
			}
			if tt.compactEnd {
				x.Compact()
			}
			m.check(t, x, rng)
		})
	}
}

func TestIndexCases(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	packA, packB := randID(rng), randID(rng)
	if bytes.Compare(packA[:], packB[:]) > 0 {
		packA, packB = packB, packA
	}
	data := pack.Blob{Type: pack.DataBlob, Compression: pack.Zstd, ID: randID(rng), Offset: 0, Length: 10, RawLength: 20}
	tree := pack.Blob{Type: pack.TreeBlob, Compression: pack.Raw, ID: randID(rng), Offset: 10, Length: 30, RawLength: 20}
	delta := pack.Blob{Type: pack.DataBlob, Compression: pack.Delta, ID: randID(rng), Base: data.ID, Offset: 40, Length: 5, RawLength: 20}
	tree2 := tree // the same blob at a smaller offset
	tree2.Offset = 5
	type add struct {
		pack  pack.ID
		blobs []pack.Blob
	}
	tests := []struct {
		name string
		adds []add
	}{
		{"empty", nil},
		{"no-blobs", []add{{packA, nil}}},
		{"one-pack", []add{{packA, []pack.Blob{data, tree, delta}}}},
		{"duplicates-across-packs", []add{{packB, []pack.Blob{data, tree}}, {packA, []pack.Blob{data}}}},
		{"same-pack-twice", []add{{packA, []pack.Blob{data, tree}}, {packA, []pack.Blob{tree, data}}}},
		{"same-blob-twice-in-a-pack", []add{{packA, []pack.Blob{tree, data, tree2}}}},
		{"base-arrives-later", []add{{packA, []pack.Blob{delta}}, {packB, []pack.Blob{data}}}},
		{"base-never-arrives", []add{{packA, []pack.Blob{delta, tree}}}},
	}
	for _, tt := range tests {
		for _, compactAt := range []int{1, 1 << 16} {
			t.Run(fmt.Sprintf("%s-compactAt%d", tt.name, compactAt), func(t *testing.T) {
				x := New()
				x.compactAt = compactAt
				m := model{}
				for _, a := range tt.adds {
					x.AddPack(a.pack, a.blobs)
					m.addPack(a.pack, a.blobs)
					m.check(t, x, rng)
				}
				x.Compact()
				m.check(t, x, rng)
			})
		}
	}
}

// TestUnresolvedBases checks that a delta entry finds its base in the main
// table once the base is added and merged, and that only bases the index
// does not hold stay in the side table.
func TestUnresolvedBases(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	base := pack.Blob{Compression: pack.Raw, ID: randID(rng), Length: 1}
	delta := pack.Blob{Compression: pack.Delta, ID: randID(rng), Base: base.ID, Offset: 1, Length: 1}
	orphan := pack.Blob{Compression: pack.Delta, ID: randID(rng), Base: randID(rng), Offset: 2, Length: 1}

	x := New()
	x.AddPack(randID(rng), []pack.Blob{delta, orphan})
	x.Compact()
	if len(x.s.unresolved) != 2 {
		t.Fatalf("%d unresolved bases, want 2", len(x.s.unresolved))
	}
	x.AddPack(randID(rng), []pack.Blob{base})
	x.Compact()
	if len(x.s.unresolved) != 1 || x.s.unresolved[0] != orphan.Base {
		t.Fatalf("unresolved bases %v, want only %s", x.s.unresolved, orphan.Base)
	}
	for _, b := range []pack.Blob{delta, orphan} {
		if loc, _ := x.Lookup(b.ID); loc.Base != b.Base {
			t.Errorf("Lookup(%s).Base = %s, want %s", b.ID.Short(), loc.Base.Short(), b.Base.Short())
		}
	}
}

// TestIndexOrderIndependent checks that the answers do not depend on the
// order in which packs were added, nor on when merges happened.
func TestIndexOrderIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	g := &packMaker{rng: rng}
	var adds []PackBlobs
	for range 100 {
		id, blobs := g.pack(50)
		adds = append(adds, PackBlobs{id, blobs})
	}
	each := func(x *Index) []Location {
		var locs []Location
		x.Each(func(_ pack.ID, loc Location) bool { locs = append(locs, loc); return true })
		return locs
	}

	a := New()
	a.compactAt = 1
	for _, p := range adds {
		a.AddPack(p.PackID, p.Blobs)
	}
	b := New()
	for _, i := range rng.Perm(len(adds)) {
		b.AddPack(adds[i].PackID, adds[i].Blobs)
	}
	if !slices.Equal(each(a), each(b)) {
		t.Fatal("Each differs between two indexes of the same packs")
	}
	for _, blob := range g.blobs {
		la, _ := a.Lookup(blob.ID)
		lb, _ := b.Lookup(blob.ID)
		if la != lb {
			t.Fatalf("Lookup(%s) = %+v and %+v", blob.ID.Short(), la, lb)
		}
	}
}

func TestEachStops(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	g := &packMaker{rng: rng}
	x := New()
	for range 10 {
		x.AddPack(g.pack(10))
	}
	calls := 0
	x.Each(func(pack.ID, Location) bool { calls++; return calls < 5 })
	if calls != 5 {
		t.Fatalf("Each called fn %d times after it returned false, want 5", calls)
	}
}

// TestEachAddPack checks that fn may add to the index it iterates.
func TestEachAddPack(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	g := &packMaker{rng: rng}
	x := New()
	x.compactAt = 1
	for range 10 {
		x.AddPack(g.pack(10))
	}
	n := x.Len()
	visited := 0
	x.Each(func(pack.ID, Location) bool {
		x.AddPack(g.pack(3))
		visited++
		return true
	})
	if visited != n {
		t.Fatalf("Each visited %d entries, want the %d present when it started", visited, n)
	}
}

func TestAddPackPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	tests := map[string]pack.Blob{
		"unknown-compression": {Compression: 3, ID: randID(rng), Length: 1},
		"unknown-type":        {Type: 2, ID: randID(rng), Length: 1},
		"delta-null-base":     {Compression: pack.Delta, ID: randID(rng), Length: 1},
		"null-id":             {Length: 1},
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("AddPack did not panic")
				}
			}()
			New().AddPack(randID(rng), []pack.Blob{b})
		})
	}
}

// TestIndexConcurrent adds packs while other goroutines look blobs up and
// iterate; run it with -race.
func TestIndexConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	g := &packMaker{rng: rng}
	type add struct {
		id    pack.ID
		blobs []pack.Blob
	}
	var adds []add
	for range 200 {
		id, blobs := g.pack(20)
		adds = append(adds, add{id, blobs})
	}

	x := New()
	x.compactAt = 50
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(adds); i += 4 {
				x.AddPack(adds[i].id, adds[i].blobs)
			}
		})
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				for _, b := range g.blobs[:100] {
					if loc, ok := x.Lookup(b.ID); ok && loc.Type != b.Type {
						t.Errorf("Lookup(%s) has type %v, want %v", b.ID.Short(), loc.Type, b.Type)
					}
					x.Has(b.ID)
				}
				x.Each(func(pack.ID, Location) bool { return true })
				x.Len()
				x.Packs()
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()

	m := model{}
	for _, a := range adds {
		m.addPack(a.id, a.blobs)
	}
	m.check(t, x, rng)
}
