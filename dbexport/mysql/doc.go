// Package mysql is the MySQL and MariaDB engine of dbexport: a Source
// that reads one consistent snapshot of a database, and a Target that
// restores a snapshot's tables into a database. It sits below dbexport's
// backup and knows nothing of repositories or the command line.
// docs/design.md ("MySQL and MariaDB") describes it in full; this is
// the summary.
//
// Export. Open starts a REPEATABLE READ transaction WITH CONSISTENT
// SNAPSHOT on one connection, and Schema and CopyOut take turns on it.
// InnoDB tables are thus read as of Open; tables of engines without
// transactions (MyISAM, Aria, MEMORY) are read when CopyOut reaches them,
// and their Table.Consistent is false, with a warning. CopyOut writes the
// rows in COPY text ordered by primary key: text as the server prints it,
// binary and spatial values as bytea hex, floats as the shortest decimal
// that reads back as the same float, BIT as an integer, TIMESTAMP in UTC.
//
// Schema. Table.DDL is SHOW CREATE TABLE without its foreign keys and its
// AUTO_INCREMENT=N option; PostDDL adds both back (ALTER TABLE ... ADD
// CONSTRAINT, ALTER TABLE ... AUTO_INCREMENT = N). Views, triggers,
// routines and events (Schema.Views and Schema.Objects) keep their
// DEFINER and the session settings (sql_mode, character sets, collations,
// time zone) they were created under. Schema.Grants are the privileges
// accounts and roles hold on the database (granted on it, through the
// wildcard pattern the server applies to it, or globally), on its tables,
// columns and routines. Schema.Binlog is the binary log position of the
// read snapshot.
//
// Restore. With foreign key checks off, each table is dropped if it
// exists, created, and loaded with batched multi-row INSERTs in one
// transaction; then PostDDL runs and the table's triggers are created;
// a whole restore then creates the routines, the views and the events,
// each under its own settings (Options.NoDefiner leaves the DEFINER
// out), and the grants, each on the target database alone, to the
// accounts the target has (Options.NoPrivileges: none). MySQL cannot roll back DDL: a failed restore leaves the tables
// before the failing one in place, and the error names the failing
// table. Only snapshots of MySQL or MariaDB are restored
// (ErrCrossEngine).
//
// Passwords come from the DSN, else MYSQL_PWD, else Options.PasswordFile;
// they reach the driver in its Config, and errors name the DSN without
// them.
//
// Words: those of dbexport, plus codec (how one column's values are
// selected, written as COPY text and read back) and read snapshot (the
// server's consistent view that Open starts; a snapshot without
// qualifier is the repository's).
package mysql
