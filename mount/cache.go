package mount

import (
	"container/list"
	"context"
	"sync"

	"strata/pack"
)

// chunkCache keeps the plaintext of recently read chunks, bounded in
// bytes, shared by every open file. A chunk is loaded once however many
// readers ask for it at the same time, and reads ahead of a sequential
// reader load in the background, a few at a time, so a `cat` keeps
// several loads in flight as `strata dump` does.
type chunkCache struct {
	load func(ctx context.Context, id pack.ID) ([]byte, error)
	ctx  context.Context // of the mount: background loads end with it

	mu    sync.Mutex
	max   int64
	used  int64
	order *list.List // front: most recently used; values are pack.ID
	items map[pack.ID]*cachedChunk
	ahead chan struct{} // one token per background load
}

type cachedChunk struct {
	done chan struct{} // closed when data or err is set
	data []byte
	err  error
	elem *list.Element // nil until loaded
}

func newChunkCache(ctx context.Context, load func(ctx context.Context, id pack.ID) ([]byte, error), maxBytes int64, ahead int) *chunkCache {
	return &chunkCache{load: load, ctx: ctx, max: maxBytes, order: list.New(),
		items: map[pack.ID]*cachedChunk{}, ahead: make(chan struct{}, max(ahead, 1))}
}

// get returns chunk id's plaintext, loading it when it is not cached. A
// failed load is not kept: the next read tries again.
func (c *chunkCache) get(ctx context.Context, id pack.ID) ([]byte, error) {
	c.mu.Lock()
	it, ok := c.items[id]
	if !ok {
		it = &cachedChunk{done: make(chan struct{})}
		c.items[id] = it
		c.mu.Unlock()
		// The mount's context, not the request's: other readers may
		// be waiting for the same chunk.
		c.fill(c.ctx, id, it)
	} else {
		if it.elem != nil {
			c.order.MoveToFront(it.elem)
		}
		c.mu.Unlock()
	}
	select {
	case <-it.done:
		return it.data, it.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// prefetch starts loading id in the background when it is not cached
// and a background slot is free; it never waits.
func (c *chunkCache) prefetch(id pack.ID) {
	c.mu.Lock()
	if _, ok := c.items[id]; ok {
		c.mu.Unlock()
		return
	}
	select {
	case c.ahead <- struct{}{}:
	default:
		c.mu.Unlock()
		return
	}
	it := &cachedChunk{done: make(chan struct{})}
	c.items[id] = it
	c.mu.Unlock()
	go func() {
		defer func() { <-c.ahead }()
		c.fill(c.ctx, id, it)
	}()
}

// fill loads id into it and publishes the result.
func (c *chunkCache) fill(ctx context.Context, id pack.ID, it *cachedChunk) {
	data, err := c.load(ctx, id)
	c.mu.Lock()
	defer c.mu.Unlock()
	it.data, it.err = data, err
	close(it.done)
	if err != nil {
		delete(c.items, id)
		return
	}
	it.elem = c.order.PushFront(id)
	c.used += int64(len(data))
	for c.used > c.max && c.order.Len() > 1 {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		old := oldest.Value.(pack.ID)
		c.used -= int64(len(c.items[old].data))
		delete(c.items, old)
	}
}
