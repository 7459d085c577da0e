// Package mount serves a repository's snapshots as a read-only FUSE file
// system (strata mount): views of the snapshots by time, tier, tag, host
// and ID, each table of a database snapshot as a folder of its rows in
// TSV, CSV and JSON Lines with its schema and facts, and the files and
// streams of other snapshots as they were saved (docs/design.md,
// "Mount").
//
// Its layer is above repo and dbexport: it reads snapshots, trees, pages
// and data blobs through a repo.Repository, converts rows with
// dbexport.RowFormat, and knows nothing of the CLI.
//
// Words: view (a folder that lists snapshots: snapshots, tiers/<tier>,
// tags/<tag>, hosts/<host>, ids), snapshot name (its time in UTC without
// colons, 2025-06-02T03-00-00Z, with its short ID appended when another
// snapshot has the same second), catalog (the snapshots the mount shows,
// listed again when older than Options.Refresh), stored file (its bytes
// are a node's chunks: exact size, random reads by chunk offsets) and
// converted file (rows converted as they are read: CSV, JSON Lines, and
// TSV of SQLite's typed rows).
package mount
