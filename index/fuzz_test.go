package index

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the fuzz seeds in testdata/fuzz/FuzzDecode from testFiles")

// FuzzDecode checks that Decode never panics and that whatever it accepts
// is in canonical form: it encodes back to the same bytes, and every blob
// it lists can be added to an Index and looked up. Seeds are in
// testdata/fuzz/FuzzDecode (go test -run TestFuzzSeeds -update rewrites
// them).
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(data)
		if err != nil {
			return
		}
		if again := Encode(file); !bytes.Equal(again, data) {
			t.Fatalf("Encode(Decode(data)) = %x, want %x", again, data)
		}
		x := New()
		for _, p := range file.Packs {
			x.AddPack(p.PackID, p.Blobs)
		}
		x.Compact()
		for _, p := range file.Packs {
			for _, b := range p.Blobs {
				if !x.Has(b.ID) {
					t.Fatalf("blob %s of pack %s not found after AddPack", b.ID, p.PackID)
				}
			}
		}
	})
}

// TestFuzzSeeds checks that the checked-in seeds are the encodings of
// testFiles, so that a change of the format shows up as a stale seed.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, f := range testFiles() {
		path := filepath.Join(dir, name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%+q)\n", Encode(f))
		if *update {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./index -run TestFuzzSeeds -update)", err)
		}
		if string(got) != want {
			t.Errorf("%s is stale (run go test ./index -run TestFuzzSeeds -update)", path)
		}
	}
}
