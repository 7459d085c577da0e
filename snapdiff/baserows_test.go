package snapdiff

import (
	"context"
	"errors"
	"strings"
	"testing"

	"strata/pack"
	"strata/repo"
)

// TestBaseRows: a base chunk loaded for a span of two logs gives the rows
// asked for, and its damage is named: a chunk that does not end at a row's
// end, a row count other than its chunk list entry's, and an op of either
// log whose old length is not that of the chunk's row.
func TestBaseRows(t *testing.T) {
	chunk := []byte("1\ta\n2\tbb\n3\tccc\n")
	replace := func(row, oldLen uint64) repo.LogOp {
		return repo.LogOp{Kind: repo.LogReplace, Row: row, OldLen: oldLen, Line: []byte("x")}
	}
	insertAtEnd := repo.LogOp{Kind: repo.LogInsert, Row: 3, Line: []byte("4\td")}
	tests := []struct {
		name   string
		data   []byte
		rows   uint64
		pa, pb repo.Patch
		need   []uint64 // rows asked for, in order
		want   []string // their text, or
		err    string   // the error
	}{
		{"rows asked for", chunk, 3, repo.Patch{replace(1, 4), insertAtEnd}, repo.Patch{replace(0, 3)}, []uint64{0, 1, 1, 2},
			[]string{"1\ta", "2\tbb", "2\tbb", "3\tccc"}, ""},
		{"first row only", chunk, 3, nil, repo.Patch{replace(0, 3)}, []uint64{0}, []string{"1\ta"}, ""},
		{"not ending at a row's end", chunk[:len(chunk)-1], 3, nil, repo.Patch{replace(0, 3)}, []uint64{0}, nil, "does not end at the end of a row"},
		{"fewer rows than its entry says", chunk, 4, nil, repo.Patch{replace(0, 3)}, []uint64{0}, nil, "3 rows, its entry in the chunk list says 4"},
		{"A's old length wrong", chunk, 3, repo.Patch{replace(2, 4)}, nil, []uint64{2}, nil, "row 2 has 4 bytes, the chunk's has 5"},
		{"B's old length wrong", chunk, 3, repo.Patch{replace(0, 3)}, repo.Patch{replace(1, 9)}, []uint64{0}, nil, "row 1 has 9 bytes, the chunk's has 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := pack.ID{1}
			d := &tableDiffer{TableDiff: &TableDiff{Name: "t"}, l: memLoader{id: tc.data}, name: "t", snapA: "a", snapB: "b"}
			base := &repo.ChunkRef{ID: id, Index: 7}
			base.Info.Rows = tc.rows
			lines := make([]line, len(tc.need))
			needs := make([]baseNeed, len(tc.need))
			for i, row := range tc.need {
				needs[i] = baseNeed{lines: &lines, i: i, row: row}
			}
			err := d.baseRows(context.Background(), base, tc.pa, tc.pb, needs)
			if tc.err != "" {
				if err == nil || !errors.Is(err, repo.ErrDamaged) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want ErrDamaged saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.want {
				if got := string(lines[i].text); got != want {
					t.Errorf("row %d: %q, want %q", tc.need[i], got, want)
				}
			}
		})
	}
}
