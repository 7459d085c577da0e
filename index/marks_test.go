package index

import (
	"testing"

	"strata/pack"
)

func TestMarks(t *testing.T) {
	x := New()
	ids := make([]pack.ID, 100)
	var blobs []pack.Blob
	for i := range ids {
		ids[i][0], ids[i][31] = byte(i), 1
		blobs = append(blobs, pack.Blob{Type: pack.DataBlob, ID: ids[i], Offset: uint32(i * 10), Length: 10, RawLength: 10})
	}
	x.AddPack(pack.ID{1}, blobs[:60])
	x.AddPack(pack.ID{2}, blobs[40:]) // 40..59 are in both packs
	m := x.NewMarks()
	for i := 0; i < 100; i += 3 {
		if added, known := m.Mark(ids[i]); !added || !known {
			t.Fatalf("Mark(%d) = %v, %v; want true, true", i, added, known)
		}
	}
	if added, known := m.Mark(ids[0]); added || !known {
		t.Fatalf("second Mark = %v, %v; want false, true", added, known)
	}
	if added, known := m.Mark(pack.ID{0xee}); added || known {
		t.Fatalf("Mark of an unknown blob = %v, %v; want false, false", added, known)
	}
	for i := range ids {
		if got, want := m.Has(ids[i]), i%3 == 0; got != want {
			t.Errorf("Has(%d) = %v, want %v", i, got, want)
		}
	}
	x.AddPack(pack.ID{3}, []pack.Blob{{Type: pack.DataBlob, ID: pack.ID{0xee}, Length: 10, RawLength: 10}})
	defer func() {
		if recover() == nil {
			t.Error("Has after AddPack did not panic")
		}
	}()
	m.Has(ids[0])
}
