// Package sqlite is strata's SQLite engine (the embedded default, on the
// pure-Go modernc.org/sqlite): a Source reads every table inside one read
// transaction, which on a WAL database sees one point in time while
// writers continue, through SQLite's C API on connections of its own (see
// conn); with Options.Jobs above 1, further connections that see the
// same state join it and read tables side by side (see join). A Target
// writes a snapshot of any engine into a SQLite file in one transaction
// through database/sql, mapping types for snapshots of other engines
// (docs/design.md, "Cross-engine restore"). Rows are written as typed
// COPY text (docs/design.md, "Typed values"), each value with its storage
// class, and a rowid table's hidden rowid as a first column, so a SQLite
// snapshot restores into SQLite exactly (docs/design.md, "SQLite").
package sqlite
