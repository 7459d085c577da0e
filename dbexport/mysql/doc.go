// Package mysql is the MySQL and MariaDB engine of dbexport: a Source
// that reads one consistent snapshot of a database, and a Target that
// restores a snapshot's tables into a database. It sits below dbexport's
// backup and knows nothing of repositories or the CLI. docs/parts/mysql.md
// describes what it does; this is the summary.
//
// Export. Open starts a REPEATABLE READ transaction WITH CONSISTENT
// SNAPSHOT on one connection, and Schema and CopyOut read through it in
// turn. InnoDB tables are thus read as of Open; tables of engines without
// transactions (MyISAM, Aria, MEMORY) are read when CopyOut reaches them,
// and their Table.Consistent is false with a warning. CopyOut writes rows
// in COPY text (dbexport's canonical row encoding) ordered by primary key:
// text as the server prints it, binary and spatial values as bytea hex,
// floats as the shortest decimal that reads back the same float, BIT as
// an integer, TIMESTAMP in UTC.
//
// Schema. Table.DDL is SHOW CREATE TABLE without its foreign keys and
// its AUTO_INCREMENT=N option; PostDDL adds them back (ALTER TABLE ... ADD
// CONSTRAINT, ALTER TABLE ... AUTO_INCREMENT = N) and creates the
// triggers. Views and triggers lose their DEFINER. Generated columns are
// in the DDL but not in Columns or the rows.
//
// Restore. With foreign key checks off, each table is dropped if it
// exists, created, and loaded with batched multi-row INSERTs in one
// transaction; then PostDDL runs and views are created. MySQL cannot roll
// back DDL, so a failed restore leaves the tables before the failing one
// in place; the error names the failing table. Only snapshots of MySQL or
// MariaDB are restored (ErrCrossEngine otherwise).
//
// Passwords come from the DSN, else MYSQL_PWD, else Options.PasswordFile,
// and go to the driver in its Config; errors name the DSN without it.
//
// Words: as in dbexport, plus snapshot (the server's consistent read
// view, not a repository snapshot, where the two could be confused:
// "read snapshot"), PostDDL, codec (how one column's values are written
// and read back).
package mysql
