package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"strata/dbexport"
)

// This file loads the re-created tables of a restore on Options.Jobs
// connections side by side, each table created without its secondary
// keys, which are added once its rows are in (docs/design.md, "MySQL and
// MariaDB", "Restore"), as myloader and the tools around mysqldump do:
// one sort per index instead of a B-tree insert per row and index.

// deferKeysMinRows is the least rows a table must hold in the snapshot
// for its secondary keys to be added after the rows: for a smaller table
// the ALTER TABLE costs more than keeping the keys while loading.
const deferKeysMinRows = 10000

// splitKeys returns the CREATE TABLE of tab without its plain and unique
// secondary keys, and the ALTER TABLE that adds them back (empty when
// there is none). Kept in the CREATE: the primary key, FULLTEXT and
// SPATIAL keys (InnoDB builds only one FULLTEXT key per ALTER, and the
// first rebuilds the table), and any key on the AUTO_INCREMENT column,
// which must be indexed from the start.
func splitKeys(tab *dbexport.Table) (create, addKeys string, err error) {
	ct, err := parseCreateTable(tab.DDL)
	if err != nil {
		return "", "", err
	}
	autoCol := ""
	for _, it := range ct.items {
		if strings.HasPrefix(it, "`") && indexTopLevel(it, " AUTO_INCREMENT", 0) > 0 {
			autoCol = it[:skipQuoted(it, 0)]
		}
	}
	var kept, moved []string
	for _, it := range ct.items {
		if isSecondaryKey(it) && (autoCol == "" || firstKeyColumn(it) != autoCol) {
			moved = append(moved, "ADD "+it)
			continue
		}
		kept = append(kept, it)
	}
	if len(moved) == 0 {
		return tab.DDL, "", nil
	}
	ct.items = kept
	return ct.String(), "ALTER TABLE " + quoteIdent(tab.Name) + " " + strings.Join(moved, ", "), nil
}

// isSecondaryKey reports whether a definition of SHOW CREATE TABLE is a
// plain or unique key: "KEY `k` (...)", "UNIQUE KEY `k` (...)".
func isSecondaryKey(item string) bool {
	return strings.HasPrefix(item, "KEY ") || strings.HasPrefix(item, "UNIQUE KEY ")
}

// firstKeyColumn returns the first column of a key definition, quoted.
func firstKeyColumn(item string) string {
	i := indexTopLevel(item, "(", 0)
	if i < 0 || i+1 >= len(item) || item[i+1] != '`' {
		return ""
	}
	return item[i+1 : skipQuoted(item, i+1)]
}

// loadTables drops, creates and loads each table on up to jobs
// connections, the largest tables first, and adds the secondary keys of
// each once its rows are in. The first failure stops the others and
// names its table; tables already loaded stay, as MySQL cannot roll back
// DDL.
func (t *Target) loadTables(ctx context.Context, tables []dbexport.TableData) error {
	order := append([]dbexport.TableData(nil), tables...)
	sort.SliceStable(order, func(i, j int) bool { return order[i].Table.Rows > order[j].Table.Rows })
	jobs := min(max(t.opts.Jobs, 1), len(order))
	g, ctx := errgroup.WithContext(ctx)
	work := make(chan dbexport.TableData)
	g.Go(func() error {
		defer close(work)
		for _, td := range order {
			select {
			case work <- td:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for range jobs {
		g.Go(func() error {
			conn, err := t.db.Conn(ctx)
			if err != nil {
				return fmt.Errorf("connect to %s: %w", t.dsn, err)
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, "SET FOREIGN_KEY_CHECKS = 0"); err != nil {
				return err
			}
			// The connection goes back to the pool; it must not keep
			// the checks off.
			defer conn.ExecContext(context.WithoutCancel(ctx), "SET FOREIGN_KEY_CHECKS = 1")
			for td := range work {
				if err := t.loadTable(ctx, conn, td); err != nil {
					return fmt.Errorf("restore table %s: %w; the tables restored before it stay, as MySQL cannot roll back DDL", td.Table.Name, err)
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// loadTable re-creates and loads one table, its secondary keys added
// after the rows when it is large enough.
func (t *Target) loadTable(ctx context.Context, conn *sql.Conn, td dbexport.TableData) error {
	create, addKeys := td.Table.DDL, ""
	if td.Table.Rows >= deferKeysMinRows {
		var err error
		if create, addKeys, err = splitKeys(td.Table); err != nil {
			return err
		}
	}
	if err := t.restoreTable(ctx, conn, td, create); err != nil {
		return err
	}
	if addKeys != "" {
		if _, err := conn.ExecContext(ctx, addKeys); err != nil {
			return fmt.Errorf("add the secondary keys after the rows: %w", err)
		}
	}
	return nil
}
