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
