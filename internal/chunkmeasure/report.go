package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"
)

// report prints the measurements as a markdown table. Sizes are in MB
// (10^6 bytes); per-hour figures are the mean over the simulated hours,
// with the smallest and largest hour in parentheses.
func report(w io.Writer, o options, cands []*candidate, floor []int64, changedRows []int, took time.Duration) {
	c0 := cands[0]
	fmt.Fprintf(w, "Table: %d customers, %.1f MB of CSV at hour 0; %d hours of churn at %.2f%% of rows per hour\n",
		o.rows, float64(c0.dataBytes[0])/1e6, o.hours, 100*o.churn.rate)
	fmt.Fprintf(w, "(%.0f%% updates, %.0f%% of them on the newest %.0f%% of rows; %.0f%% inserts; %.0f%% deletes): %s changed or new rows per hour.\n",
		100*(1-o.churn.insertShare-o.churn.deleteShare), 100*o.churn.hotShare, 100*o.churn.hotFraction,
		100*o.churn.insertShare, 100*o.churn.deleteShare, meanRange(ints64(changedRows), 1))
	fmt.Fprintf(w, "zstd level %d (%v), no frame checksum. Seed %d, %s.\n\n", o.level, zstd.EncoderLevelFromZstd(o.level), o.seed, took.Round(time.Second))

	fmt.Fprintf(w, "| chunking (line-aligned unless noted) | min / max | chunks per export | mean chunk | initial backup MB | new blobs per hour | new storage MB/hour | with delta blobs MB/hour | blobs after %d hours |\n", o.hours)
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, c := range cands {
		p := c.params
		last := len(c.chunks) - 1
		fmt.Fprintf(w, "| %s | %s / %s | %d | %s | %.1f | %s | %s | %s | %d |\n",
			c.name, size(p.MinSize), size(p.MaxSize), c.chunks[last],
			size(uint(c.dataBytes[last]/int64(c.chunks[last]))), float64(c.initial)/1e6,
			meanRange(ints64(c.newBlobs), 1), meanRange(c.newStored, 1e6), meanRange(c.deltaStored, 1e6), len(c.seen))
	}
	fmt.Fprintf(w, "| floor: changed and new rows only | | | | | | %s | | |\n", meanRange(floor, 1e6))
}

func ints64(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// meanRange formats the mean of v divided by unit, and its range.
func meanRange(v []int64, unit float64) string {
	if len(v) == 0 {
		return "-"
	}
	var sum int64
	for _, x := range v {
		sum += x
	}
	mean := float64(sum) / float64(len(v)) / unit
	lo, hi := float64(slices.Min(v))/unit, float64(slices.Max(v))/unit
	if unit == 1 {
		return fmt.Sprintf("%.0f (%.0f-%.0f)", mean, lo, hi)
	}
	return fmt.Sprintf("%s (%s-%s)", sig(mean), sig(lo), sig(hi))
}

// sig formats x with about three significant digits.
func sig(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	case x >= 1:
		return fmt.Sprintf("%.2f", x)
	default:
		return fmt.Sprintf("%.3f", x)
	}
}

func size(b uint) string {
	switch {
	case b >= 1<<20 && b%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", b>>20)
	case b >= 1<<10 && b%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", b>>10)
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/1024)
	}
	return fmt.Sprintf("%d B", b)
}
