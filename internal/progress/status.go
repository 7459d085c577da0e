package progress

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Counts is one reading of a running operation. A total of 0 is unknown.
type Counts struct {
	BytesDone, BytesTotal uint64
	FilesDone, FilesTotal uint64
	RowsDone, RowsTotal   uint64 // a database backup's rows
}

// Status is one status line of --json output, shaped like restic's:
// percent_done runs from 0 to 1 (by bytes when their total is known, else
// by rows, else by files).
type Status struct {
	MessageType      string  `json:"message_type"` // "status"
	SecondsElapsed   float64 `json:"seconds_elapsed"`
	SecondsRemaining float64 `json:"seconds_remaining,omitempty"`
	PercentDone      float64 `json:"percent_done"`
	TotalFiles       uint64  `json:"total_files,omitempty"`
	FilesDone        uint64  `json:"files_done"`
	TotalBytes       uint64  `json:"total_bytes,omitempty"`
	BytesDone        uint64  `json:"bytes_done"`
	TotalRows        uint64  `json:"total_rows,omitempty"`
	RowsDone         uint64  `json:"rows_done,omitempty"`
}

// NewStatus computes a status line from c after elapsed.
func NewStatus(c Counts, elapsed time.Duration) Status {
	s := Status{
		MessageType: "status", SecondsElapsed: elapsed.Seconds(),
		TotalFiles: c.FilesTotal, FilesDone: c.FilesDone, TotalBytes: c.BytesTotal, BytesDone: c.BytesDone,
		TotalRows: c.RowsTotal, RowsDone: c.RowsDone,
	}
	switch {
	case c.BytesTotal > 0:
		s.PercentDone = min(float64(c.BytesDone)/float64(c.BytesTotal), 1)
	case c.RowsTotal > 0:
		s.PercentDone = min(float64(c.RowsDone)/float64(c.RowsTotal), 1)
	case c.FilesTotal > 0:
		s.PercentDone = min(float64(c.FilesDone)/float64(c.FilesTotal), 1)
	}
	if s.PercentDone > 0 && s.PercentDone < 1 {
		s.SecondsRemaining = s.SecondsElapsed / s.PercentDone * (1 - s.PercentDone)
	}
	return s
}

// StatusWriter prints a Status line on w every interval and a last one
// at Stop, so that a script always sees the final counts.
type StatusWriter struct {
	w      io.Writer
	source func() Counts
	start  time.Time
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex // one line at a time
}

// StartStatus begins printing; a disabled StatusWriter prints nothing.
func StartStatus(w io.Writer, enabled bool, interval time.Duration, source func() Counts) *StatusWriter {
	s := &StatusWriter{w: w, source: source, start: time.Now(), stop: make(chan struct{})}
	if !enabled {
		close(s.stop)
		return s
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.print()
			}
		}
	}()
	return s
}

func (s *StatusWriter) print() {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := json.Marshal(NewStatus(s.source(), time.Since(s.start)))
	_, _ = s.w.Write(append(b, '\n'))
}

// Stop prints the last status line. Safe to call more than once; a
// disabled or stopped StatusWriter prints nothing.
func (s *StatusWriter) Stop() {
	select {
	case <-s.stop:
		return
	default:
		close(s.stop)
	}
	s.wg.Wait()
	s.print()
}
