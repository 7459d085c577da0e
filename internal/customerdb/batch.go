package customerdb

import (
	"context"
	"database/sql"
	"strings"
)

// batchRows is how many customers one multi-row INSERT carries during
// Build: far fewer statements than rows is what makes a 800,000-row build
// fast.
const batchRows = 64

// batch collects rows for a multi-row INSERT of one table.
type batch struct {
	ctx    context.Context
	tx     *sql.Tx
	prefix string // insert into ... values
	row    string // (?, ?, ...)
	size   int    // rows per full statement
	full   *sql.Stmt
	args   []any
	rows   int
}

// newBatch turns a single-row INSERT ending in "values (?, ...)" into a batch.
func newBatch(ctx context.Context, tx *sql.Tx, insert string, size int) *batch {
	i := strings.LastIndex(insert, "(")
	return &batch{ctx: ctx, tx: tx, prefix: insert[:i], row: insert[i:], size: size}
}

func (b *batch) statement(rows int) string {
	return b.prefix + strings.TrimSuffix(strings.Repeat(b.row+", ", rows), ", ")
}

func (b *batch) add(vals ...any) error {
	b.args = append(b.args, vals...)
	b.rows++
	if b.rows < b.size {
		return nil
	}
	if b.full == nil {
		st, err := b.tx.PrepareContext(b.ctx, b.statement(b.size))
		if err != nil {
			return err
		}
		b.full = st
	}
	_, err := b.full.ExecContext(b.ctx, b.args...)
	b.args, b.rows = b.args[:0], 0
	return err
}

// flush writes the rows collected so far and releases the statement.
func (b *batch) flush() error {
	var err error
	if b.rows > 0 {
		_, err = b.tx.ExecContext(b.ctx, b.statement(b.rows), b.args...)
		b.args, b.rows = b.args[:0], 0
	}
	if b.full != nil {
		b.full.Close()
		b.full = nil
	}
	return err
}
