package repo

import (
	"strings"
	"testing"

	"strata/pack"
)

// TestPageEntrySize: the writer's size of an entry is its encoding's.
func TestPageEntrySize(t *testing.T) {
	for _, prev := range []string{"", "12", "123456", strings.Repeat("k", 300)} {
		for _, e := range []PageEntry{
			{ID: pack.ID{1}},
			{ID: pack.ID{2}, FirstKey: "123457", Rows: 1 << 40, Bytes: 127, Chunks: 128},
			{FirstKey: strings.Repeat("k", 200) + "x", Rows: 300, Bytes: 65536, Chunks: 1 << 63},
		} {
			for level := range 2 {
				if got, want := pageEntrySize(level, prev, &e), len(appendPageEntry(nil, level, prev, &e)); got != want {
					t.Errorf("level %d, prev %q, %+v: size %d, encoding %d", level, prev, e, got, want)
				}
			}
		}
	}
}
