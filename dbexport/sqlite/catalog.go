package sqlite

import (
	"context"
	"fmt"
	"strings"

	"strata/dbexport"
)

// tableKind is what PRAGMA table_list says of a table: its type (table,
// virtual or shadow: a table a virtual table keeps its data in) and
// whether it is a WITHOUT ROWID table.
type tableKind struct {
	kind         string
	withoutRowID bool
}

// tableKinds reads PRAGMA table_list of the main schema.
func tableKinds(ctx context.Context, c *conn) (map[string]tableKind, error) {
	kinds := map[string]tableKind{}
	err := c.query(ctx, `SELECT name, type, wr FROM pragma_table_list WHERE schema = 'main'`, func(r *row) error {
		kinds[r.string(0)] = tableKind{kind: r.string(1), withoutRowID: r.int64(2) != 0}
		return nil
	})
	return kinds, err
}

// hasRowIDAlias says whether t's primary key is its rowid
// (https://sqlite.org/lang_createtable.html#rowid): a single column
// declared INTEGER, and no index behind the key. "x INTEGER PRIMARY KEY
// DESC" is SQLite's exception: the key then has an index of its own
// (origin pk) and the rowid is another number.
func hasRowIDAlias(ctx context.Context, c *conn, t *dbexport.Table) (bool, error) {
	if len(t.PrimaryKey) != 1 {
		return false, nil
	}
	integer := false
	for _, col := range t.Columns {
		if strings.EqualFold(col.Name, t.PrimaryKey[0]) {
			integer = strings.EqualFold(col.Type, "INTEGER")
		}
	}
	if !integer {
		return false, nil
	}
	var indexed int64
	err := c.query(ctx, fmt.Sprintf(`SELECT count(*) FROM pragma_index_list(%s) WHERE origin = 'pk'`, quoteString(t.Name)), func(r *row) error {
		indexed = r.int64(0)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("reading the indexes of %s: %w", t.Name, err)
	}
	return indexed == 0, nil
}

// rowIDAliases are the names SQLite reads a rowid by, unless a column has
// the name.
var rowIDAliases = []string{"rowid", "_rowid_", "oid"}

// addRowID makes the hidden rowid of a rowid table the first column of
// its rows, under the first alias no column (hidden and generated ones
// included) has taken, so a restore writes each row with its rowid. A
// table without a primary key is then keyed and ordered by it. With every
// alias taken the rowid cannot be read; t is left as it is and added is
// false.
func addRowID(ctx context.Context, c *conn, t *dbexport.Table) (added bool, err error) {
	taken := map[string]bool{}
	err = c.query(ctx, fmt.Sprintf(`SELECT lower(name) FROM pragma_table_xinfo(%s)`, quoteString(t.Name)), func(r *row) error {
		taken[r.string(0)] = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("reading columns of %s: %w", t.Name, err)
	}
	for _, alias := range rowIDAliases {
		if taken[alias] {
			continue
		}
		col := dbexport.Column{Name: alias, Type: "INTEGER", NotNull: true, Kind: dbexport.KindInt, RowID: true}
		t.Columns = append([]dbexport.Column{col}, t.Columns...)
		if len(t.PrimaryKey) == 0 {
			t.PrimaryKey = []string{alias}
		}
		return true, nil
	}
	return false, nil
}

// contentless says whether a virtual table's DDL makes an FTS table that
// keeps no copy of its text (content set to the empty string), whose
// rows read as NULLs.
func contentless(ddl string) bool {
	d := strings.ReplaceAll(strings.ToLower(ddl), " ", "")
	return strings.Contains(d, "content=''") || strings.Contains(d, `content=""`)
}

// fts5Settings returns the settings (rank, automerge, ...) an FTS5
// table keeps in its shadow table NAME_config beyond its version, which
// a backup leaves out with the other shadow tables.
func fts5Settings(ctx context.Context, c *conn, name string, kinds map[string]tableKind) ([]string, error) {
	config := name + "_config"
	if kinds[config].kind != "shadow" {
		return nil, nil
	}
	var keys []string
	err := c.query(ctx, fmt.Sprintf(`SELECT k FROM %s WHERE k != 'version' ORDER BY k`, quoteIdent(config)), func(r *row) error {
		keys = append(keys, r.string(0))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", config, err)
	}
	return keys, nil
}

// statistics warns of what ANALYZE keeps in sqlite_stat tables, which a
// backup leaves out (a restore is analysed anew).
func statistics(ctx context.Context, c *conn, warn func(string)) error {
	var stats []string
	if err := c.query(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'sqlite\_stat%' ESCAPE '\' ORDER BY name`, func(r *row) error {
		stats = append(stats, r.string(0))
		return nil
	}); err != nil {
		return fmt.Errorf("reading the catalog: %w", err)
	}
	if len(stats) > 0 {
		warn(fmt.Sprintf("the statistics of ANALYZE (%s) are not saved: run ANALYZE after a restore", strings.Join(stats, ", ")))
	}
	return nil
}
