// Package verify checks a repository for damage (docs/design.md, "check"):
// that the index files open, that every pack the index names is stored and
// has a header matching the index, that every snapshot opens and every tree
// and data blob it references is indexed, that every copy of every tree
// verifies, and, when asked to read data,
// that every pack hashes to its name and every blob decrypts to a
// plaintext with its ID.
//
// Check never stops at the first problem: each one becomes a finding, a
// typed error that carries the IDs of the pack, blob and snapshots it
// concerns, so that the CLI can print it and a program can act on it.
// Report.WhatToDo turns the findings into the steps that fix them (repair
// index, repair packs, repair snapshots, prune). Check returns an error only when it
// could not run at all.
//
// Layer: verify sits above repo and uses it, its backend, pack and index;
// nothing below imports it. Only cmd/strata turns findings into exit codes.
//
// Words (docs/design.md): finding, severity (error or notice), pack, header,
// index file, blob, delta blob, base, tree, snapshot, subset (the part of
// the packs whose data is read), unreferenced pack (stored but named by no
// index file), lost blob (no intact copy of it can be loaded), tree copy,
// step (one thing to do about the findings).
package verify
