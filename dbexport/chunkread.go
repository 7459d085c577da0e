package dbexport

import (
	"context"

	"golang.org/x/sync/errgroup"

	"strata/repo"
)

// chunkPrefetch is how many chunks ChunksInRange loads ahead of the
// caller: reads of a range are usually few chunks, and a wide range
// streams like a dump.
const chunkPrefetch = 4

// ChunksInRange loads, in order, the chunks of table node n that may hold
// keys within b (repo.ChunkSeeker.Range; empty bounds: every chunk) and
// hands each with its bytes to fn. It loads up to chunkPrefetch chunks
// ahead, so memory is that many chunks. It returns the node's number of
// chunks.
func ChunksInRange(ctx context.Context, l repo.TreeLoader, n *repo.Node, b repo.KeyBounds, fn func(c repo.ChunkRef, data []byte) error) (uint64, error) {
	type pending struct {
		c    repo.ChunkRef
		done chan struct{}
		data []byte
		err  error
	}
	g, ctx := errgroup.WithContext(ctx)
	queue := make(chan *pending, chunkPrefetch)
	var chunks uint64
	g.Go(func() error {
		defer close(queue)
		var err error
		chunks, err = repo.NewChunkSeeker(l, n, CompareKeys).Range(ctx, b, func(c repo.ChunkRef) error {
			p := &pending{c: c, done: make(chan struct{})}
			select {
			case queue <- p: // at most chunkPrefetch wait: the load starts once queued
			case <-ctx.Done():
				return ctx.Err()
			}
			g.Go(func() error {
				p.data, p.err = repo.LoadChunk(ctx, l, c)
				close(p.done)
				return nil // the consumer reports p.err, in order
			})
			return nil
		})
		return err
	})
	g.Go(func() error {
		for p := range queue {
			select {
			case <-p.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if p.err != nil {
				return p.err
			}
			if err := fn(p.c, p.data); err != nil {
				return err
			}
		}
		return nil
	})
	err := g.Wait()
	return chunks, err
}
