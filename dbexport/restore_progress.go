package dbexport

import (
	"bytes"
	"io"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// RestoreCounters are the progress of a running Restore: every field may
// be read while it runs. Rows are counted as they are handed to the
// target (one line of COPY text is one row), so a bar can show percent
// and ETA against TotalRows, the rows the snapshot records.
type RestoreCounters struct {
	Tables, TotalTables atomic.Uint64
	Rows, TotalRows     atomic.Uint64
	Bytes               atomic.Uint64

	mu   sync.Mutex
	load map[string]time.Duration // LoadTimes, by qualified table name
}

// LoadTimes returns, per table (by qualified name), how long its rows
// took to load: read from the repository and written into the target,
// from the first row to the last. Indexes, constraints and sequence
// positions, built after the rows, are not in it; tables loaded at once
// (restore --jobs) overlap.
func (c *RestoreCounters) LoadTimes() map[string]time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.load)
}

func (c *RestoreCounters) loaded(table string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.load == nil {
		c.load = map[string]time.Duration{}
	}
	c.load[table] += d
}

// countingWriter counts the rows and bytes of COPY text written to w.
type countingWriter struct {
	w io.Writer
	c *RestoreCounters
}

func (cw countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.c.Bytes.Add(uint64(n))
	cw.c.Rows.Add(uint64(bytes.Count(p[:n], []byte{'\n'})))
	return n, err
}
