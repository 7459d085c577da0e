package postgres

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"strata/dbexport"
)

// errCopyEnded stops a TableData.Rows writer once COPY has ended early.
var errCopyEnded = errors.New("COPY ended before all rows were written")

// freezeMode says whether copyIn loads the rows frozen (COPY ... WITH
// (FREEZE)): already marked visible to every transaction, so that neither
// the index builds nor the first reads rewrite every page to set its
// hint bits. PostgreSQL allows it only on a plain table created or
// emptied in the loading transaction, whose rows no other transaction
// can see before it commits.
type freezeMode int

const (
	noFreeze freezeMode = iota
	// freezeCreated: the loading transaction created the table.
	freezeCreated
	// freezeTruncate: this restore created the table, empty, in a
	// transaction committed before: the loading transaction empties it
	// again (TRUNCATE, in a savepoint: where the restoring role may not,
	// the rows load unfrozen).
	freezeTruncate
)

// copyIn loads td's rows into its freshly created table with COPY FROM
// STDIN, streaming them through a pipe. Generated columns cannot be
// written by COPY, so their fields are dropped from each row on the way.
// With a freeze mode other than noFreeze, a plain table (not a
// partitioned or foreign one) loads frozen.
func copyIn(ctx context.Context, tx pgx.Tx, td dbexport.TableData, freeze freezeMode) error {
	conn := tx.Conn()
	q := tableIdent(td.Table)
	rows, err := conn.Query(ctx, `SELECT a.attname, a.attgenerated <> '', c.relkind = 'r'
		FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
		WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, q)
	if err != nil {
		return err
	}
	var cols []string
	var drop []bool
	var name string
	var generated, plain bool
	if _, err := pgx.ForEachRow(rows, []any{&name, &generated, &plain}, func() error {
		drop = append(drop, generated)
		if !generated {
			cols = append(cols, ident(name))
		}
		return nil
	}); err != nil {
		return err
	}
	frozen := freeze != noFreeze && plain
	if frozen && freeze == freezeTruncate {
		frozen = inSavepoint(ctx, tx, "strata_truncate", func() error {
			_, err := tx.Exec(ctx, "TRUNCATE TABLE ONLY "+q)
			return err
		}) == nil
		if err := ctx.Err(); err != nil {
			return err
		}
	}

	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		var w io.Writer = pw
		var fd *fieldDropper
		if len(cols) < len(drop) {
			fd = &fieldDropper{w: pw, drop: drop}
			w = fd
		}
		err := td.Rows(ctx, w)
		if err == nil && fd != nil {
			err = fd.flush(true)
		}
		pw.CloseWithError(err) // nil: COPY reads EOF
		done <- err
	}()
	sql := "COPY " + q + " FROM STDIN"
	if len(cols) > 0 {
		sql = "COPY " + q + " (" + strings.Join(cols, ", ") + ") FROM STDIN"
	}
	if frozen {
		sql += " WITH (FREEZE)"
	}
	_, err = conn.PgConn().CopyFrom(ctx, pr, sql)
	pr.CloseWithError(errCopyEnded)
	rowsErr := <-done
	if rowsErr != nil && !errors.Is(rowsErr, errCopyEnded) {
		return rowsErr
	}
	return err
}

// fieldDropper removes the fields marked in drop from each COPY text row.
// Fields are split at tabs, which COPY text escapes inside a field.
type fieldDropper struct {
	w    io.Writer
	drop []bool
	line []byte // the unfinished row
	out  []byte
}

func (f *fieldDropper) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			f.line = append(f.line, p...)
			break
		}
		f.line = append(f.line, p[:i]...)
		f.keep()
		p = p[i+1:]
	}
	if len(f.out) >= copyBuffer {
		if err := f.flush(false); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// keep appends the kept fields of f.line, and a newline, to f.out.
func (f *fieldDropper) keep() {
	first := true
	for i, field := range dbexport.SplitRow(f.line) {
		if i < len(f.drop) && f.drop[i] {
			continue
		}
		if !first {
			f.out = append(f.out, '\t')
		}
		first = false
		f.out = append(f.out, field...)
	}
	f.out = append(f.out, '\n')
	f.line = f.line[:0]
}

// flush writes out what is ready; at the end, a last row that lacks its
// newline too.
func (f *fieldDropper) flush(end bool) error {
	if end && len(f.line) > 0 {
		f.keep()
	}
	_, err := f.w.Write(f.out)
	f.out = f.out[:0]
	return err
}
