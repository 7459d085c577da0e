package repo

// Default chunk sizes, chosen by the measurements in docs/design.md
// ("Choosing the defaults").
const (
	DefaultMinSize = 16 << 10
	DefaultAvgBits = 16 // 64 KiB
	DefaultMaxSize = 512 << 10

	DefaultTableMinSize = 16 << 10
	DefaultTableAvgBits = 16 // 64 KiB, line-aligned
	DefaultTableMaxSize = 512 << 10

	// DefaultMaxDeltaDepth bounds how many delta blobs a load may have to
	// resolve before reaching a plain blob.
	DefaultMaxDeltaDepth = 8
)
