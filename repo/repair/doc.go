// Package repair fixes what check finds (docs/design.md, "repair").
//
// Index rebuilds the index from the pack headers: it keeps the entries of
// index files that still load for packs that are stored whole, reads the
// header of every other pack, writes new index files, the last of which
// supersedes every old one, and only then removes the old files. Index
// entries lost with a damaged or deleted index file come back; entries of
// packs that are gone are dropped.
//
// Packs replaces damaged packs: every blob of such a pack that its index
// entries or its header locate and that verifies against its ID is copied,
// still sealed, into new packs; new index files supersede the ones that
// name the damaged packs, and only then are those files and the packs
// removed. Blobs that do not verify are reported; Snapshots then cuts the
// lost ones out of the snapshots.
//
// Snapshots writes, for every snapshot that references a blob that cannot
// be loaded, a repaired snapshot without that blob: a lost folder becomes
// an empty one, a file or table keeps its intact chunks, and node and
// snapshot record in their meta what was lost. New trees are stored
// first, then the index, then the snapshot, as a backup writes them.
//
// Layer: repair sits above repo and uses it, its backend, pack and index;
// it knows nothing of dbexport, verify or the CLI. The caller holds the
// exclusive lock.
//
// Words (docs/design.md): index file, supersede, pack, damaged pack,
// salvage (copy a verified blob of a damaged pack), header, blob, delta
// blob, base, tree, node, snapshot, chunk (one content blob of a node),
// lost (no copy of a blob can be loaded), repaired snapshot (written in
// place of a damaged one, tagged "repaired"), original (the damaged
// snapshot it replaces).
package repair
