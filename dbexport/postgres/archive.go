package postgres

import (
	"context"
	"fmt"
	"io"
	"strings"

	"strata/dbexport"
)

// The schema archive (docs/design.md, "Schema archive"): beside the
// catalog-built schema.json, a backup saves what pg_dump --schema-only
// writes, made inside the backup's own snapshot, so that every kind of
// object pg_dump knows (types, functions, triggers, policies, grants,
// partitions, ...) comes back the way pg_restore would bring it back.

var _ dbexport.SchemaArchiver = (*Source)(nil)

// notWithoutArchive names what a snapshot without a schema archive does
// not hold, for the warning a backup prints in that case.
const notWithoutArchive = "extensions, types (enum, domain, composite, range), functions, procedures, aggregates, operators, " +
	"triggers, rules, row-level security and policies, comments, grants and ownership, materialized views, " +
	"partitions (rows are restored into the parent as a plain table), inheritance, replica identity and statistics targets"

// dumpTool returns pg_dump when it can dump this server (its major
// version is the server's or newer, as pg_dump requires), else nil and
// the warning that says why and what is therefore not saved. It looks
// once per Source.
func (s *Source) dumpTool(ctx context.Context) (*tool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.toolChecked {
		return s.pgDump, s.noDump
	}
	s.toolChecked = true
	server := s.server
	t, err := findTool(ctx, "pg_dump", s.opts.PgDump)
	switch {
	case err != nil:
		s.noDump = fmt.Sprintf("no schema archive: %v; the snapshot holds tables, views and sequences built from the catalog, and not: %s (install pg_dump %d or later and back up again)",
			err, notWithoutArchive, serverMajor(server))
	case t.major < serverMajor(server):
		s.noDump = fmt.Sprintf("no schema archive: %s cannot dump PostgreSQL %s; the snapshot holds tables, views and sequences built from the catalog, and not: %s (install pg_dump %d or later and back up again)",
			t.version, server, notWithoutArchive, serverMajor(server))
	default:
		s.pgDump = t
	}
	return s.pgDump, s.noDump
}

// SchemaArchive runs pg_dump --schema-only --format=custom on the
// Source's exported snapshot (--snapshot), so the archive shows the
// schema the rows were read in, for the selected schemas (-n, with the
// extensions installed in them) or every schema, and writes it to w
// uncompressed (-Z 0: the repository compresses, and an unchanged schema
// then gives unchanged chunks). Without a usable pg_dump it writes
// nothing and returns nil; Schema has warned.
func (s *Source) SchemaArchive(ctx context.Context, w io.Writer) (*dbexport.SchemaArchive, []string, error) {
	t, _ := s.dumpTool(ctx)
	if t == nil {
		return nil, nil, nil
	}
	args := []string{"--schema-only", "--format=custom", "--compress=0", "--snapshot=" + s.snapshot}
	var warnings []string
	if len(s.opts.Schemas) > 0 {
		exts, err := s.extensionsIn(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("postgres: list extensions of %s: %w", s.dsn.String(), err)
		}
		for _, n := range s.opts.Schemas {
			args = append(args, "--schema="+dumpPattern(n))
		}
		if len(exts) > 0 && t.major < 14 {
			warnings = append(warnings, fmt.Sprintf("extensions %s are not in the schema archive: %s cannot select extensions (pg_dump 14 or later can); create them in the target before a restore",
				strings.Join(exts, ", "), t.version))
		} else {
			for _, e := range exts {
				args = append(args, "--extension="+dumpPattern(e))
			}
		}
	}
	if err := t.run(ctx, &s.dsn, s.opts, w, args...); err != nil {
		return nil, nil, fmt.Errorf("postgres: schema archive of %s: %w", s.dsn.String(), err)
	}
	return &dbexport.SchemaArchive{Format: dbexport.ArchivePgDumpCustom, Tool: t.version}, warnings, nil
}

// extensionsIn lists the extensions installed in the selected schemas.
func (s *Source) extensionsIn(ctx context.Context) ([]string, error) {
	c, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer s.release(c)
	var names []string
	rows, err := c.Query(ctx, `SELECT e.extname::text FROM pg_catalog.pg_extension e
		JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE n.nspname = ANY($1::text[]) ORDER BY 1`, nonNil(s.opts.Schemas))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// dumpPattern makes a name a pg_dump pattern that matches it alone:
// inside double quotes, * ? and . are literal and "" is a quote.
func dumpPattern(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
