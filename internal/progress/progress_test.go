package progress

import (
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name        string
		done, total uint64
		elapsed     time.Duration
		want        string
	}{
		{"unknown total", 10 << 20, 0, 2 * time.Second, "backup 10.0 MiB  5.0 MiB/s"},
		{"known total", 50 << 20, 100 << 20, 5 * time.Second, "backup [==========>         ]  50.0% 50.0 MiB / 100.0 MiB  10.0 MiB/s  ETA 0:05"},
		{"done", 100, 100, time.Second, "backup [====================] 100.0% 100 B / 100 B  100 B/s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := func() (uint64, uint64, string) { return tt.done, tt.total, "" }
			if got := Line("backup", src, tt.elapsed); got != tt.want {
				t.Errorf("Line = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 30: "3.0 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestNewStatus(t *testing.T) {
	tests := []struct {
		name    string
		c       Counts
		percent float64
		remain  float64
	}{
		{"by bytes", Counts{BytesDone: 25, BytesTotal: 100, FilesDone: 9, FilesTotal: 10}, 0.25, 30},
		{"by files when bytes are unknown", Counts{BytesDone: 25, FilesDone: 1, FilesTotal: 4}, 0.25, 30},
		{"no totals", Counts{BytesDone: 25, FilesDone: 1}, 0, 0},
		{"by rows when bytes are unknown", Counts{BytesDone: 25, RowsDone: 50, RowsTotal: 200, FilesDone: 0, FilesTotal: 2}, 0.25, 30},
		{"done", Counts{BytesDone: 100, BytesTotal: 100}, 1, 0},
		{"past the total", Counts{BytesDone: 120, BytesTotal: 100}, 1, 0},
	}
	for _, tt := range tests {
		s := NewStatus(tt.c, 10*time.Second)
		if s.MessageType != "status" || s.PercentDone != tt.percent || s.SecondsRemaining != tt.remain || s.SecondsElapsed != 10 {
			t.Errorf("%s: %+v, want percent_done %v, seconds_remaining %v", tt.name, s, tt.percent, tt.remain)
		}
	}
}
