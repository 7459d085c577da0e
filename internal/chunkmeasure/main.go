// Command chunkmeasure measures how much a backup of a churning table
// stores per hour for several chunk sizes, the figures behind the defaults
// in docs/design.md, "Choosing the defaults".
//
// It generates a deterministic CSV export of a customer table, applies
// hours of churn (updates, mostly to the newest rows; appended rows; a few
// deletes), exports the table again after each hour, and for each set of
// chunking parameters reports what a backup of each export adds to the
// repository: the zstd-3 sizes of chunks never stored before, and the same
// with each new chunk stored as a delta blob against the previous backup's
// chunk at the same key. Run it with
//
//	go run ./internal/chunkmeasure
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	"strata/chunk"
)

// measurePol is a fixed polynomial, so that every run cuts the same chunks.
const measurePol chunk.Pol = 0x3DA3358B4DC173

type options struct {
	rows    int
	hours   int
	seed    uint64
	workers int
	level   int
	churn   churn
}

func main() {
	var o options
	flag.IntVar(&o.rows, "rows", 785_000, "customers in the table at hour 0")
	flag.IntVar(&o.hours, "hours", 4, "hours of churn to simulate")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed of the table and its churn")
	flag.IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0), "candidates measured in parallel")
	flag.IntVar(&o.level, "zstd-level", 3, "zstd level of blobs and delta blobs (klauspost maps 3-5 to SpeedDefault, 6-9 to SpeedBetterCompression)")
	flag.Float64Var(&o.churn.rate, "churn", 0.002, "rows changed per hour, as a fraction of the table")
	flag.Parse()
	o.churn.insertShare, o.churn.deleteShare = 0.18, 0.02
	o.churn.hotShare, o.churn.hotFraction = 0.7, 0.1

	if err := run(context.Background(), os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "chunkmeasure:", err)
		os.Exit(1)
	}
}

// candidates are the parameters under test: the four average sizes with
// minimum avg/4 and maximum avg*8, line-aligned; 64 KiB without alignment;
// and other minimum and maximum sizes around 16 and 64 KiB.
func candidates() []*candidate {
	p := func(avgBits uint, minDiv, maxMul uint, aligned bool) chunk.Params {
		avg := uint(1) << avgBits
		return chunk.Params{Pol: measurePol, MinSize: avg / minDiv, AvgBits: avgBits, MaxSize: avg * maxMul, LineAligned: aligned}
	}
	return []*candidate{
		newCandidate("4 KiB", p(12, 4, 8, true)),
		newCandidate("16 KiB", p(14, 4, 8, true)),
		newCandidate("64 KiB", p(16, 4, 8, true)),
		newCandidate("1 MiB", p(20, 4, 8, true)),
		newCandidate("64 KiB, not line-aligned", p(16, 4, 8, false)),
		newCandidate("16 KiB, min avg/16, max avg*4", p(14, 16, 4, true)),
		newCandidate("16 KiB, min avg/2, max avg*16", p(14, 2, 16, true)),
		newCandidate("64 KiB, min avg/16, max avg*4", p(16, 16, 4, true)),
		newCandidate("64 KiB, min avg/2, max avg*16", p(16, 2, 16, true)),
	}
}

func run(ctx context.Context, w io.Writer, o options) error {
	start := time.Now()
	cands := candidates()
	for _, c := range cands {
		if err := c.params.Validate(); err != nil {
			return fmt.Errorf("candidate %s: %w", c.name, err)
		}
	}
	pool := make(chan *compressor, o.workers)
	for range o.workers {
		z, err := newCompressor(o.level)
		if err != nil {
			return err
		}
		pool <- z
	}

	tbl := newTable(o.rows, o.seed)
	var data, prevData []byte
	var floor []int64
	var changedRows []int
	for hour := 0; hour <= o.hours; hour++ {
		if hour > 0 {
			changed := tbl.advance(o.churn)
			z := <-pool
			floor = append(floor, int64(z.size(changed)))
			pool <- z
			changedRows = append(changedRows, countLines(changed))
		}
		data, prevData = tbl.export(prevData), data
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(o.workers)
		for _, c := range cands {
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				z := <-pool
				defer func() { pool <- z }()
				return c.measure(z, hour, data, prevData)
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "hour %d: %d rows, %.1f MB export, %s elapsed\n", hour, tbl.live, float64(len(data))/1e6, time.Since(start).Round(time.Second))
	}
	report(w, o, cands, floor, changedRows, time.Since(start))
	return nil
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}
