package dbexport

import (
	"bytes"
	"io"
	"sync/atomic"
)

// RestoreCounters are the progress of a running Restore: every field may
// be read while it runs. Rows are counted as they are handed to the
// target (one line of COPY text is one row), so a bar can show percent
// and ETA against TotalRows, the rows the snapshot records.
type RestoreCounters struct {
	Tables, TotalTables atomic.Uint64
	Rows, TotalRows     atomic.Uint64
	Bytes               atomic.Uint64
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
