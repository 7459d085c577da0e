// Package sqlite is strata's SQLite engine (the embedded default, with the
// pure-Go modernc.org/sqlite driver): a Source reads every table inside one
// read transaction, which on a WAL database sees one point in time while
// writers continue; a Target writes a snapshot of any engine into a SQLite
// file in one transaction, mapping types for snapshots of other engines
// (docs/design.md, "Cross-engine restore").
package sqlite
