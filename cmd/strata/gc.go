package main

import "runtime/debug"

// dbBackupGCPercent is the garbage collector's target (GOGC) of a
// database backup when the environment sets no GOGC. Go's default of 100
// lets the heap grow to twice what is live before a collection; a table
// backup's live heap is mostly long-lived compressor state (zstd
// encoders and decoders, about 25 MiB on 2 CPUs) and makes little
// garbage once the export allocates nothing per field, so collecting at
// 1.5 times what is live costs no measurable CPU and lowers the peak
// (docs/benchmarks.md, "Memory of an hourly backup, replayed": 61.7-64.4
// MiB against 68.8-70.9 with 100, user CPU the same within the noise).
const dbBackupGCPercent = 50

// tuneGC sets the collector's target to percent unless GOGC, read
// through getenv, is set: an operator's choice wins.
func tuneGC(getenv func(string) string, percent int) {
	if getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(percent)
}
