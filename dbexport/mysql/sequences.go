package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"strata/dbexport"
)

// This file restores MariaDB sequences (docs/design.md, "MySQL and
// MariaDB", "Restore"), before the tables: a CREATE TABLE whose DEFAULT
// calls nextval(seq) fails when seq does not exist.

// sequencesNeeded returns the snapshot's sequences a restore creates: all
// of them for a whole restore, else those the DDL of a table it
// re-creates names (a DEFAULT nextval(`seq`), after the source's
// database name was taken out at backup).
func sequencesNeeded(s *dbexport.Schema, recreate []dbexport.TableData, whole bool) []dbexport.Sequence {
	if whole {
		return s.Sequences
	}
	var out []dbexport.Sequence
	for _, seq := range s.Sequences {
		for _, td := range recreate {
			if namesSequence(td.Table.DDL, seq.Name) {
				out = append(out, seq)
				break
			}
		}
	}
	return out
}

// namesSequence reports whether ddl calls one of MariaDB's sequence
// functions on the sequence name of the same database.
func namesSequence(ddl, name string) bool {
	for _, fn := range []string{"nextval(", "lastval(", "setval("} {
		if strings.Contains(ddl, fn+quoteIdent(name)) {
			return true
		}
	}
	return false
}

// restoreSequences creates each of seqs the target lacks and sets it to
// the snapshot's position, as mysqldump's DROP SEQUENCE, CREATE SEQUENCE
// and SETVAL do. One the target has is re-created so only by a whole
// restore with replace; otherwise it is kept as it is, values handed out
// since the snapshot included, and a notice says so.
func (c *creator) restoreSequences(ctx context.Context, seqs []dbexport.Sequence, whole, replace bool) error {
	for _, seq := range seqs {
		var kind string
		err := c.conn.QueryRowContext(ctx, `SELECT TABLE_TYPE FROM information_schema.TABLES
			WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`, seq.Name).Scan(&kind)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("sequence %s: look it up: %w", seq.Name, err)
		case kind == "SEQUENCE" && whole && replace:
			if _, err := c.conn.ExecContext(ctx, "DROP SEQUENCE "+quoteIdent(seq.Name)); err != nil {
				return fmt.Errorf("sequence %s: %w", seq.Name, err)
			}
		case kind == "SEQUENCE":
			c.notify(fmt.Sprintf("sequence %s is kept as the target has it, not set to the snapshot's position (a restore of every table with replace re-creates it)", seq.Name))
			continue
		default:
			return fmt.Errorf("sequence %s: the target holds a %s of that name (drop or rename it)", seq.Name, strings.ToLower(kind))
		}
		if _, err := c.conn.ExecContext(ctx, seq.DDL); err != nil {
			return fmt.Errorf("sequence %s: create: %w", seq.Name, err)
		}
		setval := fmt.Sprintf("DO SETVAL(%s, %d, 0, %d)", quoteIdent(seq.Name), seq.Value, seq.Round)
		if _, err := c.conn.ExecContext(ctx, setval); err != nil {
			return fmt.Errorf("sequence %s: %s: %w", seq.Name, setval, err)
		}
	}
	return nil
}
