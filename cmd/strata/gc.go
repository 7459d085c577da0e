package main

import "runtime/debug"

// dbBackupGCPercent is the garbage collector's target (GOGC) of a
// database backup when the environment sets no GOGC. Go's default of 100
// lets the heap grow to twice what is live before a collection; a table
// backup's live heap is mostly long-lived compressor state (zstd
// encoders and decoders) and makes little garbage once the export
// allocates nothing per field and FirstKey nothing per row, so collecting
// at 1.25 times what is live costs about the CPU that 1.5 times cost
// before and lowers the peak (docs/benchmarks.md, "Memory of an hourly
// backup: the collector's target": replays of an hour that writes a new
// base, 69.4-74.8 MiB at 25 against 79.2-83.8 at 50).
const dbBackupGCPercent = 25

// tuneGC sets the collector's target to percent unless GOGC, read
// through getenv, is set: an operator's choice wins.
func tuneGC(getenv func(string) string, percent int) {
	if getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(percent)
}
