package mysql

import (
	"database/sql"

	"strata/dbexport"
)

// Inspector is a plain handle on a restored database, for restore drills
// (verify.Inspector): they count rows, duplicate keys, orphans and CHECK
// failures with their own queries.
type Inspector struct{ db *sql.DB }

// OpenInspector opens a handle on the database d names, with the session
// settings of every other connection of this package.
func OpenInspector(d dbexport.DSN, o Options) (*Inspector, error) {
	db, err := openDB(d, o)
	if err != nil {
		return nil, err
	}
	return &Inspector{db: db}, nil
}

// DB is the handle.
func (in *Inspector) DB() *sql.DB { return in.db }

// QuotedTableName is the table's name, quoted: a snapshot of MySQL holds
// one database, restored into the handle's.
func (in *Inspector) QuotedTableName(t *dbexport.Table) string { return quoteIdent(t.Name) }

// Quote quotes a column name.
func (in *Inspector) Quote(name string) string { return quoteIdent(name) }

// Close closes the handle.
func (in *Inspector) Close() error { return in.db.Close() }
