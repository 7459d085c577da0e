// Package copier copies snapshots from one repository into another
// (strata copy; docs/design.md, "Copying between repositories").
//
// It sits above package repo and works through two narrow interfaces, a
// Source it reads and a Destination it writes, so any backend serves
// either side. Blob IDs are keyed hashes of each repository's own master
// key, so no ID carries over: every blob a snapshot needs is read from the
// source (verified against its source ID), hashed under the destination's
// key, and stored unless the destination has it; trees and table pages,
// which name blobs by ID, are written anew with the destination's IDs.
//
// Words: a copy is the destination's snapshot of a source snapshot; its
// origin is the source snapshot's `original`, or its ID when it has none,
// which the copy records as its own `original`. A source snapshot whose
// origin the destination already holds is skipped. A new snapshot's
// reference is a source snapshot like it (its parent) whose copy the
// destination holds: walking both trees side by side pairs their blobs
// (pair.go), so what the new snapshot shares with it is not read again.
package copier
