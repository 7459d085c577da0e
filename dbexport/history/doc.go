// Package history follows one row of a database table through the
// snapshots of its database (strata history): when it appeared, each
// change of its columns, when it was deleted and when it came back.
//
// It sits above dbexport (table definitions, row encoding, key order) and
// repo (snapshots, pages, blobs), and reads as little as it can: per
// snapshot the root tree, the pages on the way to the row's key and at
// most one chunk, the one whose first key is the greatest at or below the
// key (repo.ChunkSeeker.Floor); a snapshot whose tree, chunk list or
// chunk for the key is the previous snapshot's is not read further, for
// the row cannot have changed (docs/design.md, "Row history").
//
// Words: version (the row as one snapshot holds it), event (a version
// that differs from the one before: present, insert, update, delete),
// window (the snapshots between --since and --until).
package history
