package postgres

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"strata/dbexport"
)

// copyBuffer batches COPY's one-message-per-row writes.
const copyBuffer = 64 << 10

// CopyOut writes t's rows in COPY text format (docs/design.md, "Table
// exports"), ordered by primary key, or by all columns when t has none,
// and returns how many it wrote. It runs on a free snapshot connection, so
// several calls may run at once, up to Options.Jobs.
func (s *Source) CopyOut(ctx context.Context, t *dbexport.Table, w io.Writer) (int64, error) {
	c, err := s.acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer s.release(c)
	query, err := s.copyQuery(ctx, c, t)
	if err != nil {
		return 0, fmt.Errorf("postgres: export %s from %s: %w", t.QualifiedName(), s.dsn.String(), err)
	}
	bw := bufio.NewWriterSize(w, copyBuffer)
	tag, err := c.PgConn().CopyTo(ctx, bw, query)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: export %s from %s: %w", t.QualifiedName(), s.dsn.String(), err)
	}
	return tag.RowsAffected(), nil
}

// copyQuery builds COPY (SELECT cols FROM t ORDER BY key) TO STDOUT. The
// columns are listed rather than *, so the fields match t.Columns.
func (s *Source) copyQuery(ctx context.Context, c *pgx.Conn, t *dbexport.Table) (string, error) {
	var kind string
	err := c.QueryRow(ctx, `SELECT c.relkind::text FROM pg_catalog.pg_class c
		WHERE c.oid = pg_catalog.to_regclass($1)`, tableIdent(t)).Scan(&kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("no such table in the snapshot")
	} else if err != nil {
		return "", err
	}
	cols := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		cols[i] = ident(col.Name)
	}
	order, err := s.orderBy(ctx, c, t)
	if err != nil {
		return "", err
	}
	q := "COPY (SELECT " + strings.Join(cols, ", ") + " FROM " + fromClause(kind == "p", t)
	if len(order) > 0 { // a table may have no columns, and empty rows
		q += " ORDER BY " + strings.Join(order, ", ")
	}
	return q + ") TO STDOUT", nil
}

// orderBy returns the ORDER BY terms: the primary key's columns, whose
// types always have a btree ordering; without a primary key every column,
// cast to text where its type has no ordering (json, xml, point...).
func (s *Source) orderBy(ctx context.Context, c *pgx.Conn, t *dbexport.Table) ([]string, error) {
	if len(t.PrimaryKey) > 0 {
		order := make([]string, len(t.PrimaryKey))
		for i, k := range t.PrimaryKey {
			order[i] = ident(k)
		}
		return order, nil
	}
	rows, err := c.Query(ctx, `SELECT attname, atttypid FROM pg_catalog.pg_attribute
		WHERE attrelid = pg_catalog.to_regclass($1) AND attnum > 0 AND NOT attisdropped`, tableIdent(t))
	if err != nil {
		return nil, err
	}
	typeOf := map[string]uint32{}
	var name string
	var oid uint32
	if _, err := pgx.ForEachRow(rows, []any{&name, &oid}, func() error {
		typeOf[name] = oid
		return nil
	}); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.types == nil {
		ti, err := loadTypeInfo(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("load type catalog: %w", err)
		}
		s.types = ti
	}
	order := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		order[i] = ident(col.Name)
		if !s.types.orderable(typeOf[col.Name]) {
			order[i] += "::text"
		}
	}
	return order, nil
}
