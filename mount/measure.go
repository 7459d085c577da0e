package mount

import (
	"context"
	"crypto/sha256"

	"strata/repo"
)

// measurer finds, in the background, the sizes of converted files too
// large to convert at their first look (Options.MeasureMax): the first
// stat of one says 0 bytes and queues it; one worker converts the
// queued files one at a time, keeping only their size, and a stat after
// that gives the exact size (docs/design.md, "Mount", "Converted
// files"). Sizes are kept by what the conversion depends on (format,
// table definition, chunk list), so a table unchanged across snapshots
// is measured once.
type measurer struct {
	queue chan *convertedFile
	sizes *lru[[32]byte, int64]
}

// measureQueue bounds the files waiting for the worker: a file that
// finds the queue full is queued again at its next look.
const measureQueue = 64

func newMeasurer() *measurer {
	return &measurer{queue: make(chan *convertedFile, measureQueue), sizes: newLRU[[32]byte, int64](1 << 16)}
}

// run measures queued files until ctx ends.
func (ms *measurer) run(ctx context.Context, logf func(string, ...any)) {
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-ms.queue:
			if err := f.measure(ctx); err != nil && ctx.Err() == nil {
				// The size stays 0; a read says why it fails.
				logf("%s: measuring its size: %v", f.label, err)
			}
		}
	}
}

// later queues f, unless it was queued before or the queue is full.
func (ms *measurer) later(f *convertedFile) {
	if !f.queued.CompareAndSwap(false, true) {
		return
	}
	select {
	case ms.queue <- f:
	default:
		f.queued.Store(false)
	}
}

// sizeKey is what a converted file's bytes depend on: its format, the
// table's definition and the chunks of its stored text.
func sizeKey(n *repo.Node, format string) [32]byte {
	h := sha256.New()
	h.Write([]byte(format + "\x00" + n.Meta[repo.TableMetaTable] + "\x00"))
	if n.Pages != nil {
		h.Write([]byte("pages\x00"))
		h.Write(n.Pages[:])
	}
	for _, id := range n.Content {
		h.Write(id[:])
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}
