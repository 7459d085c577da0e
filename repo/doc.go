// Package repo is the repository handle: it creates and opens repositories
// (config, key files), saves and loads blobs through packs and the index,
// and stores snapshots, trees, locks, retention policies and protections
// (stored, not interpreted: package retention decides). Everything above
// it (backup of files and streams, table export, check, the CLI) goes
// through it; chunk, pack, index and backend below it know nothing of it.
//
// Words (docs/design.md): repository, config, key file, master key, blob,
// delta blob, base, pack, index file, tree, tree copy (each tree blob is
// stored in two packs), node, page (a table's chunk list is a tree of
// pages, tree blobs too), walker (repo.Walker, the one way to read
// trees), snapshot, lock, policy file, protection.
package repo
