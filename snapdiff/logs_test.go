package snapdiff

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"strata/dbexport"
	"strata/repo"
)

// logOf writes the change log that turns the base chunks into rows (key
// -> the rest of the line), as a backup would: per base chunk, base rows
// whose key rows lacks are deleted, those whose line changed replaced
// (or, with split set, deleted and inserted again), and keys the base
// lacks inserted before the first greater base row of the chunk that
// holds their key range (at the end of the chunk before it otherwise;
// before chunk 0's first row when they sort before every base row).
func logOf(t *testing.T, l memLoader, base []repo.ChunkRef, rows map[int]string, split func(key int) bool) *repo.TableLog {
	t.Helper()
	baseKeys := map[int]bool{}
	type baseRow struct {
		key  int
		line string
	}
	chunks := make([][]baseRow, len(base))
	var totalRows uint64
	for i, c := range base {
		for _, ln := range strings.Split(strings.TrimSuffix(string(l[c.ID]), "\n"), "\n") {
			k, _, _ := strings.Cut(ln, "\t")
			key, err := strconv.Atoi(k)
			if err != nil {
				t.Fatal(err)
			}
			chunks[i] = append(chunks[i], baseRow{key, ln})
			baseKeys[key] = true
		}
		totalRows += uint64(len(chunks[i]))
	}
	var inserted []int
	for k := range rows {
		if !baseKeys[k] {
			inserted = append(inserted, k)
		}
	}
	slices.Sort(inserted)
	lg := &repo.TableLog{BaseChunks: uint64(len(base)), BaseRows: totalRows, Depth: 1}
	for i, cr := range chunks {
		var ops []repo.LogOp
		// Inserts that belong in this chunk: keys below the next chunk's
		// first row (and, but for chunk 0, at or above this one's).
		mine := func(k int) bool {
			if i > 0 && k < cr[0].key {
				return false
			}
			return i == len(chunks)-1 || k < chunks[i+1][0].key
		}
		row := 0
		insertUpTo := func(limit int, bound bool) {
			for len(inserted) > 0 && mine(inserted[0]) && (!bound || inserted[0] < limit) {
				k := inserted[0]
				inserted = inserted[1:]
				ops = append(ops, repo.LogOp{Kind: repo.LogInsert, Chunk: uint64(i), Row: uint64(row), Line: []byte(fmt.Sprintf("%d\t%s", k, rows[k]))})
			}
		}
		for _, br := range cr {
			insertUpTo(br.key, true)
			v, ok := rows[br.key]
			line := fmt.Sprintf("%d\t%s", br.key, v)
			switch {
			case !ok:
				ops = append(ops, repo.LogOp{Kind: repo.LogDelete, Chunk: uint64(i), Row: uint64(row), OldLen: uint64(len(br.line))})
			case line == br.line:
			case split != nil && (i == 0 || row > 0) && split(br.key):
				ops = append(ops, repo.LogOp{Kind: repo.LogInsert, Chunk: uint64(i), Row: uint64(row), Line: []byte(line)},
					repo.LogOp{Kind: repo.LogDelete, Chunk: uint64(i), Row: uint64(row), OldLen: uint64(len(br.line))})
			default:
				ops = append(ops, repo.LogOp{Kind: repo.LogReplace, Chunk: uint64(i), Row: uint64(row), OldLen: uint64(len(br.line)), Line: []byte(line)})
			}
			row++
		}
		insertUpTo(0, false)
		if len(ops) > 0 {
			lg.Runs = append(lg.Runs, repo.LogRun{FirstChunk: uint64(i), BaseCount: 1, ExportCount: 1, Export: [16]byte{byte(i), 1}, Ops: ops})
		}
	}
	if len(inserted) > 0 {
		t.Fatalf("inserts %v found no chunk", inserted)
	}
	b, err := repo.EncodeLog(lg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := repo.DecodeLog(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// effective returns the base chunks with a log's patches attached, as a
// walk of a node with that log streams them.
func effective(t *testing.T, base []repo.ChunkRef, lg *repo.TableLog) []repo.ChunkRef {
	t.Helper()
	out := slices.Clone(base)
	if lg == nil {
		return out
	}
	cur := repo.NewLogCursor(lg)
	for i := range out {
		var err error
		if out[i].Patch, out[i].Info, err = cur.Patch("/t", out[i].Index, out[i].Info); err != nil {
			t.Fatal(err)
		}
	}
	if err := cur.Finish("/t", uint64(len(out))); err != nil {
		t.Fatal(err)
	}
	return out
}

// changeText writes a change with its fields, for comparing two diffs.
func changeText(c Change) string {
	return fmt.Sprintf("%s %q old %q new %q changed %v", c.Op, c.Key, c.Old, c.New, c.Changed)
}

// TestLogDiffMatchesChunkDiff diffs two versions of a table that share a
// base, each a change log against it, by log (logAligner) and by the
// effective chunks (aligner, as for any two chunk lists), and wants the
// same changes in the same order, and fewer chunks read.
func TestLogDiffMatchesChunkDiff(t *testing.T) {
	type version map[int]string
	baseRows := version{}
	for k := 10; k < 3000; k += 3 {
		baseRows[k] = fmt.Sprintf("v%d\tx%d", k, k%7)
	}
	clone := func(v version) version {
		out := version{}
		for k, s := range v {
			out[k] = s
		}
		return out
	}
	cases := []struct {
		name string
		// a and b edit the base into A and B; nil: that side is the base.
		a, b func(v version)
	}{
		{"inserts", nil, func(v version) {
			for _, k := range []int{0, 1, 11, 500, 1601, 2998, 3005} {
				v[k] = "new\tn"
			}
		}},
		{"updates", func(v version) { v[13] = "a\tx" }, func(v version) {
			v[13] = "a\tx"
			for k := 16; k < 3000; k += 297 {
				v[k] = "upd\t" + v[k][strings.IndexByte(v[k], '\t')+1:]
			}
		}},
		{"deletes", nil, func(v version) {
			for k := 10; k < 3000; k += 93 {
				delete(v, k)
			}
			for k := 1000; k < 1300; k += 3 {
				delete(v, k)
			}
		}},
		{"updated twice", func(v version) {
			for k := 19; k < 3000; k += 201 {
				v[k] = "first\tf"
			}
		}, func(v version) {
			for k := 19; k < 3000; k += 201 {
				v[k] = "second\tf"
			}
			v[22] = "first\tf"
		}},
		{"deleted and inserted again", func(v version) {
			for k := 25; k < 3000; k += 150 {
				delete(v, k)
			}
			v[7] = "ins\ti"
			v[2999] = "ins\ti"
		}, func(v version) {
			for k := 25; k < 3000; k += 300 {
				v[k] = "back\tb" // deleted in A, back with other values
			}
			for k := 175; k < 3000; k += 300 {
				delete(v, k) // still deleted
			}
			v[7] = "ins again\ti"
		}},
		{"inserted in A, gone or changed in B", func(v version) {
			for k := 11; k < 3000; k += 111 {
				v[k] = "ins\ti"
			}
		}, func(v version) {
			for k := 11; k < 3000; k += 222 {
				v[k] = "ins\tchanged"
			}
		}},
		{"B is the base", func(v version) {
			v[31] = "a\ta"
			delete(v, 34)
			v[35] = "new\tn"
		}, nil},
		{"same log", func(v version) { v[40] = "same\ts" }, func(v version) { v[40] = "same\ts" }},
	}
	for _, tc := range cases {
		for _, split := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/split=%v", tc.name, split), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(1, 2))
				splitKey := func(int) bool { return rng.IntN(2) == 0 }
				if !split {
					splitKey = nil
				}
				l := memLoader{}
				base := chunked(rowsOfVersion(baseRows), l)
				var la, lb *repo.TableLog
				if tc.a != nil {
					v := clone(baseRows)
					tc.a(v)
					la = logOf(t, l, base, v, splitKey)
				}
				if tc.b != nil {
					v := clone(baseRows)
					tc.b(v)
					lb = logOf(t, l, base, v, splitKey)
				}
				tab := &dbexport.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []dbexport.Column{
					{Name: "id", Kind: dbexport.KindInt}, {Name: "v", Kind: dbexport.KindText}, {Name: "w", Kind: dbexport.KindText}}}
				run := func(al spanSource) ([]string, uint64) {
					layout := newLayout(tab, tab)
					td := &TableDiff{Name: "t", A: tab, B: tab, Columns: layout.columns, Key: layout.key, Keyed: layout.keyed}
					d := &tableDiffer{TableDiff: td, l: l, name: "t", snapA: "a", snapB: "b", layout: layout}
					var got []string
					err := d.spans(context.Background(), al, spanSkipper{}, 3, func(changes []Change) error {
						for _, c := range changes {
							got = append(got, changeText(c))
						}
						return nil
					})
					if err == nil {
						err = al.err()
					}
					if err != nil {
						t.Fatal(err)
					}
					return got, d.chunksRead.Load()
				}
				chunkAl := newAligner(sliceStream(effective(t, base, la)), sliceStream(effective(t, base, lb)), dbexport.CompareKeys)
				want, chunksWant := run(chunkAl)
				lal := &logAligner{base: sliceStream(base), snapA: "a", snapB: "b", path: "/t"}
				if la != nil {
					lal.la = repo.NewLogCursor(la)
				}
				if lb != nil {
					lal.lb = repo.NewLogCursor(lb)
				}
				lal.cur = lal.base.next()
				got, chunksGot := run(lal)
				if !slices.Equal(got, want) {
					t.Errorf("by log %d changes, by chunks %d:\n%s\nwant\n%s", len(got), len(want), strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				if tc.name != "same log" && len(want) == 0 {
					t.Error("the case changes nothing")
				}
				if chunksWant > 0 && chunksGot >= chunksWant {
					t.Errorf("by log %d chunks read, by chunks %d", chunksGot, chunksWant)
				}
				if gs, gb := lal.sharedChunks(); gs != chunkAl.shared || gb != chunkAl.sharedBytes {
					t.Errorf("by log %d chunks (%d bytes) shared, by chunks %d (%d)", gs, gb, chunkAl.shared, chunkAl.sharedBytes)
				}
			})
		}
	}
}

// rowsOfVersion lays a version out as COPY lines in key order.
func rowsOfVersion(v map[int]string) []string {
	keys := make([]int, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("%d\t%s", k, v[k])
	}
	return out
}

// TestLogDiffDamagedLog: a log op whose old length does not fit the base
// row is damage, not a diff.
func TestLogDiffDamagedLog(t *testing.T) {
	l := memLoader{}
	var rows []string
	for k := 0; k < 200; k++ {
		rows = append(rows, fmt.Sprintf("%d\tv%d\tw", k, k))
	}
	base := chunked(rows, l)
	lg := &repo.TableLog{BaseChunks: uint64(len(base)), Depth: 1}
	for _, c := range base {
		lg.BaseRows += c.Info.Rows
	}
	lg.Runs = []repo.LogRun{{FirstChunk: 0, BaseCount: 1, ExportCount: 1, Ops: []repo.LogOp{{Kind: repo.LogReplace, Row: 0, OldLen: 3, Line: []byte("0\tx\tw")}}}}
	tab := &dbexport.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []dbexport.Column{
		{Name: "id", Kind: dbexport.KindInt}, {Name: "v", Kind: dbexport.KindText}, {Name: "w", Kind: dbexport.KindText}}}
	layout := newLayout(tab, tab)
	td := &TableDiff{Name: "t", A: tab, B: tab, Columns: layout.columns, Key: layout.key, Keyed: layout.keyed}
	d := &tableDiffer{TableDiff: td, l: l, name: "t", snapA: "a", snapB: "b", layout: layout}
	lal := &logAligner{base: sliceStream(base), snapA: "a", snapB: "b", path: "/t", lb: repo.NewLogCursor(lg)}
	lal.cur = lal.base.next()
	err := d.spans(context.Background(), lal, spanSkipper{}, 2, func([]Change) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "change log says row 0 has 3 bytes") {
		t.Fatalf("err %v, want the damaged op named", err)
	}
}
