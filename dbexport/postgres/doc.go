// Package postgres is the PostgreSQL engine of dbexport: a Source that
// reads one consistent snapshot of a database and a Target that restores
// tables into one. It talks to the server with pgx and the COPY protocol
// both ways. docs/design.md ("PostgreSQL") describes what it does in
// full; in short:
//
//   - Open starts a REPEATABLE READ READ ONLY transaction, locks the
//     tables in ACCESS SHARE mode, and exports its snapshot; with
//     Options.Jobs > 1, worker connections import it (as pg_dump -j does),
//     and CopyOut calls run on whichever connection is free.
//   - Schema reads the catalog inside the snapshot and builds each table's
//     DDL (CREATE TABLE with columns, defaults, NOT NULL, identity and
//     generated columns, primary key, unique, check and exclusion
//     constraints) and PostDDL (indexes, sequence ownership and positions,
//     then foreign keys), the views and the free sequences.
//   - SchemaArchive runs pg_dump --schema-only --format=custom on the
//     exported snapshot (archive.go, tools.go); without a usable pg_dump
//     the backup warns what it does not save.
//   - CopyOut runs COPY (SELECT ... ORDER BY primary key) TO STDOUT with
//     session settings that make the text canonical.
//   - Target.Restore recreates the tables, loads them with COPY FROM STDIN
//     and finishes them, all in one transaction. A restore of every table
//     into a database that lacks them takes the schema from the archive
//     instead (archiverestore.go): pg_restore renders it as SQL, split
//     per entry (toc.go, archiverender.go), and strata runs the pre-data,
//     loads the rows, runs the post-data, refreshes materialized views
//     and sets sequences; with Options.Jobs > 1 on several connections. It only takes snapshots
//     of PostgreSQL databases: restoring a SQLite or MySQL snapshot into
//     PostgreSQL is not supported yet.
//
// Words: schema archive (the pg_dump archive of a snapshot), entry (one
// item of its table of contents), rendering (pg_restore's SQL of it),
// snapshot (the exported transaction snapshot every connection of a
// Source shares), snapshot connection, owned sequence (one a column owns:
// serial or identity; it travels with its table), free sequence (any other
// one; it is in dbexport.Schema.Sequences).
package postgres
