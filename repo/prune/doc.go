// Package prune reclaims the space of blobs no snapshot needs any more.
//
// It sits above package repo: it marks every blob reachable from the
// remaining snapshots (content, trees and the delta bases they are stored
// against), deletes packs that hold no used blob, copies the used blobs of
// mostly unused packs into new packs as they are stored (no decompression,
// no re-encryption), writes a new index that supersedes the old one, and
// only then deletes the old index files and packs. The order makes a kill
// at any moment safe: docs/design.md, "prune", says why.
//
// Words: a used blob is reachable from a snapshot; a base-only blob is used
// only because a used delta blob is stored against it; a pack is kept,
// repacked or deleted; an unindexed pack is one no index file names (left
// by a killed backup).
package prune
