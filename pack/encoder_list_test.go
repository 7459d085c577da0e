package pack

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

type clearSealer struct{}

func (clearSealer) Seal(dst, plain []byte) []byte           { return append(dst, plain...) }
func (clearSealer) Open(dst, sealed []byte) ([]byte, error) { return append(dst, sealed...), nil }
func (clearSealer) Overhead() int                           { return 0 }

// Delta encoders are kept for the Encoder's life, one per encode that
// ran at the same time: one encoder serves every delta of a single
// goroutine, across garbage collections (which emptied the sync.Pool that
// held them before, so that each was made again at about 4.5 MiB).
func TestDeltaEncodersKept(t *testing.T) {
	e, err := NewEncoder(clearSealer{}, zstd.SpeedDefault)
	if err != nil {
		t.Fatal(err)
	}
	base := bytes.Repeat([]byte("1234\tcustomer name\tname@example.com\n"), 2000)
	delta := func(i int) {
		plain := append(bytes.Clone(base), fmt.Sprintf("%d\tnew row\n", i)...)
		if _, c, err := e.Encode(nil, plain, base); err != nil || c != Delta {
			t.Errorf("delta %d: %v, %v", i, c, err)
		}
	}
	delta(0)
	if len(e.smallDelta.idle) != 1 {
		t.Fatalf("%d idle delta encoders after one delta, want 1", len(e.smallDelta.idle))
	}
	first := e.smallDelta.idle[0]
	for i := 1; i < 20; i++ {
		runtime.GC()
		delta(i)
		if len(e.smallDelta.idle) != 1 || e.smallDelta.idle[0] != first {
			t.Fatalf("delta %d: %d idle delta encoders, or a new one; want the first encoder alone", i, len(e.smallDelta.idle))
		}
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				delta(i)
			}
		}()
	}
	wg.Wait()
	if n := len(e.smallDelta.idle); n < 1 || n > 4 {
		t.Fatalf("%d idle delta encoders after four goroutines, want 1 to 4", n)
	}
}

// However many goroutines save delta blobs at once (a backup's pipeline
// runs four per worker), no more delta encoders are made than there are
// CPUs to run them: each encoder is about 4.5 MiB, kept for the Encoder's
// life. Before, every encode that overlapped another made one.
func TestDeltaEncodersBoundedByCPUs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	e, err := NewEncoder(clearSealer{}, zstd.SpeedDefault)
	if err != nil {
		t.Fatal(err)
	}
	base := bytes.Repeat([]byte("1234\tcustomer name\tname@example.com\t2024-01-02\n"), 8000)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				plain := append(bytes.Clone(base), fmt.Sprintf("%d\tnew row %d\n", i, g)...)
				if _, c, err := e.Encode(nil, plain, base); err != nil || c != Delta {
					t.Errorf("delta %d: %v, %v", i, c, err)
				}
			}
		}()
	}
	wg.Wait()
	if n := len(e.smallDelta.idle); n > 2 {
		t.Fatalf("%d delta encoders made for 8 goroutines on 2 CPUs, want at most 2", n)
	}
}

// A delta of more than 1 MiB with its base (a table's change log) is
// encoded with a window as large as base and blob, not the level's 8 MiB,
// whose history alone was 16 MiB, and its encoder is not kept.
func TestLargeDeltaMemory(t *testing.T) {
	e, err := NewEncoder(clearSealer{}, zstd.SpeedDefault)
	if err != nil {
		t.Fatal(err)
	}
	var rows bytes.Buffer
	for i := 0; rows.Len() < 1536<<10; i++ {
		fmt.Fprintf(&rows, "%d\tcustomer %d\tname%d@example.com\t2024-01-02\n", i, i*7919%100003, i)
	}
	base := rows.Bytes()
	plain := append(bytes.Clone(base), "9999999\tnew row\n"...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, c, err := e.Encode(nil, plain, base); err != nil || c != Delta {
		t.Fatalf("delta: %v, %v", c, err)
	}
	runtime.ReadMemStats(&after)
	// Base and blob are 3 MiB: a 4 MiB window and one block of history,
	// the level's hash tables and their copies for the dictionary.
	if got := after.TotalAlloc - before.TotalAlloc; got > 10<<20 {
		t.Errorf("one %d-byte delta allocated %d KiB, want at most 10 MiB", len(plain)+len(base), got>>10)
	}
}

// A blob of more than 1 MiB compressed alone (a change log also tried
// without its delta, a large file chunk) is compressed with a window that
// holds it and one block of history, not twice the level's 8 MiB window:
// 16 MiB per encoder before.
func TestLargeBlobMemory(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	e, err := NewEncoder(clearSealer{}, zstd.SpeedDefault)
	if err != nil {
		t.Fatal(err)
	}
	var rows bytes.Buffer
	for i := 0; rows.Len() < 1536<<10; i++ {
		fmt.Fprintf(&rows, "%d\tcustomer %d\tname%d@example.com\t2024-01-02\n", i, i*7919%100003, i)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, c, err := e.Encode(nil, rows.Bytes(), nil); err != nil || c != Zstd {
		t.Fatalf("encode: %v, %v", c, err)
	}
	runtime.ReadMemStats(&after)
	// The encoders of two CPUs (hash tables, made at first use), a 2 MiB
	// window and a block of history for the one in use.
	if got := after.TotalAlloc - before.TotalAlloc; got > 9<<20 {
		t.Errorf("one %d-byte blob allocated %d KiB, want at most 9 MiB", rows.Len(), got>>10)
	}
}
