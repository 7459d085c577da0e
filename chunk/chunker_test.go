package chunk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/restic/chunker"
)

// smallParams cut test inputs of a few megabytes into many chunks.
func smallParams(lineAligned bool) Params {
	return Params{Pol: testPol, MinSize: 2 << 10, AvgBits: 13, MaxSize: 64 << 10, LineAligned: lineAligned}
}

// chunkAll cuts rd and returns copies of all chunks.
func chunkAll(t testing.TB, rd io.Reader, p Params) [][]byte {
	t.Helper()
	var chunks [][]byte
	c := New(rd, p)
	for {
		b, err := c.Next()
		if err == io.EOF {
			return chunks
		}
		if err != nil {
			t.Fatalf("Next after %d chunks: %v", len(chunks), err)
		}
		chunks = append(chunks, bytes.Clone(b))
	}
}

// referenceChunks restates the cut rule of the Chunker comment on a whole
// in-memory input, without the Chunker's buffering.
func referenceChunks(data []byte, p Params) [][]byte {
	var chunks [][]byte
	minSize, maxSize := int(p.MinSize), int(p.MaxSize)
	for len(data) > 0 {
		base := chunker.NewBase(chunker.Pol(p.Pol), chunker.WithBaseAverageBits(int(p.AvgBits)), chunker.WithBaseBoundaries(p.MinSize, p.MaxSize))
		n := base.NextSplitPoint(data)
		if n < 0 {
			return append(chunks, data)
		}
		if p.LineAligned && data[n-1] != '\n' {
			if i := bytes.IndexByte(data[n:min(len(data), maxSize)], '\n'); i >= 0 {
				n += i + 1
			} else if len(data) < maxSize {
				n = len(data)
			} else if i := bytes.LastIndexByte(data[minSize-1:n], '\n'); i >= 0 {
				n = minSize + i
			}
		}
		chunks = append(chunks, data[:n])
		data = data[n:]
	}
	return chunks
}

// checkChunks checks the invariants every cut of data must hold.
func checkChunks(t testing.TB, data []byte, chunks [][]byte, p Params) {
	t.Helper()
	if got := bytes.Join(chunks, nil); !bytes.Equal(got, data) {
		t.Fatalf("concatenated chunks (%d bytes) differ from the input (%d bytes)", len(got), len(data))
	}
	for i, c := range chunks {
		last := i == len(chunks)-1
		if len(c) == 0 || len(c) > int(p.MaxSize) || !last && len(c) < int(p.MinSize) {
			t.Fatalf("chunk %d of %d has %d bytes, want %d..%d", i, len(chunks), len(c), p.MinSize, p.MaxSize)
		}
	}
	want := referenceChunks(data, p)
	if len(want) != len(chunks) {
		t.Fatalf("got %d chunks, reference cut gives %d", len(chunks), len(want))
	}
	for i := range want {
		if !bytes.Equal(want[i], chunks[i]) {
			t.Fatalf("chunk %d: got %d bytes, reference cut gives %d", i, len(chunks[i]), len(want[i]))
		}
	}
}

func TestChunker(t *testing.T) {
	csv := genCSV(1, 3<<20)
	longLine := bytes.Repeat([]byte("x"), 300<<10)
	cases := []struct {
		name string
		data []byte
		// linesEnd: with LineAligned, every chunk but the last ends with '\n'.
		linesEnd bool
	}{
		{"empty", nil, true},
		{"one byte", []byte("a"), true},
		{"shorter than min", csv[:1000], true},
		{"exactly max", csv[:64<<10], true},
		{"csv", csv, true},
		{"random", genRandom(2, 3<<20), false},
		{"no newline", longLine, false},
		{"only newlines", bytes.Repeat([]byte("\n"), 200<<10), true},
		{"long line inside csv", slices.Concat(csv[:500<<10], longLine, csv[500<<10:]), false},
		{"line just over max-min", slices.Concat(csv[:1<<20], bytes.Repeat([]byte("y"), 63<<10), csv[1<<20:]), false},
	}
	for _, tc := range cases {
		for _, aligned := range []bool{false, true} {
			p := smallParams(aligned)
			t.Run(tc.name+"/aligned="+map[bool]string{false: "no", true: "yes"}[aligned], func(t *testing.T) {
				chunks := chunkAll(t, bytes.NewReader(tc.data), p)
				checkChunks(t, tc.data, chunks, p)
				if aligned && tc.linesEnd {
					for i, c := range chunks[:max(len(chunks)-1, 0)] {
						if c[len(c)-1] != '\n' {
							t.Fatalf("chunk %d of %d does not end with a newline", i, len(chunks))
						}
					}
				}
			})
		}
	}
}

