package repo_test

import (
	"testing"

	"strata/repo"
)

func FuzzDecodeTree(f *testing.F) {
	f.Add([]byte(`{"nodes":[]}`))
	f.Add([]byte(`{"nodes":[{"name":"a","kind":"file","size":3,"content":["0000000000000000000000000000000000000000000000000000000000000000"]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := repo.DecodeTree(data)
		if err != nil {
			return
		}
		enc, err := repo.EncodeTree(tree)
		if err != nil {
			t.Fatalf("decoded tree does not encode: %v", err)
		}
		if _, err := repo.DecodeTree(enc); err != nil {
			t.Fatalf("re-encoded tree does not decode: %v", err)
		}
	})
}

// FuzzDecodePage: a page decodes to what encodes to the same bytes, or is
// rejected; never a panic (docs/design.md, "Table pages").
func FuzzDecodePage(f *testing.F) {
	f.Add([]byte("SPG1\x00\x01" + string(make([]byte, 32)) + "\x00\x01a\x02\x03"))
	f.Add([]byte("SPG1\x01\x01" + string(make([]byte, 32)) + "\x00\x01a\x02\x03\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pg, err := repo.DecodePage(data)
		if err != nil {
			return
		}
		enc, err := repo.EncodePage(pg)
		if err != nil {
			t.Fatalf("decoded page does not encode: %v", err)
		}
		again, err := repo.DecodePage(enc)
		if err != nil {
			t.Fatalf("re-encoded page does not decode: %v", err)
		}
		if len(again.Entries) != len(pg.Entries) || again.Level != pg.Level {
			t.Fatal("re-encoded page differs")
		}
		for i := range pg.Entries {
			if again.Entries[i] != pg.Entries[i] {
				t.Fatalf("entry %d differs", i)
			}
		}
	})
}
