package repo

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// lines joins rows into chunk bytes, each ending in a newline.
func lines(rows ...string) []byte {
	if len(rows) == 0 {
		return nil
	}
	return []byte(strings.Join(rows, "\n") + "\n")
}

func ins(chunk, row uint64, line string) LogOp {
	return LogOp{Kind: LogInsert, Chunk: chunk, Row: row, Line: []byte(line)}
}

func del(chunk, row uint64, old string) LogOp {
	return LogOp{Kind: LogDelete, Chunk: chunk, Row: row, OldLen: uint64(len(old))}
}

func rep(chunk, row uint64, old, line string) LogOp {
	return LogOp{Kind: LogReplace, Chunk: chunk, Row: row, OldLen: uint64(len(old)), Line: []byte(line)}
}

func TestPatchApply(t *testing.T) {
	base := lines("1\ta", "2\tb", "3\tc")
	for _, tc := range []struct {
		name  string
		index uint64
		base  []byte
		patch Patch
		want  []byte
	}{
		{"none", 0, base, nil, base},
		{"insert at start", 0, base, Patch{ins(0, 0, "0\tz")}, lines("0\tz", "1\ta", "2\tb", "3\tc")},
		{"insert in the middle", 3, base, Patch{ins(3, 1, "1.5\ty"), ins(3, 1, "1.7\tx")}, lines("1\ta", "1.5\ty", "1.7\tx", "2\tb", "3\tc")},
		{"insert at the end", 3, base, Patch{ins(3, 3, "4\td")}, lines("1\ta", "2\tb", "3\tc", "4\td")},
		{"replace", 1, base, Patch{rep(1, 1, "2\tb", "2\tB")}, lines("1\ta", "2\tB", "3\tc")},
		{"delete everything", 1, base, Patch{del(1, 0, "1\ta"), del(1, 1, "2\tb"), del(1, 2, "3\tc")}, nil},
		{"delete and insert in its place", 1, base, Patch{del(1, 0, "1\ta"), ins(1, 1, "1\tA"), del(1, 1, "2\tb")}, lines("1\tA", "3\tc")},
		{"duplicates without a key", 1, lines("x", "x", "x"), Patch{del(1, 1, "x"), ins(1, 3, "x"), ins(1, 3, "x")}, lines("x", "x", "x", "x")},
		{"empty base", 0, nil, Patch{ins(0, 0, "1\ta"), ins(0, 0, "2\tb")}, lines("1\ta", "2\tb")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.patch.Apply(tc.base)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			rows := uint64(bytes.Count(tc.base, []byte{'\n'}))
			r, b, err := tc.patch.Effective(tc.index, rows, uint64(len(tc.base)))
			if err != nil {
				t.Fatal(err)
			}
			if r != uint64(bytes.Count(tc.want, []byte{'\n'})) || b != uint64(len(tc.want)) {
				t.Fatalf("Effective = %d rows, %d bytes; applied: %d bytes", r, b, len(tc.want))
			}
		})
	}
}

func TestPatchRejects(t *testing.T) {
	base := lines("1\ta", "2\tb")
	for _, tc := range []struct {
		name  string
		index uint64
		patch Patch
	}{
		{"row past the end", 0, Patch{del(0, 2, "3\tc")}},
		{"insert past the end", 0, Patch{ins(0, 3, "x")}},
		{"wrong old length", 0, Patch{del(0, 0, "1\taaaa")}},
		{"insert before a later chunk's first row", 2, Patch{ins(2, 0, "x")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err1 := tc.patch.Effective(tc.index, 2, uint64(len(base)))
			_, err2 := tc.patch.Apply(base)
			if !errors.Is(err1, ErrDamaged) && !errors.Is(err2, ErrDamaged) {
				t.Fatalf("accepted: %v, %v", err1, err2)
			}
		})
	}
}

func testLog() *TableLog {
	return &TableLog{BaseChunks: 10, BaseRows: 1000, Depth: 3, Runs: []LogRun{
		{FirstChunk: 0, BaseCount: 1, ExportCount: 1, Export: [16]byte{1}, Ops: []LogOp{ins(0, 0, "0\tz"), rep(0, 5, "5\te", "5\tE")}},
		{FirstChunk: 4, BaseCount: 2, ExportCount: 3, Export: [16]byte{2}, Ops: []LogOp{ins(3, 100, "399\tq"), del(4, 0, "400\ta"), ins(5, 7, "x")}},
		{FirstChunk: 10, BaseCount: 0, ExportCount: 1, Export: [16]byte{3}, Ops: []LogOp{ins(9, 100, "1000\tend")}},
	}}
}

func TestLogRoundTrip(t *testing.T) {
	l := testLog()
	b, err := EncodeLog(l)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeLog(b)
	if err != nil {
		t.Fatal(err)
	}
	again, err := EncodeLog(got)
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("round trip differs: %v", err)
	}
	if len(got.Ops()) != 6 || got.Runs[1].FirstChunk != 4 || got.Runs[2].Ops[0].Chunk != 9 {
		t.Fatalf("decoded %+v", got)
	}
	// Out of order, overlapping runs and ops outside their run are
	// refused by the encoder (which decodes what it wrote).
	bad := testLog()
	bad.Runs[1].Ops[0], bad.Runs[1].Ops[1] = bad.Runs[1].Ops[1], bad.Runs[1].Ops[0]
	if _, err := EncodeLog(bad); err == nil {
		t.Error("ops out of order encoded")
	}
	bad = testLog()
	bad.Runs[1].Ops[2].Chunk = 6
	if _, err := EncodeLog(bad); err == nil {
		t.Error("op outside its run encoded")
	}
	bad = testLog()
	bad.Runs[1].Ops = append([]LogOp{del(3, 1, "x")}, bad.Runs[1].Ops...)
	if _, err := EncodeLog(bad); err == nil {
		t.Error("a delete before its run encoded")
	}
}

func FuzzDecodeLog(f *testing.F) {
	b, err := EncodeLog(testLog())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(LogMagic + "\x01\x01\x01\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := DecodeLog(data)
		if err != nil {
			return
		}
		again, err := EncodeLog(l)
		if err != nil {
			t.Fatalf("decoded log does not encode: %v", err)
		}
		l2, err := DecodeLog(again)
		if err != nil {
			t.Fatalf("re-encoded log does not decode: %v", err)
		}
		if third, _ := EncodeLog(l2); !bytes.Equal(third, again) {
			t.Fatalf("encoding is not stable")
		}
		for _, op := range l.Ops() {
			// Patches of any decoded log fail cleanly on any chunk.
			_, _ = Patch{op}.Apply([]byte("a\nb\n"))
			_, _, _ = Patch{op}.Effective(op.Chunk, 2, 4)
		}
	})
}
