// Package audit keeps the repository's audit trail (docs/design.md, "The
// audit trail"): one write-once, sealed record per command that changed the
// repository or restored from it, saying when it ran, on which host, as
// which user, with which command line (secrets masked by the caller with
// package redact), with which result and on which snapshots.
//
// Records are files audit/<seq>-<file ID>, sealed with the master key like
// snapshot files. Each record names the records the writer found with the
// highest sequence number (its predecessors), so the records form a chain,
// or a graph where writers ran at the same time; Verify reads every record
// and reports a damaged one, a named predecessor that is gone, and a
// sequence number with no record, each by file name.
//
// Layer: audit sits beside repo, on backend (the storage), crypto (the
// master key, through pack.Sealer), pack (IDs) and redact (NewRecord and
// SetResult mask secrets); it knows nothing of the repository handle, the
// CLI or the commands. The CLI (and a daemon running the same workflows)
// builds a record with NewRecord, AddSnapshots and SetResult, and appends
// it with Log.Append. Nothing in strata removes an
// audit record: not forget, prune, repair, nor copy (which does not copy
// them).
//
// Words: record, sequence number (seq), predecessor, head (a record no
// other names), result, the audit trail (all records).
package audit
