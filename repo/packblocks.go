package repo

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"strata/index"
	"strata/pack"
	"strata/repo/backend"
)

// A backup reads the delta bases of the chunks that changed: a few blobs
// here and there in the packs of earlier backups, in key order, since
// both that backup and this one export a table in key order. On remote
// storage (backend.Remote) each read is a request, and the requests, not
// the bytes, are what costs time and money. So a backup reads packs there
// in blocks of packBlockSize bytes, kept in a small cache for the links
// that follow (docs/design.md, "Reading delta bases"):
// the bases of one table's changed chunks mostly lie within a few blocks
// of the first backup's packs, and an hourly backup's deltas fill a
// block or two of its own pack.

// packBlockSize is the unit of a backup's reads of delta bases. A block
// costs one request whether it serves one base or twenty.
const packBlockSize = 1 << 20

// packBlockCacheSize bounds the bytes of the blocks kept.
const packBlockCacheSize = 32 << 20

type blockKey struct {
	pack  pack.ID
	block int64
}

// packBlocks caches blocks of packs; concurrent reads of one block wait
// for the first.
type packBlocks struct {
	mu      sync.Mutex
	bytes   int
	order   *list.List // front: most recent; values are blockKey
	blocks  map[blockKey]*packBlock
	extents map[pack.ID]int64 // the end of the last blob of each pack
	extIdx  *index.Index      // the index extents was built from
}

type packBlock struct {
	ready chan struct{} // closed once data or err is set
	data  []byte
	err   error
	elem  *list.Element // nil while being read, or once evicted
}

func newPackBlocks() *packBlocks {
	return &packBlocks{order: list.New(), blocks: map[blockKey]*packBlock{}}
}

// extent returns the end of the last blob that idx places in pack id:
// blocks are read only up to it, so that no read goes past the pack's
// end (where its header lies). The table is built once per index; packs
// added to it since are read blob by blob (false).
func (c *packBlocks) extent(idx *index.Index, id pack.ID) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.extIdx != idx {
		c.extents = map[pack.ID]int64{}
		idx.Each(func(_ pack.ID, loc index.Location) bool {
			if end := int64(loc.Offset) + int64(loc.Length); end > c.extents[loc.Pack] {
				c.extents[loc.Pack] = end
			}
			return true
		})
		c.extIdx = idx
	}
	end, ok := c.extents[id]
	return end, ok
}

// readBlobBlocks returns the sealed bytes of the blob at loc, read
// through the block cache when the pack's extent is known.
func (r *Repository) readBlobBlocks(ctx context.Context, loc index.Location) ([]byte, error) {
	start, end := int64(loc.Offset), int64(loc.Offset)+int64(loc.Length)
	if !backend.IsRemote(r.storage) {
		// A read of a local disk costs no request: no block read, and
		// no memory kept for blocks.
		return r.readRange(ctx, loc.Pack, start, end-start)
	}
	ext, ok := r.blocks.extent(r.Index(), loc.Pack)
	if !ok || end > ext {
		return r.readRange(ctx, loc.Pack, start, end-start)
	}
	first, last := start/packBlockSize, (end-1)/packBlockSize
	if first == last {
		b, err := r.block(ctx, loc.Pack, first, ext)
		if err != nil {
			return nil, err
		}
		off := start - first*packBlockSize
		return b[off : off+int64(loc.Length) : off+int64(loc.Length)], nil
	}
	out := make([]byte, 0, loc.Length)
	for k := first; k <= last; k++ {
		b, err := r.block(ctx, loc.Pack, k, ext)
		if err != nil {
			return nil, err
		}
		from, to := max(start-k*packBlockSize, 0), min(end-k*packBlockSize, int64(len(b)))
		out = append(out, b[from:to]...)
	}
	return out, nil
}

// block returns block k of pack id, whose blobs end at ext, reading it
// unless it is cached or being read.
func (r *Repository) block(ctx context.Context, id pack.ID, k, ext int64) ([]byte, error) {
	c := r.blocks
	key := blockKey{id, k}
	c.mu.Lock()
	if b, ok := c.blocks[key]; ok {
		if b.elem != nil {
			c.order.MoveToFront(b.elem)
		}
		c.mu.Unlock()
		select {
		case <-b.ready:
			return b.data, b.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	b := &packBlock{ready: make(chan struct{})}
	c.blocks[key] = b
	c.mu.Unlock()

	from := k * packBlockSize
	b.data, b.err = r.readRange(ctx, id, from, min(from+packBlockSize, ext)-from)
	c.mu.Lock()
	if b.err != nil {
		// Not kept: the next read tries again.
		delete(c.blocks, key)
	} else {
		b.elem = c.order.PushFront(key)
		c.bytes += len(b.data)
		for c.bytes > packBlockCacheSize && c.order.Len() > 1 {
			oldest := c.order.Back()
			ok := oldest.Value.(blockKey)
			c.order.Remove(oldest)
			c.bytes -= len(c.blocks[ok].data)
			c.blocks[ok].elem = nil
			delete(c.blocks, ok)
		}
	}
	c.mu.Unlock()
	close(b.ready)
	return b.data, b.err
}

// readRange reads length bytes of pack id from offset.
func (r *Repository) readRange(ctx context.Context, id pack.ID, offset, length int64) ([]byte, error) {
	h := backend.Handle{Type: backend.PackFile, Name: id.String()}
	b, err := r.be.Load(ctx, h, offset, length)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", id, err)
	}
	r.packBytesRead.Add(int64(len(b)))
	return b, nil
}
