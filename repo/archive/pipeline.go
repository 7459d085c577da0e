package archive

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"strata/chunk"
	"strata/pack"
	"strata/repo"
)

// BlobSaver is what the pipeline needs from a repository.
type BlobSaver interface {
	SaveBlob(ctx context.Context, t pack.BlobType, plain []byte, base pack.ID) (repo.SaveResult, error)
}

// Counters are live totals a progress display may read at any time.
type Counters struct {
	BytesRead  atomic.Uint64
	BytesAdded atomic.Uint64 // sealed bytes added to packs
	BlobsAdded atomic.Uint64
	Files      atomic.Uint64 // files (tables) finished
	// BytesUnchanged are the sizes of files taken from the parent
	// snapshot unread: done, for a progress display, without being read.
	BytesUnchanged atomic.Uint64
	// TotalBytes and TotalFiles are what a backup of paths will go
	// through, counted by a scan that runs beside it; Scanned is set once
	// the scan is complete and the totals final.
	TotalBytes atomic.Uint64
	TotalFiles atomic.Uint64
	Scanned    atomic.Bool
	// Rows and TotalRows count the rows of a database backup: those
	// exported so far, and those the engine counted in the selected
	// tables before the export (0 when it did not count: SQLite).
	Rows      atomic.Uint64
	TotalRows atomic.Uint64
}

// DeltaSaver is a BlobSaver that also tells a chunk's ID and whether the
// repository has it, so that the pipeline can hand the new chunks that
// name a delta base to goroutines of their own: saving one first reads
// the base's chain from the repository, which on remote storage is a wait
// for the network, not work for a core.
type DeltaSaver interface {
	BlobSaver
	BlobID(plain []byte) pack.ID
	HasBlob(id pack.ID) bool
}

// deltaWorkersPer is how many goroutines per worker save new chunks that
// have a delta base, each mostly waiting for its base to be read.
const deltaWorkersPer = 4

// Pipeline chunks streams on the calling goroutine and hashes, compresses,
// seals and packs the chunks on Workers goroutines, so chunking and the
// rest overlap across cores. A new chunk with a delta base goes on to one
// of deltaWorkersPer*Workers goroutines that read its base and save it
// (when the saver is a DeltaSaver), so the workers go on meanwhile.
// Memory is bounded by Workers and the maximum chunk size: at most
// 2*Workers chunks wait for a worker, Workers are with one, and
// (deltaWorkersPer+1)*Workers wait for or are with a delta goroutine.
type Pipeline struct {
	saver    BlobSaver
	counters *Counters
	jobs     chan job
	deltas   chan job // new chunks with a delta base, when saver is a DeltaSaver
	dwg      sync.WaitGroup
	pool     sync.Pool
	wg       sync.WaitGroup

	errOnce sync.Once
	err     error
	failed  chan struct{}
}

type job struct {
	buf    *[]byte
	base   pack.ID
	out    *pack.ID
	done   *sync.WaitGroup
	closed chan struct{} // closed when out is set or the job failed
}

// NewPipeline starts workers that save chunks through saver. Close it to
// stop them.
func NewPipeline(ctx context.Context, saver BlobSaver, workers int, counters *Counters) *Pipeline {
	if workers < 1 {
		workers = 1
	}
	if counters == nil {
		counters = &Counters{}
	}
	p := &Pipeline{
		saver: saver, counters: counters,
		jobs:   make(chan job, 2*workers),
		failed: make(chan struct{}),
	}
	// Buffers start empty and grow to the chunks they carry: table
	// chunks are about 64 KiB, and 1 MiB buffers (the file chunk size)
	// would hold 2*Workers+Workers MiB for them.
	p.pool.New = func() any { return new([]byte) }
	if ds, ok := saver.(DeltaSaver); ok {
		p.deltas = make(chan job, workers)
		for i := 0; i < deltaWorkersPer*workers; i++ {
			p.dwg.Add(1)
			go func() {
				defer p.dwg.Done()
				for j := range p.deltas {
					p.save(ctx, j)
				}
			}()
		}
		for i := 0; i < workers; i++ {
			p.wg.Add(1)
			go p.workDeltas(ctx, ds)
		}
		return p
	}
	for i := 0; i < workers; i++ {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for j := range p.jobs {
				p.save(ctx, j)
			}
		}()
	}
	return p
}

// workDeltas is a worker of a DeltaSaver's pipeline: it saves chunks
// without a base itself, and hands a chunk with one to the delta
// goroutines unless the repository has it already.
func (p *Pipeline) workDeltas(ctx context.Context, ds DeltaSaver) {
	defer p.wg.Done()
	for j := range p.jobs {
		if j.base.IsNull() || p.Err() != nil {
			p.save(ctx, j)
			continue
		}
		if id := ds.BlobID(*j.buf); ds.HasBlob(id) {
			*j.out = id
			p.finish(j)
			continue
		}
		select {
		case p.deltas <- j:
		case <-ctx.Done():
			p.fail(ctx.Err())
			p.finish(j)
		}
	}
}

