package repo

import "strata/chunk"

// Default chunk sizes, chosen by the measurements in docs/design.md
// ("Choosing the defaults"): 1 MiB for files, 64 KiB line-aligned for
// tables and standard input (which is usually a database dump).
const (
	DefaultMinSize = chunk.FileMinSize
	DefaultAvgBits = chunk.FileAvgBits
	DefaultMaxSize = chunk.FileMaxSize

	DefaultTableMinSize = chunk.TableMinSize
	DefaultTableAvgBits = chunk.TableAvgBits
	DefaultTableMaxSize = chunk.TableMaxSize

	// DefaultMaxDeltaDepth bounds how many delta blobs a load may have to
	// resolve before reaching a plain blob.
	DefaultMaxDeltaDepth = 16
)
