package postgres

import (
	"database/sql"

	"github.com/jackc/pgx/v5/stdlib"

	"strata/dbexport"
)

// Inspector opens a database/sql handle on d for restore drills (package
// verify), which query the restored tables with plain SQL.
type Inspector struct{ db *sql.DB }

// OpenInspector connects to d.
func OpenInspector(d dbexport.DSN, opts Options) (*Inspector, error) {
	cfg, _, err := connConfig(d, opts)
	if err != nil {
		return nil, err
	}
	return &Inspector{db: stdlib.OpenDB(*cfg)}, nil
}

// DB is the handle.
func (in *Inspector) DB() *sql.DB { return in.db }

// QuotedTableName is schema.name, quoted, after ONLY but for a
// partitioned table: the rows of a table that others inherit from are
// its own, as the snapshot holds them, and a partitioned table's are its
// partitions'.
func (in *Inspector) QuotedTableName(t *dbexport.Table) string {
	if len(t.Partitions) > 0 {
		return tableIdent(t)
	}
	return "ONLY " + tableIdent(t)
}

// Quote quotes a column name.
func (in *Inspector) Quote(name string) string { return ident(name) }

// Close closes the handle.
func (in *Inspector) Close() error { return in.db.Close() }
