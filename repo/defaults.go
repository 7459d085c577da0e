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

	// DefaultUploads is how many full packs upload at once (Options.Uploads):
	// the savers go on filling the next pack while one travels to a
	// bucket, and a second keeps the connection busy while the first's
	// answer is awaited.
	DefaultUploads = 2
)
