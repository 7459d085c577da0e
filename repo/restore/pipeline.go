package restore

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"strata/pack"
	"strata/repo"
)

// DefaultWorkers is the number of blobs loaded ahead of the writer when
// Options.Workers is zero, and always for Dump.
const DefaultWorkers = 8

// The pipeline runs a walk and a consumer side by side. The walker hands
// the consumer entries in walk order and starts loading the data blobs of
// files ahead of it; the consumer writes them in order. So blobs of one
// file, and of the next small files, load in parallel while the output is
// written sequentially. At most `workers` blobs are loading or loaded and
// not yet taken, and the consumer holds one more: memory for data stays
// below (workers+1) times the largest blob.
type pipeline struct {
	loader  BlobLoader
	g       *errgroup.Group
	slots   chan struct{} // one per blob loading or loaded and not yet taken
	entries chan entry
}

type entryKind int

const (
	enterDir entryKind = iota // a dir, before its content
	leaveDir                  // a dir, after its content
	leafNode                  // any other node
)

// entry is one step of the walk.
type entry struct {
	kind entryKind
	path string // snapshot path
	node *repo.Node
	// blobs delivers the data blobs of a file, stream or table in order;
	// the walker closes it after the last one, or early when cancelled.
	blobs chan *pendingBlob
}

// pendingBlob is a data blob being loaded ahead of the consumer.
type pendingBlob struct {
	id   pack.ID
	done chan struct{} // closed once data or err is set
	data []byte
	err  error
	last bool // no blob: the mark after the last one
}

// runPipeline runs walk, which must report to the visitor it is given,
// and hands every entry to consume, in order, in one goroutine. The first
// error of either stops both and is returned.
func runPipeline(ctx context.Context, loader BlobLoader, workers int,
	walk func(ctx context.Context, v visitor) error,
	consume func(ctx context.Context, p *pipeline, e entry) error) error {
	g, ctx := errgroup.WithContext(ctx)
	p := &pipeline{
		loader:  loader,
		g:       g,
		slots:   make(chan struct{}, workers),
		entries: make(chan entry, workers),
	}
	g.Go(func() error {
		defer close(p.entries)
		return walk(ctx, visitor{
			enter: func(path string, n *repo.Node) error { return p.send(ctx, entry{kind: enterDir, path: path, node: n}) },
			leave: func(path string, n *repo.Node) error { return p.send(ctx, entry{kind: leaveDir, path: path, node: n}) },
			leaf:  func(path string, n *repo.Node) error { return p.sendLeaf(ctx, path, n) },
		})
	})
	g.Go(func() error {
		for e := range p.entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := consume(ctx, p, e); err != nil {
				return err
			}
		}
		return nil
	})
	return g.Wait()
}

func (p *pipeline) send(ctx context.Context, e entry) error {
	select {
	case p.entries <- e:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sendLeaf hands n to the consumer, then starts loading its data blobs,
// waiting for a free slot before each, and ends them with a mark that
// every blob was sent.
func (p *pipeline) sendLeaf(ctx context.Context, path string, n *repo.Node) error {
	e := entry{kind: leafNode, path: path, node: n}
	if !hasContent(n) {
		return p.send(ctx, e)
	}
	// At most cap(p.slots) blobs wait in the channel, so sends never block.
	e.blobs = make(chan *pendingBlob, cap(p.slots))
	defer close(e.blobs)
	if err := p.send(ctx, e); err != nil {
		return err
	}
	w := repo.Walker{Loader: p.loader, Chunk: func(_ string, _ *repo.Node, c repo.ChunkRef) error {
		select {
		case p.slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		b := &pendingBlob{id: c.ID, done: make(chan struct{})}
		p.g.Go(func() error {
			b.data, b.err = repo.LoadChunk(ctx, p.loader, c)
			close(b.done)
			return nil // the consumer reports b.err, in order
		})
		e.blobs <- b
		return nil
	}}
	if err := w.WalkContent(ctx, path, n); err != nil {
		return err
	}
	end := &pendingBlob{last: true, done: make(chan struct{})}
	close(end.done)
	select {
	case e.blobs <- end:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readContent hands the data blobs of the leaf e to fn in order and
// returns the number of bytes. It fails, naming the blob, when a blob
// fails to load, and fails unless every blob of the node arrived.
func (p *pipeline) readContent(ctx context.Context, e entry, fn func([]byte) error) (uint64, error) {
	var size uint64
	count, complete := 0, false
	for b := range e.blobs {
		if b.last {
			complete = true
			continue
		}
		select {
		case <-b.done:
		case <-ctx.Done():
			return size, ctx.Err()
		}
		<-p.slots
		if b.err != nil {
			return size, fmt.Errorf("blob %s: %w", b.id.Short(), b.err)
		}
		if err := fn(b.data); err != nil {
			return size, err
		}
		size += uint64(len(b.data))
		count++
	}
	if !complete {
		// The walker stops early only when the context is done or a page
		// of the node's content failed to load (which it reports).
		if err := ctx.Err(); err != nil {
			return size, err
		}
		return size, fmt.Errorf("got %d blobs, then the content stopped short", count)
	}
	return size, nil
}
