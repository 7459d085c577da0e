package archive

import (
	"context"
	"io"
)

// ctxReader stops a read of standard input (or any reader that cannot be
// interrupted, such as a pipe with no writer activity) when ctx is done:
// a backup of a stream that waits for more input must still stop at
// Ctrl-C. The underlying reads run in one goroutine into a buffer of the
// ctxReader's own, so a read left blocked after cancellation never writes
// into a caller's buffer.
type ctxReader struct {
	ctx      context.Context
	r        io.Reader
	buf      []byte
	pending  []byte // read, not yet returned
	err      error  // the underlying reader's error, after pending
	inFlight bool
	done     chan readResult
}

type readResult struct {
	n   int
	err error
}

// ctxReaderBuffer is the size of one underlying read.
const ctxReaderBuffer = 256 << 10

func newCtxReader(ctx context.Context, r io.Reader) *ctxReader {
	return &ctxReader{ctx: ctx, r: r, buf: make([]byte, ctxReaderBuffer), done: make(chan readResult, 1)}
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if len(c.pending) == 0 && c.err == nil {
		if !c.inFlight {
			c.inFlight = true
			go func() {
				n, err := c.r.Read(c.buf)
				c.done <- readResult{n, err}
			}()
		}
		select {
		case res := <-c.done:
			c.inFlight = false
			c.pending, c.err = c.buf[:res.n], res.err
		case <-c.ctx.Done():
			return 0, c.ctx.Err()
		}
	}
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return 0, c.err
}
