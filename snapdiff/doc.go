// Package snapdiff compares two snapshots: the rows of two table
// snapshots, by primary key (tables without one: by whole row), and the
// files of two file snapshots, as restic diff does. It sits above
// dbexport and repo; the CLI (strata diff), and later a daemon or a
// dashboard, call it and format its changes.
//
// A table's rows are stored in key order, cut into chunks whose first
// keys its chunk list records (docs/design.md, "Chunks, the key index and
// delta bases", "Table pages"). The diff walks both chunk lists side by
// side, passes over chunks the two snapshots share without loading them,
// and decodes only the ranges of chunks that differ, each aligned by a
// first key both sides have (docs/design.md, "Diff").
//
// Words: side A (the older snapshot, "before") and side B ("after"); a
// range is a run of chunks of A and of B that hold the same keys; a
// change is one row inserted, updated or deleted.
package snapdiff
