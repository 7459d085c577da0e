package snapdiff

import "testing"

// TestChunkBufsKeepTheirRoom: a buffer put back keeps the larger of its
// own room and that of what was loaded into it. A blob's plaintext comes
// back capped just past its length, so a buffer that took the loaded slice
// as it is shrank to each chunk in turn, and the next larger chunk
// allocated (and cleared) a new array: a fifth of a consecutive-hour
// diff's CPU.
func TestChunkBufsKeepTheirRoom(t *testing.T) {
	tests := []struct {
		name     string
		room     int  // the buffer's capacity before the load
		loaded   int  // the chunk's length
		grown    bool // the chunk did not fit: loaded into a new array
		wantRoom int
	}{
		{"smaller chunk, capped at its length", 128 << 10, 48 << 10, false, 128 << 10},
		{"larger chunk, a new array", 128 << 10, 160 << 10, true, 160 << 10},
		{"empty chunk", 128 << 10, 0, false, 128 << 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bufs := newChunkBufs(1)
			buf := bufs.get(uint64(tc.room))
			if cap(*buf) < tc.room {
				t.Fatalf("get(%d): room %d", tc.room, cap(*buf))
			}
			*buf = (*buf)[:0:tc.room]
			var used []byte
			if tc.grown {
				used = make([]byte, tc.loaded)
			} else {
				// As pack.Decoder.Decode returns it: the buffer's own
				// array, capped just past the plaintext's length.
				used = (*buf)[:tc.loaded:tc.loaded]
			}
			bufs.put(buf, used)
			again := bufs.get(1)
			if again != buf {
				t.Fatal("the buffer put back was not kept")
			}
			if cap(*again) != tc.wantRoom || len(*again) != 0 {
				t.Errorf("kept len %d cap %d, want len 0 cap %d", len(*again), cap(*again), tc.wantRoom)
			}
		})
	}
	t.Run("full", func(t *testing.T) {
		bufs := newChunkBufs(1)
		a, b := bufs.get(1), bufs.get(1)
		bufs.put(a, *a)
		bufs.put(b, *b) // dropped: one is kept
		if got := bufs.get(1); got != a {
			t.Error("the first buffer put back is not the one kept")
		}
		if got := bufs.get(1); got == a || got == b {
			t.Error("a buffer beyond the limit was kept")
		}
	})
}
