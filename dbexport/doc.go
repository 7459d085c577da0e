// Package dbexport saves database tables into a repository and restores
// them. Engines live in sub-packages (sqlite, postgres, mysql); each opens
// one consistent read snapshot (Source) and writes tables back (Target).
// This package is engine-neutral: the schema model, the canonical row
// encoding (PostgreSQL's COPY text format, one row per line, rows ordered
// by primary key) and its typed form, in which each field also says its
// storage class (typed.go: SQLite, whose values need not have their
// column's type), DSN parsing, and the backup of a Source into table
// nodes whose chunks are cut at row boundaries and stored as delta blobs
// against their predecessor in the parent snapshot. It also says which
// snapshot "latest" means for a database (PickSnapshot): snapshots belong
// to the database their source key names (DSN.SourceKey), so a restore,
// drill or dump never takes another database's rows by accident.
//
// Words: engine, source, source key (the normalised, password-free name
// of a database), target, table, column, schema, row (one line of COPY
// text), row encoding, typed value, storage class, first key, chunk index
// (repo.ChunkInfo), parent snapshot.
package dbexport
