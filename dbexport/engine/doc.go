// Package engine is the table of database engines strata backs up and
// restores: which dbexport.Source and dbexport.Target a DSN names, chosen
// by the DSN's scheme (postgres://, mysql://, sqlite: or a file path
// given as sqlite:PATH; see dbexport.ParseDSN for the aliases).
//
// It sits above the engine packages (dbexport/postgres, mysql, sqlite),
// which it imports, and below the workflows and the CLI, which open
// databases only through it.
//
// Words: engine (dbexport.EngineSQLite, EnginePostgres, EngineMySQL),
// source (a consistent read snapshot of a database), target (a database
// a restore writes into), plan target (a dry run's read-only target).
package engine
