// Package index reads and writes index files and answers, in memory, where
// each blob is stored (docs/design.md, "Index files").
//
// An index file (File; Encode, Decode) lists the blobs of some packs, as
// their pack headers do, so that a repository can be opened without reading
// every pack header; a file written to replace others names the files it
// supersedes. The in-memory index (Index) holds the entries of all
// loaded index files and of the packs a backup adds, and looks blobs up by
// ID in about 47 bytes of memory an entry.
//
// Layer: index sits below repo and above pack. It uses pack's IDs and blob
// descriptions (pack.Blob), and knows nothing of repositories, backends,
// sealing or file names: the repository seals an index file's plaintext,
// names it, and decides which files to load.
//
// Words: index file, pack, blob, entry (one blob in one pack; Location is
// where it lies), delta blob, base, supersede (an index file replaces
// others, listed in its Supersedes), main table and pending run (the two
// kinds of sorted tables of Index; Index.Compact merges the runs into the
// main table), unresolved base (the base of a delta entry that the index
// does not hold, or not yet).
package index