// save saves one chunk and finishes its job.
func (p *Pipeline) save(ctx context.Context, j job) {
	if p.Err() == nil {
		res, err := p.saver.SaveBlob(ctx, pack.DataBlob, *j.buf, j.base)
		if err != nil {
			p.fail(err)
		} else {
			*j.out = res.ID
			if res.Stored > 0 {
				p.counters.BytesAdded.Add(uint64(res.Stored))
				p.counters.BlobsAdded.Add(1)
			}
		}
	}
	p.finish(j)
}

func (p *Pipeline) finish(j job) {
	p.pool.Put(j.buf)
	close(j.closed)
	j.done.Done()
}

func (p *Pipeline) fail(err error) {
	p.errOnce.Do(func() {
		p.err = err
		close(p.failed)
	})
}

// Err returns the first error a worker met.
func (p *Pipeline) Err() error {
	select {
	case <-p.failed:
		return p.err
	default:
		return nil
	}
}

// Close stops the workers after the queued chunks are done.
func (p *Pipeline) Close() {
	close(p.jobs)
	p.wg.Wait()
	if p.deltas != nil {
		close(p.deltas)
		p.dwg.Wait()
	}
}

// Counters returns the pipeline's live totals.
func (p *Pipeline) Counters() *Counters { return p.counters }

// Chunk is one chunk of a stream as SaveStream reports it to a caller that
// wants per-chunk details (table export records the first key of each).
type Chunk struct {
	Data []byte // valid only during the callback
	Base pack.ID
}

// SaveStream chunks rd with params and saves every chunk. It returns the
// content IDs in stream order and the number of bytes read. inspect, when
// not nil, sees every chunk before it is queued and may set its base for a
// delta blob.
func (p *Pipeline) SaveStream(ctx context.Context, rd io.Reader, params chunk.Params, inspect func(*Chunk)) ([]pack.ID, uint64, error) {
	var ids []pack.ID
	size, err := p.SaveStreamEach(ctx, rd, params, inspect, func(id pack.ID) error {
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, size, err
	}
	return ids, size, nil
}

// SaveStreamEach is SaveStream handing each content ID to emit, in stream
// order, as soon as it and those before it are saved, instead of
// collecting them: memory stays bounded by the chunks in flight, whatever
// the stream's length. It returns the number of bytes read; an error of
// emit ends it.
func (p *Pipeline) SaveStreamEach(ctx context.Context, rd io.Reader, params chunk.Params, inspect func(*Chunk), emit func(pack.ID) error) (uint64, error) {
	ch := chunk.New(rd, params)
	var (
		queue []*pendingID // saving, in stream order
		done  sync.WaitGroup
		size  uint64
	)
	// drain emits the saved IDs at the front of the queue; with wait, it
	// waits for every one.
	drain := func(wait bool) error {
		for len(queue) > 0 {
			q := queue[0]
			if wait {
				<-q.done
			} else {
				select {
				case <-q.done:
				default:
					return nil
				}
			}
			queue = queue[1:]
			if err := p.Err(); err != nil {
				return err
			}
			if err := emit(q.id); err != nil {
				return err
			}
		}
		return nil
	}
	stop := func(err error) (uint64, error) {
		done.Wait()
		return size, err
	}
	for {
		data, err := ch.Next()
		if errors.Is(err, io.EOF) {
			done.Wait()
			if err := p.Err(); err != nil {
				return size, err
			}
			return size, drain(true)
		}
		if err != nil {
			return stop(err)
		}
		size += uint64(len(data))
		p.counters.BytesRead.Add(uint64(len(data)))
		c := Chunk{Data: data}
		if inspect != nil {
			inspect(&c)
		}
		buf := p.pool.Get().(*[]byte)
		*buf = append((*buf)[:0], data...)
		q := &pendingID{done: make(chan struct{})}
		queue = append(queue, q)
		done.Add(1)
		select {
		case p.jobs <- job{buf: buf, base: c.Base, out: &q.id, done: &done, closed: q.done}:
		case <-p.failed:
			done.Done()
			p.pool.Put(buf)
			return stop(p.err)
		case <-ctx.Done():
			done.Done()
			p.pool.Put(buf)
			return stop(ctx.Err())
		}
		if err := drain(false); err != nil {
			return stop(err)
		}
	}
}

// pendingID is a chunk being saved: its ID once done is closed.
type pendingID struct {
	id   pack.ID
	done chan struct{}
}
