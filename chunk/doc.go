// Package chunk cuts a byte stream into content-defined chunks: the unit that
// becomes one blob. Cuts are found with a Rabin fingerprint over a 64-byte
// sliding window (github.com/restic/chunker) under a random polynomial that
// each repository chooses once and keeps in its config, so the same bytes
// give the same chunks in every backup of that repository and unrelated
// repositories cannot be compared by chunk sizes. Optionally each cut moves
// to just after a newline, so a line (a table row in a CSV export) is never
// split across chunks.
//
// Layer: chunk is a leaf. It knows nothing of packs, indexes or the
// repository; callers hash, compress and store what it returns.
//
// Words (docs/design.md, "Chunking"): chunk, cut, polynomial (Pol), minimum
// size, average size (AvgBits), maximum size (the hard limit), line-aligned
// cut.
package chunk
