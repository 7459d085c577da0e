package repo

import (
	"container/list"
	"sync"

	"strata/pack"
)

// blobCache keeps the plaintext of recently loaded delta bases, so a restore
// that walks consecutive deltas of one chain loads each base once.
type blobCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recent; values are pack.ID
	items map[pack.ID]cacheItem
}

type cacheItem struct {
	plain []byte
	elem  *list.Element
}

func newBlobCache(max int) *blobCache {
	return &blobCache{max: max, order: list.New(), items: map[pack.ID]cacheItem{}}
}

func (c *blobCache) get(id pack.ID) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[id]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(it.elem)
	return it.plain, true
}

func (c *blobCache) put(id pack.ID, plain []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[id]; ok || c.max <= 0 {
		return
	}
	c.items[id] = cacheItem{plain: plain, elem: c.order.PushFront(id)}
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(pack.ID))
	}
}
