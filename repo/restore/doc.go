// Package restore reads a snapshot's trees back out of a repository: it
// restores them into a folder (Restore), writes one node to a stream as its
// bytes or as a tar archive (Dump), and lists them (Walk, FindNode). It sits
// above package repo and below the CLI; it needs only the two loads of
// BlobLoader, which *repo.Repository provides.
//
// Words (docs/design.md): snapshot, tree, node (file, dir, symlink, stream,
// table), blob, data blob, subtree. A snapshot path is the slash-separated
// path of a node from the root tree, "/tmp/data/a.csv"; the root itself is
// "/". The target is the folder a restore writes into.
//
// Restore never leaves a partial file under its real name: each file is
// written to a temporary name beside it (".strata-restore-<name>-<random>")
// and renamed once all its blobs were loaded, verified and written, and its
// mode and modification time set. The order of operations is in
// docs/design.md, "Restore".
package restore
