package pack

import "sync"

// maxPooledBuffer is the largest scratch buffer kept for reuse; rarer,
// larger blobs allocate their own so the pool stays small.
const maxPooledBuffer = 4 << 20

// buffers recycles scratch buffers for stored payloads, which live only for
// one Encode or Decode call. At hundreds of MB/s, allocating them afresh
// would keep the garbage collector busy.
type buffers struct{ pool sync.Pool }

func (p *buffers) get() *[]byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return b
	}
	return new([]byte)
}

// put returns a buffer; buf is the last slice made from it, so growth by
// append is kept.
func (p *buffers) put(b *[]byte, buf []byte) {
	if cap(buf) > maxPooledBuffer {
		return
	}
	*b = buf[:0]
	p.pool.Put(b)
}
