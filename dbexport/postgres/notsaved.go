package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"strata/dbexport"
)

// databaseNotSaved names what the database holds beyond its schemas that
// a snapshot does not save, as warnings and entries of not_captured
// (docs/design.md, "PostgreSQL", "Not covered"): its large objects
// (pg_dump saves them, strata does not), and its own settings (ALTER
// DATABASE ... SET, also per role: pg_dump writes them only with
// --create, pg_dumpall with roles).
func databaseNotSaved(ctx context.Context, c *pgx.Conn, db string) (warnings, notCaptured []string, err error) {
	var objects, settings int64
	if err := c.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_catalog.pg_largeobject_metadata),
		(SELECT count(*) FROM pg_catalog.pg_db_role_setting s JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
			WHERE d.datname = pg_catalog.current_database())`).Scan(&objects, &settings); err != nil {
		return nil, nil, fmt.Errorf("count large objects and database settings: %w", err)
	}
	if objects > 0 {
		warnings = append(warnings, fmt.Sprintf("database %s holds %d large objects (pg_largeobject): they are not saved (pg_dump saves them; strata saves tables)", db, objects))
		notCaptured = append(notCaptured, fmt.Sprintf("%d large objects of database %s", objects, db))
	}
	if settings > 0 {
		warnings = append(warnings, fmt.Sprintf("database %s has %d sets of settings (ALTER DATABASE ... SET, or per role in it): they are not saved; set them again after a restore", db, settings))
		notCaptured = append(notCaptured, fmt.Sprintf("the settings of database %s (ALTER DATABASE ... SET)", db))
	}
	return warnings, notCaptured, nil
}

// listExtensions returns the extensions installed in the selected
// schemas (every schema but the system's without a selection) with their
// versions, by name.
func listExtensions(ctx context.Context, c *pgx.Conn, schemas []string) ([]dbexport.Extension, error) {
	rows, err := c.Query(ctx, `SELECT e.extname::text, n.nspname::text, e.extversion FROM pg_catalog.pg_extension e
		JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND (coalesce(cardinality($1::text[]), 0) = 0 OR n.nspname = ANY ($1::text[]))
		ORDER BY 1`, schemas)
	if err != nil {
		return nil, err
	}
	var out []dbexport.Extension
	var x dbexport.Extension
	_, err = pgx.ForEachRow(rows, []any{&x.Name, &x.Schema, &x.Version}, func() error {
		out = append(out, x)
		return nil
	})
	return out, err
}

// extensionVersions decides, per extension of the snapshot, the version
// its CREATE EXTENSION asks for: the snapshot's when the target can
// install it, else none (the target's default), which notes says.
func extensionVersions(ctx context.Context, c *pgx.Conn, s *dbexport.Schema) (map[string]string, map[string]string, error) {
	use, notes := map[string]string{}, map[string]string{}
	for _, x := range s.Extensions {
		var available bool
		var def *string
		if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_catalog.pg_available_extension_versions WHERE name = $1 AND version = $2),
			(SELECT default_version FROM pg_catalog.pg_available_extensions WHERE name = $1)`, x.Name, x.Version).Scan(&available, &def); err != nil {
			return nil, nil, fmt.Errorf("look up the versions of extension %s: %w", x.Name, err)
		}
		switch {
		case available:
			use[x.Name] = x.Version
		case def != nil:
			notes[x.Name] = fmt.Sprintf("extension %s: the snapshot's version %s cannot be installed in the target, which has %s: created at version %s", x.Name, x.Version, *def, *def)
		}
	}
	return use, notes, nil
}

// withVersion adds VERSION 'v' to pg_dump's CREATE EXTENSION statement,
// which has none: "CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA
// public;".
func withVersion(sql, version string) string {
	i := strings.Index(sql, "CREATE EXTENSION ")
	if i < 0 {
		return sql
	}
	j := strings.Index(sql[i:], ";")
	if j < 0 {
		return sql
	}
	j += i
	return sql[:j] + " VERSION " + quoteLiteral(version) + sql[j:]
}