// TestChunkerReads checks that the cuts do not depend on how the reader
// splits the stream.
func TestChunkerReads(t *testing.T) {
	data := genCSV(3, 2<<20)
	readers := []struct {
		name string
		rd   func() io.Reader
	}{
		{"one byte", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) }},
		{"half", func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) }},
		{"data with EOF", func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) }},
	}
	for _, aligned := range []bool{false, true} {
		p := smallParams(aligned)
		want := chunkAll(t, bytes.NewReader(data), p)
		for _, r := range readers {
			t.Run(r.name, func(t *testing.T) {
				got := chunkAll(t, r.rd(), p)
				if !slices.EqualFunc(got, want, bytes.Equal) {
					t.Fatalf("got %d chunks, want %d; chunks differ", len(got), len(want))
				}
			})
		}
	}
}

// TestChunkerLargeMax checks a buffer that must grow: chunks near a 16 MiB
// maximum.
func TestChunkerLargeMax(t *testing.T) {
	data := genRandom(4, 40<<20)
	p := Params{Pol: testPol, MinSize: 4 << 20, AvgBits: 23, MaxSize: 16 << 20}
	checkChunks(t, data, chunkAll(t, bytes.NewReader(data), p), p)
}

// TestChunkerResync inserts a line in the middle of a 20 MB export: only
// the chunks around the edit may change.
func TestChunkerResync(t *testing.T) {
	data := genCSV(5, 20<<20)
	mid := len(data) / 2
	mid += bytes.IndexByte(data[mid:], '\n') + 1
	edited := slices.Concat(data[:mid], []byte("999999999,Inserted,Row,inserted@example.com,+1,1 Main Street,Oslo,00000,active,0.00,2025-01-01T00:00:00Z\n"), data[mid:])

	for _, p := range []Params{smallParams(false), smallParams(true), TableParams(testPol)} {
		t.Run(map[bool]string{false: "plain", true: "aligned"}[p.LineAligned]+fmt.Sprintf("/avg=%dKiB", 1<<p.AvgBits>>10), func(t *testing.T) {
			before := chunkAll(t, bytes.NewReader(data), p)
			after := chunkAll(t, bytes.NewReader(edited), p)
			seen := make(map[string]bool, len(before))
			for _, c := range before {
				seen[string(c)] = true
			}
			changed := 0
			for _, c := range after {
				if !seen[string(c)] {
					changed++
				}
			}
			t.Logf("%d of %d chunks new after the insertion", changed, len(after))
			if changed < 1 || changed > 2 {
				t.Fatalf("%d chunks changed after inserting one line, want 1 or 2", changed)
			}
		})
	}
}

// errReader returns n bytes of data, then err.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(b []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(b, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestChunkerReadError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	c := New(&errReader{data: genCSV(6, 300<<10), err: errDisk}, smallParams(true))
	var err error
	for range 1000 {
		if _, err = c.Next(); err != nil {
			break
		}
	}
	if !errors.Is(err, errDisk) {
		t.Fatalf("Next: got %v, want the reader's error", err)
	}
	if _, again := c.Next(); !errors.Is(again, errDisk) {
		t.Fatalf("Next after an error: got %v, want the same error again", again)
	}

	// Reset clears a read error: the Chunker is usable for the next stream.
	data := genCSV(7, 200<<10)
	c.Reset(bytes.NewReader(data))
	var chunks [][]byte
	for {
		b, err := c.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next after Reset: %v", err)
		}
		chunks = append(chunks, bytes.Clone(b))
	}
	checkChunks(t, data, chunks, smallParams(true))
}

func TestChunkerInvalidParams(t *testing.T) {
	p := smallParams(false)
	p.MinSize = 10
	c := New(bytes.NewReader([]byte("data")), p)
	if _, err := c.Next(); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("Next with a 10-byte minimum: got %v, want ErrInvalidParams", err)
	}
	c.Reset(bytes.NewReader([]byte("data")))
	if _, err := c.Next(); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("Next after Reset: got %v, want ErrInvalidParams", err)
	}
}
